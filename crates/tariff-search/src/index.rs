//! [`SearchIndex`]: the in-memory index and its queries.

use std::ops::Range;
use std::sync::Arc;

use chrono::NaiveDate;
use portorium_tariff::nomenclature::{GoodsCode, Nomenclature};
use tantivy::collector::{FilterCollector, TopDocs};
use tantivy::columnar::Column;
use tantivy::query::{
    BooleanQuery, BoostQuery, DisjunctionMaxQuery, EmptyQuery, FuzzyTermQuery, Occur, PhraseQuery,
    Query as TantivyQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{
    DocId, Index, IndexWriter, ReloadPolicy, Score, Searcher, SegmentReader, TantivyDocument, Term,
};

use crate::analysis::{self, analyzer, ANALYZER};
use crate::codes::{split_mixed, whole_query_code};
use crate::synonyms::{Synonyms, SynonymsError};

/// Weight of a match in the ancestors' descriptions, relative to the line's own description.
pub const CONTEXT_WEIGHT: f32 = 0.3;
/// Weight of a synonym's match, relative to a word of the query.
pub const SYNONYM_WEIGHT: f32 = 0.8;
/// Factor on the score of chapters and headings (indent 0 and 1): the heading is the legal unit
/// of classification, where a search should land first when its own words match.
pub const HEADING_PRIOR: f32 = 1.25;
/// Characters of a query beyond this are ignored.
pub const MAX_QUERY_CHARS: usize = 256;
/// Words of a query beyond this are ignored.
pub const MAX_TERMS: usize = 24;
/// Most hits one query returns.
pub const MAX_LIMIT: usize = 200;

/// In the max of the description and context scores of a word, how much the lesser counts.
const TIE_BREAKER: f32 = 0.1;
/// Words shorter than this (in analysed bytes) are not matched approximately.
const MIN_FUZZY_BYTES: usize = 5;
/// Score of a code match (code matches are in code order, not ranked).
const CODE_SCORE: f32 = 1.0;
/// Indexing memory budget; the whole CN fits in one segment well within it.
const WRITER_MEMORY: usize = 64 * 1024 * 1024;

/// Why a search or a build failed.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query text is blank.
    #[error("the query is empty")]
    EmptyQuery,
    /// The limit is 0 or above [`MAX_LIMIT`].
    #[error("limit must be between 1 and {max}, got {limit}")]
    Limit {
        /// The limit asked for.
        limit: usize,
        /// [`MAX_LIMIT`].
        max: usize,
    },
    /// The synonyms could not be read.
    #[error(transparent)]
    Synonyms(#[from] SynonymsError),
    /// The search engine failed (a bug or resource exhaustion, not bad input).
    #[error("search index: {0}")]
    Engine(#[from] tantivy::TantivyError),
}

/// What to search for.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    /// Words, a code (`"0103 92"`), or both.
    pub text: &'a str,
    /// Only lines valid on this date are returned.
    pub as_of: NaiveDate,
    /// Most hits to return, 1 to [`MAX_LIMIT`].
    pub limit: usize,
}

/// How a hit was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedBy {
    /// By its description (or its ancestors' descriptions, or a synonym).
    Text,
    /// By its code.
    Code,
}

/// One line found.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Goods code (10 digits) with its product-line suffix.
    pub code: GoodsCode,
    /// Product-line suffix, e.g. `"80"`.
    pub suffix: String,
    pub description: String,
    pub indent: u32,
    pub declarable: bool,
    /// BM25 relevance for text matches (higher is better); 1 for code matches.
    pub score: f32,
    pub matched_by: MatchedBy,
}

/// A line as the index keeps it.
#[derive(Debug)]
struct Entry {
    code: GoodsCode,
    suffix: String,
    description: String,
    indent: u32,
    declarable: bool,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
}

impl Entry {
    fn is_valid_on(&self, date: NaiveDate) -> bool {
        self.valid_from.is_none_or(|from| from <= date) && self.valid_to.is_none_or(|to| date <= to)
    }

