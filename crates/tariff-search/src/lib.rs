//! Tariff search: full-text search over the descriptions of the goods nomenclature, and code
//! lookup by prefix, answered as of a date.
//!
//! - [`SearchIndex::build`] indexes a [`Nomenclature`](portorium_tariff::nomenclature::Nomenclature)
//!   in memory (tantivy over a RAM directory: no file IO).
//! - [`SearchIndex::search`] answers a [`Query`] with [`Hit`]s.
//!
//! # What a query means
//!
//! - **Code lookup**: a query made only of digits, spaces and dots with 2, 4, 6, 8 or 10 digits
//!   (`"01"`, `"0103 92"`, `"8471.30"`, `"0103921100"`) returns the lines under that prefix in
//!   code order, so the line of the code itself comes first. When no line has that prefix, the
//!   digits are searched as text instead.
//! - **Text search**: words are analysed like the descriptions (split on non-alphanumerics,
//!   lower-cased, accents folded to ASCII, English Snowball stemming), so `"horse"` finds
//!   `"Horses"`. Ranking is BM25:
//!   - each line is indexed with its own description and, in a second field, the descriptions
//!     of its ancestors. A word scores by the better of the two, the ancestors' weighted by
//!     [`CONTEXT_WEIGHT`]: the many lines that only say `"Other"` or `"Boneless"` are found
//!     through their heading, below the lines whose own description matches;
//!   - at least one word that is not a stopword (`of`, `and`, `the`, …) must match; stopwords
//!     only add to the score (`"Of bison"` finds nothing rather than every line saying `of`);
//!   - a line with all the words scores their sum again (coordination), the whole query as a
//!     phrase adds to the score, and chapters and headings get [`HEADING_PRIOR`];
//!   - synonyms (see [`Synonyms`] and the shipped `synonyms.txt`) expand the query: when it
//!     contains a term of a group, the other terms of the group are searched too, multi-word
//!     terms as phrases, weighted by [`SYNONYM_WEIGHT`];
//!   - when nothing matches, words of 5 letters or more are matched within one edit
//!     (`"Chlorofibers"`, typos).
//! - **Mixed**: in a query with words, a run of digits that forms a 4-, 6-, 8- or 10-digit code
//!   present in the nomenclature (and is not a round number such as `"2500"`, i.e. does not
//!   reduce to a chapter) restricts the text search to lines under that code:
//!   `"8471 portable"`. When that leaves nothing, the query is run again with the digits as
//!   plain words.
//! - **As of**: only lines valid on the query's date are returned.
//! - **Hostile input** never fails: the text is never given to a query parser, so query-syntax
//!   characters are plain separators; input is cut at [`MAX_QUERY_CHARS`] characters and
//!   [`MAX_TERMS`] words. A query that is blank is [`SearchError::EmptyQuery`].
//!
//! Ancestors (for the context field) are taken in the tree of all lines; they differ from the
//! tree as of a date only where two versions of a line overlap in code order, which affects
//! ranking weight only, never which lines are valid.

mod analysis;
mod codes;
mod index;
mod synonyms;

pub use index::{
    Hit, MatchedBy, Query, SearchError, SearchIndex, CONTEXT_WEIGHT, HEADING_PRIOR, MAX_LIMIT,
    MAX_QUERY_CHARS, MAX_TERMS, SYNONYM_WEIGHT,
};
pub use synonyms::{Synonyms, SynonymsError, DEFAULT_SYNONYMS};
