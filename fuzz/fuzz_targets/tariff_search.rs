//! Tariff search with any query text: never panics and never fails except on a blank query.
#![no_main]
use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use portorium_tariff::nomenclature::{GoodsCode, Nomenclature, NomenclatureItem};
use portorium_tariff_search::{Query, SearchError, SearchIndex};
use std::sync::OnceLock;

fn index() -> &'static SearchIndex {
    static INDEX: OnceLock<SearchIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let lines = [
            ("0100000000", 0, "Live animals", false),
            ("0101000000", 1, "Live horses, asses, mules and hinnies", false),
            ("0101210000", 2, "Pure-bred breeding animals", true),
            ("8517000000", 0, "Telephone sets, including smartphones", false),
            ("8517130000", 1, "Smartphones", true),
        ];
        let items = lines
            .iter()
            .map(|(code, indent, desc, declarable)| {
                let mut i = NomenclatureItem::new(GoodsCode::new(code).expect("code"), *indent, *desc);
                i.declarable = *declarable;
                i
            })
            .collect();
        SearchIndex::build(&Nomenclature::new(items).expect("tree")).expect("index")
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let q = Query {
        text: &text,
        as_of: NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
        limit: 20,
    };
    match index().search(&q) {
        Ok(_) => {}
        // Blank (within the query length the index reads).
        Err(SearchError::EmptyQuery) => {}
        Err(e) => panic!("search failed on {text:?}: {e}"),
    }
});