    fn hit(&self, score: f32, matched_by: MatchedBy) -> Hit {
        Hit {
            code: self.code,
            suffix: self.suffix.clone(),
            description: self.description.clone(),
            indent: self.indent,
            declarable: self.declarable,
            score,
            matched_by,
        }
    }
}

/// The searchable nomenclature, in memory. Cheap to share (`Arc`) and safe to query from many
/// threads at once.
pub struct SearchIndex {
    /// Lines in code order; a line's position is its `ord` in the index.
    entries: Arc<[Entry]>,
    searcher: Searcher,
    /// The `ord` column of each segment.
    ords: Vec<Column<u64>>,
    description: Field,
    context: Field,
    analyzer: TextAnalyzer,
    /// Analysed stopwords, sorted.
    stopwords: Vec<String>,
    synonyms: Synonyms,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("lines", &self.entries.len())
            .field("synonym_groups", &self.synonyms.len())
            .finish_non_exhaustive()
    }
}

impl SearchIndex {
    /// Indexes every line of `nomenclature` (all validity periods) with the shipped synonyms.
    pub fn build(nomenclature: &Nomenclature) -> Result<Self, SearchError> {
        Self::build_with(nomenclature, Synonyms::shipped()?)
    }

    /// Indexes every line of `nomenclature` with the given synonyms.
    pub fn build_with(
        nomenclature: &Nomenclature,
        synonyms: Synonyms,
    ) -> Result<Self, SearchError> {
        let text = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        let mut schema = Schema::builder();
        let ord = schema.add_u64_field("ord", FAST);
        let description = schema.add_text_field("description", text.clone());
        let context = schema.add_text_field("context", text);
        let index = Index::create_in_ram(schema.build());
        index.tokenizers().register(ANALYZER, analyzer());

        let mut writer: IndexWriter = index.writer_with_num_threads(1, WRITER_MEMORY)?;
        let mut entries = Vec::with_capacity(nomenclature.len());
        for (i, item) in nomenclature.items().iter().enumerate() {
            let mut doc = TantivyDocument::new();
            doc.add_u64(ord, i as u64);
            doc.add_text(description, &item.description);
            for ancestor in nomenclature.ancestors(&item.code) {
                doc.add_text(context, &ancestor.description);
            }
            writer.add_document(doc)?;
            entries.push(Entry {
                code: item.code,
                suffix: item.suffix.clone(),
                description: item.description.clone(),
                indent: item.indent,
                declarable: item.declarable,
                valid_from: item.valid_from,
                valid_to: item.valid_to,
            });
        }
        writer.commit()?;
        writer.wait_merging_threads()?;

        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let searcher = reader.searcher();
        let ords = searcher
            .segment_readers()
            .iter()
            .map(|s| s.fast_fields().u64("ord"))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            entries: entries.into(),
            searcher,
            ords,
            description,
            context,
            stopwords: analysis::stopwords(&mut analyzer()),
            analyzer: analyzer(),
            synonyms,
        })
    }

    /// Number of lines indexed (all validity periods).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no line is indexed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Answers a query: code lookup, text search or both (see the crate documentation).
    pub fn search(&self, query: &Query<'_>) -> Result<Vec<Hit>, SearchError> {
        if query.limit == 0 || query.limit > MAX_LIMIT {
            return Err(SearchError::Limit {
                limit: query.limit,
                max: MAX_LIMIT,
            });
        }
        let text = truncate(query.text, MAX_QUERY_CHARS).trim();
        if text.is_empty() {
            return Err(SearchError::EmptyQuery);
        }
        if let Some(code) = whole_query_code(text) {
            let range = self.prefix_range(&code);
            if !range.is_empty() {
                return Ok(self.code_hits(range, query));
            }
        }
        let mixed = split_mixed(text, |code| !self.prefix_range(code).is_empty());
        if mixed.codes.is_empty() {
            return self.text_hits(text, &[], query);
        }
        let ranges: Vec<Range<usize>> = mixed.codes.iter().map(|c| self.prefix_range(c)).collect();
        let hits = if mixed.text.trim().is_empty() {
            ranges
                .iter()
                .flat_map(|r| self.code_hits(r.clone(), query))
                .take(query.limit)
                .collect()
        } else {
            self.text_hits(&mixed.text, &ranges, query)?
        };
        if hits.is_empty() {
            // The digits were perhaps a quantity after all: search them as words.
            return self.text_hits(text, &[], query);
        }
        Ok(hits)
    }

    /// The positions of the lines whose code starts with `prefix` (digits).
    fn prefix_range(&self, prefix: &str) -> Range<usize> {
        let entries = &self.entries;
        let start = entries.partition_point(|e| &e.code.as_str()[..prefix.len().min(10)] < prefix);
        let len = entries[start..].partition_point(|e| e.code.as_str().starts_with(prefix));
        start..start + len
    }

    fn code_hits(&self, range: Range<usize>, query: &Query<'_>) -> Vec<Hit> {
        self.entries[range]
            .iter()
            .filter(|e| e.is_valid_on(query.as_of))
            .take(query.limit)
            .map(|e| e.hit(CODE_SCORE, MatchedBy::Code))
            .collect()
    }

    /// Ranked text search, restricted to the lines in `ranges` when there are any.
    fn text_hits(
        &self,
        text: &str,
        ranges: &[Range<usize>],
        query: &Query<'_>,
    ) -> Result<Vec<Hit>, SearchError> {
        let mut analyzer = self.analyzer.clone();
        let terms = analysis::terms(&mut analyzer, text, MAX_TERMS);
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let hits = self.run(&self.build_query(&terms, false), ranges, query)?;
        if !hits.is_empty() {
            return Ok(hits);
        }
        // Nothing: perhaps a misspelling. Words long enough to judge are matched within one
        // edit (insertion, deletion, substitution or transposition).
        let long: Vec<analysis::Term> = terms
            .into_iter()
            .filter(|t| t.text.len() >= MIN_FUZZY_BYTES)
            .collect();
        if long.is_empty() {
            return Ok(hits);
        }
        self.run(&self.build_query(&long, true), ranges, query)
    }

    /// Runs a query: the best `limit` lines valid on the date (and in `ranges`, if any).
    fn run(
        &self,
        tantivy_query: &dyn TantivyQuery,
        ranges: &[Range<usize>],
        query: &Query<'_>,
    ) -> Result<Vec<Hit>, SearchError> {
        let valid = self.entries.clone();
        let ranges = ranges.to_vec();
        let as_of = query.as_of;
        let keep = move |ord: u64| {
            let i = usize::try_from(ord).unwrap_or(usize::MAX);
            (ranges.is_empty() || ranges.iter().any(|r| r.contains(&i)))
                && valid.get(i).is_some_and(|e| e.is_valid_on(as_of))
        };
        let entries = self.entries.clone();
        let prior = move |segment: &SegmentReader| {
            let ords = segment.fast_fields().u64("ord").ok();
            let entries = entries.clone();
            move |doc: DocId, score: Score| {
                let heading = ords
                    .as_ref()
                    .and_then(|c| c.first(doc))
                    .and_then(|ord| entries.get(usize::try_from(ord).ok()?))
                    .is_some_and(|e| e.indent <= 1);
                if heading {
                    score * HEADING_PRIOR
                } else {
                    score
                }
            }
        };
        let collector = FilterCollector::new(
            "ord".to_owned(),
            keep,
            TopDocs::with_limit(query.limit).tweak_score(prior),
        );
        let top = self.searcher.search(tantivy_query, &collector)?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let entry = self
                .ords
                .get(address.segment_ord as usize)
                .and_then(|column| column.first(address.doc_id))
                .and_then(|ord| usize::try_from(ord).ok())
                .and_then(|i| self.entries.get(i));
            if let Some(entry) = entry {
                hits.push(entry.hit(score, MatchedBy::Text));
            }
        }
        Ok(hits)
    }

    /// The query for analysed `terms`; `fuzzy` matches words within one edit instead.
    ///
    /// - Each word matches the description, or (weighted down) the ancestors' descriptions,
    ///   whichever scores more (a line is not rewarded twice for a word its heading repeats).
    /// - At least one word that is not a stopword (or a synonym of the query) must match; the
    ///   stopwords only add to the score. A query of stopwords only requires one of them.
    /// - A line with every such word gets their score again (coordination), and the whole query
    ///   as a phrase in the description adds to the score.
    fn build_query(&self, terms: &[analysis::Term], fuzzy: bool) -> BooleanQuery {
        let mut distinct: Vec<&str> = Vec::new();
        for t in terms {
            if !distinct.contains(&t.text.as_str()) {
                distinct.push(&t.text);
            }
        }
        let (mut content, mut stop): (Vec<&str>, Vec<&str>) = distinct.iter().partition(|w| {
            self.stopwords
                .binary_search_by(|s| s.as_str().cmp(w))
                .is_err()
        });
        if content.is_empty() {
            std::mem::swap(&mut content, &mut stop);
        }
        let word = |w: &str| self.either(&[(0, w)], 1.0, fuzzy);
        let mut required: Vec<Box<dyn TantivyQuery>> = content.iter().map(|w| word(w)).collect();
        if !fuzzy {
            let words: Vec<String> = terms.iter().map(|t| t.text.clone()).collect();
            for (synonym, matched) in self.synonyms.expand(&words) {
                let phrase: Vec<(usize, &str)> = synonym
                    .iter()
                    .enumerate()
                    .map(|(i, w)| (i, w.as_str()))
                    .collect();
                // A phrase scores the sum of its words: a synonym weighs like the words of the
                // query it replaces.
                let weight = SYNONYM_WEIGHT * matched as f32 / phrase.len() as f32;
                required.push(self.either(&phrase, weight, false));
            }
        }
        let mut clauses: Vec<(Occur, Box<dyn TantivyQuery>)> =
            vec![(Occur::Must, Box::new(BooleanQuery::union(required)))];
        for w in &stop {
            clauses.push((Occur::Should, word(w)));
        }
        if content.len() > 1 {
            let every: Vec<Box<dyn TantivyQuery>> = content.iter().map(|w| word(w)).collect();
            clauses.push((Occur::Should, Box::new(BooleanQuery::intersection(every))));
        }
        if terms.len() > 1 && !fuzzy {
            let phrase: Vec<(usize, &str)> = terms
                .iter()
                .map(|t| {
                    (
                        t.position.saturating_sub(terms[0].position),
                        t.text.as_str(),
                    )
                })
                .collect();
            clauses.push((
                Occur::Should,
                Box::new(self.phrase(self.description, &phrase)),
            ));
        }
        BooleanQuery::new(clauses)
    }

    /// A word or phrase in the description (`weight`) or the ancestors' descriptions (`weight`
    /// × [`CONTEXT_WEIGHT`]), scored by the better of the two.
    fn either(&self, words: &[(usize, &str)], weight: f32, fuzzy: bool) -> Box<dyn TantivyQuery> {
        let mut disjuncts: Vec<Box<dyn TantivyQuery>> = Vec::with_capacity(2);
        for (field, w) in [
            (self.description, weight),
            (self.context, weight * CONTEXT_WEIGHT),
        ] {
            let q: Box<dyn TantivyQuery> = match words {
                [] => Box::new(EmptyQuery),
                [(_, word)] if fuzzy => Box::new(FuzzyTermQuery::new(
                    Term::from_field_text(field, word),
                    1,
                    true,
                )),
                [(_, word)] => Box::new(TermQuery::new(
                    Term::from_field_text(field, word),
                    IndexRecordOption::WithFreqs,
                )),
                _ => Box::new(self.phrase(field, words)),
            };
            disjuncts.push(Box::new(BoostQuery::new(q, w)));
        }
        Box::new(DisjunctionMaxQuery::with_tie_breaker(
            disjuncts,
            TIE_BREAKER,
        ))
    }

    /// A phrase of at least two words.
    fn phrase(&self, field: Field, words: &[(usize, &str)]) -> PhraseQuery {
        PhraseQuery::new_with_offset(
            words
                .iter()
                .map(|(p, w)| (*p, Term::from_field_text(field, w)))
                .collect(),
        )
    }
}

/// At most `max` characters of `s`.
fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
