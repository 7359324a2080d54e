//! [`NomenclatureItem`] and the in-memory hierarchy [`Nomenclature`].

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::code::GoodsCode;
use super::error::{NomenclatureError, RecordRef};

/// One line of the goods nomenclature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NomenclatureItem {
    /// Goods code with suffix.
    pub code: GoodsCode,
    /// Product-line suffix, the same as `code.suffix()`.
    pub suffix: String,
    /// Indent: chapters are 0; a line's parent is the nearest preceding line (in code order)
    /// with a smaller indent.
    pub indent: u32,
    /// Description.
    pub description: String,
    /// Section (roman numeral), e.g. `"II"`.
    pub section: Option<String>,
    /// Supplementary unit, e.g. `"PST"`.
    pub supplementary_unit: Option<String>,
    /// First day of validity (inclusive).
    pub valid_from: Option<NaiveDate>,
    /// Last day of validity (inclusive).
    pub valid_to: Option<NaiveDate>,
    /// Whether goods can be declared under this line (suffix 80 and no children).
    pub declarable: bool,
}

impl NomenclatureItem {
    /// A line with the given code, indent and description; other fields empty, not declarable.
    pub fn new(code: GoodsCode, indent: u32, description: impl Into<String>) -> Self {
        Self {
            suffix: code.suffix().to_owned(),
            code,
            indent,
            description: description.into(),
            section: None,
            supplementary_unit: None,
            valid_from: None,
            valid_to: None,
            declarable: false,
        }
    }

    /// Whether the line is valid on `date` (open ends are unbounded).
    pub fn is_valid_on(&self, date: NaiveDate) -> bool {
        self.valid_from.is_none_or(|from| from <= date) && self.valid_to.is_none_or(|to| date <= to)
    }

    fn overlaps(&self, other: &Self) -> bool {
        let starts_before_other_ends = match (self.valid_from, other.valid_to) {
            (Some(from), Some(to)) => from <= to,
            _ => true,
        };
        let other_starts_before_end = match (other.valid_from, self.valid_to) {
            (Some(from), Some(to)) => from <= to,
            _ => true,
        };
        starts_before_other_ends && other_starts_before_end
    }
}

/// A section of the nomenclature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    /// Roman numeral, e.g. `"II"`.
    pub numeral: String,
    /// Title, when known.
    pub title: Option<String>,
}

/// An in-memory nomenclature tree. Lines are kept in TARIC order (code, then suffix).
#[derive(Debug, Clone, Default)]
pub struct Nomenclature {
    items: Vec<NomenclatureItem>,
    parent: Vec<Option<usize>>,
    children: Vec<Vec<usize>>,
    index: rustc_hash::FxHashMap<GoodsCode, usize>,
    sections: Vec<Section>,
}

impl Nomenclature {
    /// Builds the tree. Errors when an item's `suffix` differs from its code's suffix, or two
    /// lines share code and suffix with overlapping validity.
    pub fn new(mut items: Vec<NomenclatureItem>) -> Result<Self, NomenclatureError> {
        for (i, item) in items.iter().enumerate() {
            if item.suffix != item.code.suffix() {
                return Err(NomenclatureError::record(
                    "items",
                    RecordRef::Index(i),
                    "suffix",
                    format!(
                        "suffix `{}` differs from the code's suffix `{}`",
                        item.suffix,
                        item.code.suffix()
                    ),
                ));
            }
        }
        items.sort_by(|a, b| a.code.cmp(&b.code).then(a.valid_from.cmp(&b.valid_from)));
        for pair in items.windows(2) {
            if let [a, b] = pair {
                if a.code == b.code && a.overlaps(b) {
                    return Err(NomenclatureError::Duplicate { code: a.code });
                }
            }
        }
        Ok(Self::build_sorted(items))
    }

    /// Sets the section titles (e.g. from [`super::parse_hs2022_sections`]).
    pub fn with_sections(mut self, sections: Vec<Section>) -> Self {
        self.sections = sections;
        self
    }

