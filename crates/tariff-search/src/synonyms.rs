//! Synonym groups for query expansion, read from a small text format.

use crate::analysis::{analyzer, terms};

/// The synonyms shipped with Portorium (`crates/tariff-search/synonyms.txt`).
pub const DEFAULT_SYNONYMS: &str = include_str!("../synonyms.txt");

/// Most words in one synonym term.
const MAX_TERM_WORDS: usize = 16;

/// Why a synonyms file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("synonyms line {line}: {reason}")]
pub struct SynonymsError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

/// Groups of equivalent terms, each term kept as its analysed words (stems).
///
/// The format: one group per line, terms separated by commas; a term may have several words.
/// Blank lines and lines starting with `#` are ignored. A group needs at least two terms, and
/// every term must have a searchable word.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Synonyms {
    groups: Vec<Vec<Vec<String>>>,
}

impl Synonyms {
    /// Parses the format above.
    pub fn parse(text: &str) -> Result<Self, SynonymsError> {
        let mut analyzer = analyzer();
        let mut groups = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |reason: String| SynonymsError {
                line: i + 1,
                reason,
            };
            let mut group: Vec<Vec<String>> = Vec::new();
            for term in line.split(',') {
                let words: Vec<String> = terms(&mut analyzer, term, MAX_TERM_WORDS + 1)
                    .into_iter()
                    .map(|t| t.text)
                    .collect();
                if words.is_empty() {
                    return Err(err(format!(
                        "term `{}` has no searchable word",
                        term.trim()
                    )));
                }
                if words.len() > MAX_TERM_WORDS {
                    return Err(err(format!(
                        "term `{}` has more than {MAX_TERM_WORDS} words",
                        term.trim()
                    )));
                }
                if !group.contains(&words) {
                    group.push(words);
                }
            }
            if group.len() < 2 {
                return Err(err("a group needs at least two different terms".to_owned()));
            }
            groups.push(group);
        }
        Ok(Self { groups })
    }

    /// The shipped synonyms.
    pub fn shipped() -> Result<Self, SynonymsError> {
        Self::parse(DEFAULT_SYNONYMS)
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// Whether there are no groups.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// The terms to search in addition to `query` (analysed words): for every group with a term
    /// occurring in the query as consecutive words, the group's other terms not occurring in
    /// the query, each with the number of words of the longest term of its group found in the
    /// query. Each expansion appears once.
    pub(crate) fn expand(&self, query: &[String]) -> Vec<(&[String], usize)> {
        let mut out: Vec<(&[String], usize)> = Vec::new();
        for group in &self.groups {
            let present = |t: &Vec<String>| query.windows(t.len()).any(|w| w == t.as_slice());
            let Some(matched) = group.iter().filter(|t| present(t)).map(Vec::len).max() else {
                continue;
            };
            for term in group.iter().filter(|t| !present(t)) {
                match out.iter_mut().find(|(t, _)| *t == term.as_slice()) {
                    Some((_, m)) => *m = (*m).max(matched),
                    None => out.push((term, matched)),
                }
            }
        }
        out
    }
}
