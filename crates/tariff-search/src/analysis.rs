//! The text analysis shared by descriptions, queries and synonyms.

use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    TextAnalyzer, TokenStream,
};

/// Name under which the analyzer is registered in the index.
pub(crate) const ANALYZER: &str = "portorium_en";

/// Words longer than this (in bytes) are dropped: no description has one, and they only cost.
const MAX_WORD_BYTES: usize = 40;

/// Simple tokenizer (split on non-alphanumerics), long words removed, lower case, accents folded
/// to ASCII, English Snowball stemmer.
pub(crate) fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_WORD_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// Words that carry no meaning on their own in a description (analysed like the text). A query
/// with other words requires one of those; these then only add to the score.
pub(crate) const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "if", "in", "into",
    "is", "it", "its", "no", "not", "of", "on", "or", "such", "than", "that", "the", "their",
    "then", "there", "these", "they", "this", "to", "was", "whether", "which", "with",
];

/// The analysed forms of [`STOPWORDS`].
pub(crate) fn stopwords(analyzer: &mut TextAnalyzer) -> Vec<String> {
    let mut out: Vec<String> = STOPWORDS
        .iter()
        .flat_map(|w| terms(analyzer, w, 1))
        .map(|t| t.text)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// A term of analysed text and its position (positions of dropped words are skipped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Term {
    pub position: usize,
    pub text: String,
}

/// The analysed terms of `text`, in order, at most `max`.
pub(crate) fn terms(analyzer: &mut TextAnalyzer, text: &str, max: usize) -> Vec<Term> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while out.len() < max && stream.advance() {
        let token = stream.token();
        out.push(Term {
            position: token.position,
            text: token.text.clone(),
        });
    }
    out
}