    fn build_sorted(items: Vec<NomenclatureItem>) -> Self {
        let n = items.len();
        let mut parent = vec![None; n];
        let mut children = vec![Vec::new(); n];
        let mut stack: Vec<usize> = Vec::new();
        let mut index = rustc_hash::FxHashMap::default();
        index.reserve(n);
        let mut sections: Vec<Section> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            while stack
                .last()
                .is_some_and(|&top| items[top].indent >= item.indent)
            {
                stack.pop();
            }
            if let Some(&top) = stack.last() {
                parent[i] = Some(top);
                children[top].push(i);
            }
            stack.push(i);
            index.entry(item.code).or_insert(i);
            if let Some(s) = &item.section {
                if !sections.iter().any(|x| &x.numeral == s) {
                    sections.push(Section {
                        numeral: s.clone(),
                        title: None,
                    });
                }
            }
        }
        Self {
            items,
            parent,
            children,
            index,
            sections,
        }
    }

    /// Number of lines.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are no lines.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// All lines in TARIC order.
    pub fn items(&self) -> &[NomenclatureItem] {
        &self.items
    }

    /// The line with this code and suffix.
    pub fn get(&self, code: &GoodsCode) -> Option<&NomenclatureItem> {
        self.index.get(code).map(|&i| &self.items[i])
    }

    /// The parent line.
    pub fn parent(&self, code: &GoodsCode) -> Option<&NomenclatureItem> {
        let i = *self.index.get(code)?;
        self.parent[i].map(|p| &self.items[p])
    }

    /// The ancestors of a line, root (chapter) first; empty when the code is unknown.
    pub fn ancestors(&self, code: &GoodsCode) -> Vec<&NomenclatureItem> {
        let mut out = Vec::new();
        let mut cur = self.index.get(code).and_then(|&i| self.parent[i]);
        while let Some(i) = cur {
            out.push(&self.items[i]);
            cur = self.parent[i];
        }
        out.reverse();
        out
    }

    /// The direct children of a line in code order; empty when the code is unknown.
    pub fn children(&self, code: &GoodsCode) -> Vec<&NomenclatureItem> {
        self.index
            .get(code)
            .map(|&i| self.children[i].iter().map(|&c| &self.items[c]).collect())
            .unwrap_or_default()
    }

    /// The sections: those set by [`Self::with_sections`], otherwise those named by lines
    /// (without titles), in order of first appearance.
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    fn is_chapter(&self, i: usize) -> bool {
        self.parent[i].is_none() && self.items[i].code.significant().len() == 2
    }

    /// The chapters: top-level lines with a 2-digit code.
    pub fn chapters(&self) -> impl Iterator<Item = &NomenclatureItem> + '_ {
        (0..self.items.len())
            .filter(|&i| self.is_chapter(i))
            .map(|i| &self.items[i])
    }

    /// The headings: the children of chapters.
    pub fn headings(&self) -> impl Iterator<Item = &NomenclatureItem> + '_ {
        (0..self.items.len())
            .filter(|&i| self.parent[i].is_some_and(|p| self.is_chapter(p)))
            .map(|i| &self.items[i])
    }

    /// The lines whose code starts with `prefix` (digits; spaces and dots ignored), in code
    /// order. `"0702"` gives the heading and everything under it. A prefix with other
    /// characters or longer than 10 digits matches nothing.
    pub fn lookup_prefix(&self, prefix: &str) -> &[NomenclatureItem] {
        let p: String = prefix.chars().filter(|c| !matches!(c, ' ' | '.')).collect();
        if p.len() > 10 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return &[];
        }
        let start = self
            .items
            .partition_point(|it| &it.code.as_str()[..p.len()] < p.as_str());
        let len = self.items[start..].partition_point(|it| it.code.as_str().starts_with(&p));
        &self.items[start..start + len]
    }

    /// The declarable lines.
    pub fn declarable(&self) -> impl Iterator<Item = &NomenclatureItem> + '_ {
        self.items.iter().filter(|it| it.declarable)
    }

    /// The nomenclature valid on `date`: lines whose validity covers it, tree rebuilt.
    pub fn as_of(&self, date: NaiveDate) -> Self {
        let items = self
            .items
            .iter()
            .filter(|it| it.is_valid_on(date))
            .cloned()
            .collect();
        let mut n = Self::build_sorted(items);
        if self.sections.iter().any(|s| s.title.is_some()) {
            n.sections = self.sections.clone();
        }
        n
    }
}

/// Puts loader output in TARIC order and gives it suffixes and declarability: lines that
/// share a 10-digit code get `10`, `20`, … in tree order, the last one `80`; a line is
/// declarable when its suffix is `80`, it is not a chapter (indent 0; e.g. the empty chapter 77
/// is not declarable) and the next line is not indented deeper.
pub(crate) fn finish_loaded(items: &mut [NomenclatureItem]) -> Result<(), NomenclatureError> {
    items.sort_by(|a, b| {
        a.code
            .as_str()
            .cmp(b.code.as_str())
            .then(a.indent.cmp(&b.indent))
    });
    let mut i = 0;
    while i < items.len() {
        let mut j = i + 1;
        while j < items.len() && items[j].code.as_str() == items[i].code.as_str() {
            j += 1;
        }
        for (k, item) in items[i..j].iter_mut().enumerate() {
            let suffix = if i + k + 1 == j {
                "80".to_owned()
            } else {
                format!("{:02}", (k + 1).min(7) * 10)
            };
            item.code = item.code.set_suffix(&suffix)?;
            item.suffix = suffix;
        }
        i = j;
    }
    for i in 0..items.len() {
        let has_child = items.get(i + 1).is_some_and(|n| n.indent > items[i].indent);
        items[i].declarable =
            items[i].indent > 0 && items[i].code.has_declarable_suffix() && !has_child;
    }
    Ok(())
}
