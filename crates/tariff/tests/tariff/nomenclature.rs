//! Nomenclature tests.

use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::NaiveDate;
use portorium_tariff::nomenclature::csv::parse_csv;
use portorium_tariff::nomenclature::{
    detect, parse_cn2026, parse_cn2026_sections, parse_hs2022, parse_hs2022_sections, GoodsCode,
    Nomenclature, NomenclatureError, NomenclatureFormat, NomenclatureItem, RecordRef,
};
use proptest::prelude::*;

/// Runs every case and reports all mismatches at once.
fn check<I: Debug, O: Debug + PartialEq>(cases: &[(I, O)], f: impl Fn(&I) -> O) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(input, want)| {
            let got = f(input);
            (got != *want)
                .then(|| format!("  input {input:?}\n    want {want:?}\n     got {got:?}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

fn reference_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("PORTORIUM_REFERENCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference"));
    if dir.join("tariff").is_dir() {
        Some(dir.join("tariff"))
    } else {
        eprintln!("SKIPPED: reference data not found at {}", dir.display());
        None
    }
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn code(s: &str) -> GoodsCode {
    GoodsCode::from_prefix(s).unwrap()
}

// ---------------------------------------------------------------- GoodsCode

#[test]
fn goods_code_validation() {
    check(
        &[
            ("0702000000", Ok("0702000000-80".to_owned())),
            ("9999999999", Ok("9999999999-80".to_owned())),
            ("0702 00 00 00", Ok("0702000000-80".to_owned())),
            ("0702000000-10", Ok("0702000000-10".to_owned())),
            ("0702000000/80", Ok("0702000000-80".to_owned())),
            ("", Err("goods code is empty".to_owned())),
            (
                "070200000",
                Err("goods code `070200000` has 9 digits, expected 10".to_owned()),
            ),
            (
                "07020000000",
                Err("goods code `07020000000` has 11 digits, expected 10".to_owned()),
            ),
            (
                "07020a0000",
                Err("goods code `07020a0000` contains a non-digit at position 6".to_owned()),
            ),
            (
                "0000000000",
                Err("goods code `0000000000` has chapter 00".to_owned()),
            ),
            (
                "０７０２000000",
                Err("goods code `０７０２000000` contains a non-digit at position 1".to_owned()),
            ),
        ],
        |s| {
            s.parse::<GoodsCode>()
                .map(|c| format!("{c:#}"))
                .map_err(|e| e.to_string())
        },
    );
    check(
        &[
            (("0702000000", "80"), true),
            (("0702000000", "10"), true),
            (("0702000000", "8"), false),
            (("0702000000", "8a"), false),
            (("0702000000", "800"), false),
        ],
        |(c, s)| GoodsCode::with_suffix(c, s).is_ok(),
    );
}

#[test]
fn goods_code_parts_and_prefixes() {
    let c = GoodsCode::new("0702001000").unwrap();
    assert_eq!(
        (
            c.chapter(),
            c.heading(),
            c.subheading(),
            c.cn(),
            c.as_str(),
            c.suffix()
        ),
        ("07", "0702", "070200", "07020010", "0702001000", "80")
    );
    assert!(c.has_declarable_suffix());
    assert_eq!(c.to_string(), "0702001000");
    check(
        &[
            ("", true),
            ("07", true),
            ("0702", true),
            ("0702 00 10", true),
            ("0702.00.10.00", true),
            ("0702001000", true),
            ("07020010000", false),
            ("0703", false),
            ("7", false),
            ("x", false),
        ],
        |p| c.starts_with_prefix(p),
    );
    check(
        &[
            ("07", Ok("0700000000".to_owned())),
            ("0702", Ok("0702000000".to_owned())),
            ("070200", Ok("0702000000".to_owned())),
            ("07020010", Ok("0702001000".to_owned())),
            ("0702001011", Ok("0702001011".to_owned())),
            ("070", Err(())),
            ("0", Err(())),
            ("", Err(())),
            ("00", Err(())),
            ("07a2", Err(())),
            ("070200101100", Err(())),
        ],
        |p| {
            GoodsCode::from_prefix(p)
                .map(|c| c.as_str().to_owned())
                .map_err(|_| ())
        },
    );
    assert_eq!(code("0702").significant(), "0702");
    assert_eq!(code("07020010").significant(), "07020010");
    assert_eq!(code("07").significant(), "07");
    // serde round trip keeps the suffix.
    let with = GoodsCode::with_suffix("0702000000", "10").unwrap();
    let json = serde_json::to_string(&with).unwrap();
    assert_eq!(json, "\"0702000000-10\"");
    assert_eq!(serde_json::from_str::<GoodsCode>(&json).unwrap(), with);
}

// ---------------------------------------------------------------- CSV

#[test]
fn csv_parser_cases() {
    let v = |rows: &[&[&str]]| -> Result<Vec<Vec<String>>, usize> {
        Ok(rows
            .iter()
            .map(|r| r.iter().map(|s| s.to_string()).collect())
            .collect())
    };
    check(
        &[
            ("a,b,c", v(&[&["a", "b", "c"]])),
            ("a,b\r\nc,d\r\n", v(&[&["a", "b"], &["c", "d"]])),
            ("a,b\nc,d", v(&[&["a", "b"], &["c", "d"]])),
            ("a\rb", v(&[&["a"], &["b"]])),
            ("\"a,b\",c", v(&[&["a,b", "c"]])),
            ("\"say \"\"hi\"\"\",x", v(&[&["say \"hi\"", "x"]])),
            (
                "\"multi\r\nline\",x\r\ny,z",
                v(&[&["multi\r\nline", "x"], &["y", "z"]]),
            ),
            ("\"\"", v(&[&[""]])),
            ("a,", v(&[&["a", ""]])),
            (",", v(&[&["", ""]])),
            ("a\n\nb", v(&[&["a"], &[""], &["b"]])),
            ("\u{feff}x,y", v(&[&["x", "y"]])),
            ("é,\"ü,ß\"", v(&[&["é", "ü,ß"]])),
            ("", v(&[])),
            ("\"open", Err(1)),
            ("a\n\"x\ny", Err(2)),
            ("a\n\"x\"y", Err(2)),
            ("a\nb\"c", Err(2)),
        ],
        |input| {
            parse_csv(input)
                .map(|recs| recs.into_iter().map(|r| r.fields).collect())
                .map_err(|e| e.line)
        },
    );
    // Records know their starting line, across quoted line breaks.
    let recs = parse_csv("h\r\n\"a\r\nb\"\r\nc\r\n").unwrap();
    assert_eq!(
        recs.iter().map(|r| r.line).collect::<Vec<_>>(),
        vec![1, 2, 4]
    );
}

// ---------------------------------------------------------------- tree

fn line(c: &str, suffix: &str, indent: u32, d: &str) -> NomenclatureItem {
    let code = GoodsCode::with_suffix(c, suffix).unwrap();
    let mut it = NomenclatureItem::new(code, indent, d);
    it.declarable = suffix == "80";
    it
}

fn small_tree() -> Nomenclature {
    // Deliberately out of order: the tree sorts by code then suffix.
    Nomenclature::new(vec![
        line("0702000000", "80", 1, "Tomatoes"),
        line("0700000000", "80", 0, "Vegetables"),
        line("0701000000", "80", 1, "Potatoes"),
        line("0701100000", "80", 2, "Seed"),
        line("0701900000", "80", 2, "Other"),
        line("0702001000", "80", 2, "Small"),
        line("0702009000", "10", 2, "Other"),
        line("0702009100", "80", 3, "In trusses"),
        line("0702009900", "80", 3, "Other"),
        line("0800000000", "80", 0, "Fruit"),
        line("0801000000", "80", 1, "Nuts"),
    ])
    .unwrap()
}

#[test]
fn tree_parents_and_children() {
    let t = small_tree();
    assert_eq!(t.len(), 11);
    let parent_of = |c: &str, s: &str| {
        t.parent(&GoodsCode::with_suffix(c, s).unwrap())
            .map(|p| format!("{:#}", p.code))
    };
    check(
        &[
            (("0700000000", "80"), None),
            (("0701000000", "80"), Some("0700000000-80".to_owned())),
            (("0701900000", "80"), Some("0701000000-80".to_owned())),
            (("0702000000", "80"), Some("0700000000-80".to_owned())),
            (("0702009000", "10"), Some("0702000000-80".to_owned())),
            (("0702009900", "80"), Some("0702009000-10".to_owned())),
            (("0801000000", "80"), Some("0800000000-80".to_owned())),
            (("0801000000", "10"), None),
        ],
        |(c, s)| parent_of(c, s),
    );
    let kids: Vec<_> = t
        .children(&code("0702"))
        .iter()
        .map(|i| i.description.clone())
        .collect();
    assert_eq!(kids, ["Small", "Other"]);
    let anc: Vec<_> = t
        .ancestors(&code("07020099"))
        .iter()
        .map(|i| i.description.clone())
        .collect();
    assert_eq!(anc, ["Vegetables", "Tomatoes", "Other"]);
    assert_eq!(t.chapters().count(), 2);
    assert_eq!(t.headings().count(), 3);
    assert_eq!(t.lookup_prefix("0702").len(), 5);
    assert_eq!(t.lookup_prefix("0702 00 9").len(), 3);
    assert_eq!(t.lookup_prefix("09").len(), 0);
    assert_eq!(t.lookup_prefix("x").len(), 0);
    assert_eq!(t.lookup_prefix("").len(), 11);
    assert!(t.ancestors(&code("0999")).is_empty());
}

#[test]
fn tree_validity_and_duplicates() {
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    let mut old = line("0702000000", "80", 1, "old");
    old.valid_to = Some(d(2025, 12, 31));
    let mut new = line("0702000000", "80", 1, "new");
    new.valid_from = Some(d(2026, 1, 1));
    let chapter = line("0700000000", "80", 0, "ch");
    let t = Nomenclature::new(vec![chapter.clone(), old.clone(), new.clone()]).unwrap();
    assert_eq!(t.len(), 3);
    let t25 = t.as_of(d(2025, 6, 1));
    assert_eq!(t25.len(), 2);
    assert_eq!(t25.get(&code("0702")).unwrap().description, "old");
    assert_eq!(
        t.as_of(d(2026, 1, 1))
            .get(&code("0702"))
            .unwrap()
            .description,
        "new"
    );
    // Overlapping duplicates are rejected.
    let err = Nomenclature::new(vec![chapter, new.clone(), new]).unwrap_err();
    assert!(matches!(err, NomenclatureError::Duplicate { .. }), "{err}");
    // Suffix field must agree with the code.
    let mut bad = line("0702000000", "80", 1, "x");
    bad.suffix = "10".into();
    let err = Nomenclature::new(vec![bad]).unwrap_err();
    assert_eq!(
        (err.record_ref(), err.field()),
        (Some(RecordRef::Index(0)), Some("suffix"))
    );
}

// ---------------------------------------------------------------- HS loader, small

const HS_SMALL: &str = "section,hscode,description,parent,level\r\n\
I,01,Animals; live,TOTAL,2\r\n\
I,0101,\"Horses, asses, mules and hinnies; live\",01,4\r\n\
I,010121,\"Horses; live, pure-bred breeding animals\",0101,6\r\n\
II,07,Vegetables,TOTAL,2\r\n\
II,0702,\"Tomatoes; fresh or chilled\",07,4\r\n\
II,070200,\"Tomatoes; fresh or chilled\",0702,6\r\n\
TOTAL,TOTAL,Total of all HS2022 commodities,TOTAL,5\r\n";

#[test]
fn hs_small_sample() {
    let items = parse_hs2022(HS_SMALL, Some("section,name\nI,Animals\nII,Vegetables\n")).unwrap();
    let got: Vec<_> = items
        .iter()
        .map(|i| (format!("{:#}", i.code), i.indent, i.declarable))
        .collect();
    assert_eq!(
        got,
        vec![
            ("0100000000-80".to_owned(), 0, false),
            ("0101000000-80".to_owned(), 1, false),
            ("0101210000-80".to_owned(), 2, true),
            ("0700000000-80".to_owned(), 0, false),
            ("0702000000-10".to_owned(), 1, false),
            ("0702000000-80".to_owned(), 2, true),
        ]
    );
    assert_eq!(
        items[1].description,
        "Horses, asses, mules and hinnies; live"
    );
    let t = Nomenclature::new(items).unwrap();
    let anc: Vec<_> = t
        .ancestors(&code("0702"))
        .iter()
        .map(|i| format!("{:#}", i.code))
        .collect();
    assert_eq!(anc, ["0700000000-80", "0702000000-10"]);
}

/// `Ok`, or the record and field an error names.
type Outcome = Result<(), (RecordRef, Option<String>)>;

#[test]
fn malformed_inputs_name_record_and_field() {
    let hs = |rows: &str| {
        parse_hs2022(
            &format!("section,hscode,description,parent,level\n{rows}"),
            None,
        )
    };
    let cases: Vec<(String, Outcome)> = vec![
        ("I,01,x,TOTAL,2\n".into(), Ok(())),
        (
            "I,01,x,TOTAL,2\nI,0101,x,01,4\nI,01x1,x,01,4\n".into(),
            Err((RecordRef::Line(4), Some("hscode".into()))),
        ),
        (
            "I,01,x,TOTAL,2\nI,0101,x,02,4\n".into(),
            Err((RecordRef::Line(3), Some("parent".into()))),
        ),
        (
            "I,01,x,TOTAL,seven\n".into(),
            Err((RecordRef::Line(2), Some("level".into()))),
        ),
        (
            "I,01,x,TOTAL,3\n".into(),
            Err((RecordRef::Line(2), Some("level".into()))),
        ),
        (
            "I,010,x,TOTAL,2\n".into(),
            Err((RecordRef::Line(2), Some("hscode".into()))),
        ),
        (
            "1,01,x,TOTAL,2\n".into(),
            Err((RecordRef::Line(2), Some("section".into()))),
        ),
        (
            "I,01,x,TOTAL\n".into(),
            Err((RecordRef::Line(2), Some("*".into()))),
        ),
        ("I,01,\"x,TOTAL,2\n".into(), Err((RecordRef::Line(2), None))),
    ];
    check(&cases, |input| {
        hs(input)
            .map(|_| ())
            .map_err(|e| (e.record_ref().unwrap(), e.field().map(str::to_owned)))
    });
    // Header and section file problems.
    assert!(matches!(
        parse_hs2022("", None),
        Err(NomenclatureError::Header { .. })
    ));
    assert!(matches!(
        parse_hs2022("a,b\n", None),
        Err(NomenclatureError::Header { .. })
    ));
    let e = parse_hs2022(HS_SMALL, Some("section,name\nI,Animals\n")).unwrap_err();
    assert_eq!(
        (e.record_ref(), e.field()),
        (Some(RecordRef::Line(5)), Some("section"))
    );
    assert!(e.to_string().contains("line 5"), "{e}");

    // CN: JSON index and field.
    let secs = r#"[{"code":"I","name":"A"}]"#;
    let chs = r#"[{"code":"01","name":"LIVE","section":"I"}]"#;
    let hds = r#"[{"code":"0101","name":"Horses","chapter":"01","section":"I"}]"#;
    let subs = "[]";
    let cn = |codes: &str| parse_cn2026(secs, chs, hds, subs, codes);
    let ok = r#"{"code":"01012100","name":"Pure","subheading":null,"heading":"0101","chapter":"01","section":"I","supplementaryUnit":"PST"}"#;
    let cases: Vec<(String, Outcome)> = vec![
        (format!("[{ok}]"), Ok(())),
        (format!("[{ok},{{\"code\":\"0101210\",\"name\":\"x\",\"chapter\":\"01\",\"section\":\"I\"}}]"), Err((RecordRef::Index(1), Some("code".into())))),
        (format!("[{ok},{{\"name\":\"x\",\"chapter\":\"01\",\"section\":\"I\"}}]"), Err((RecordRef::Index(1), Some("code".into())))),
        (format!("[{ok},{ok},{{\"code\":5,\"name\":\"x\",\"chapter\":\"01\",\"section\":\"I\"}}]"), Err((RecordRef::Index(2), Some("code".into())))),
        (format!("[{ok},{ok}]"), Err((RecordRef::Index(1), Some("code".into())))),
        (r#"[{"code":"01012100","name":"x","heading":"0102","chapter":"01","section":"I"}]"#.into(), Err((RecordRef::Index(0), Some("heading".into())))),
        (r#"[{"code":"01012100","name":"x","heading":"0201","chapter":"01","section":"I"}]"#.into(), Err((RecordRef::Index(0), Some("heading".into())))),
        (r#"[{"code":"01012100","name":"x","subheading":"010121","chapter":"01","section":"I"}]"#.into(), Err((RecordRef::Index(0), Some("subheading".into())))),
        (r#"[{"code":"01012100","name":"x","chapter":"01","section":"IX"}]"#.into(), Err((RecordRef::Index(0), Some("section".into())))),
        (r#"[{"code":"01012100","name":"x","chapter":"01","section":"I"}"#.into(), Err((RecordRef::Document, None))),
        (r#"[{"code":"01012100","name":"x","chapter":"01","section":"I"}] x"#.into(), Err((RecordRef::Document, None))),
        (r#"{"code":"01012100"}"#.into(), Err((RecordRef::Document, None))),
    ];
    check(&cases, |input| {
        cn(input)
            .map(|_| ())
            .map_err(|e| (e.record_ref().unwrap(), e.field().map(str::to_owned)))
    });
    let e = cn(&format!("[{ok},{ok}]")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cnCodes_2026.json: record [1]: field `code`: duplicate code `01012100`"
    );
}

// ---------------------------------------------------------------- detect

#[test]
fn detect_formats() {
    use NomenclatureFormat::*;
    check(
        &[
            ("section,hscode,description,parent,level\nI,01,x,TOTAL,2\n", Some(Hs2022Csv)),
            ("\u{feff}section,hscode,description,parent,level\r\n", Some(Hs2022Csv)),
            ("\u{feff}section,name\r\nI,live animals\r\n", Some(Hs2022SectionsCsv)),
            ("section,name,extra\n", None),
            ("hscode,description\n", None),
            (r#"[{"code": "I", "rawCode": "I", "name": "LIVE", "version": 2026}]"#, Some(CnSectionsJson)),
            (r#"[{"code": "01", "name": "LIVE", "section": "I"}]"#, Some(CnChaptersJson)),
            (r#"[{"code": "0101", "name": "Horses {x}", "chapter": "01", "section": "I"}]"#, Some(CnHeadingsJson)),
            (" \n[ {\"code\": \"070200\", \"name\": \"T\\\"}\", \"heading\": null, \"chapter\": \"07\"}, {\"trunc", Some(CnSubheadingsJson)),
            (r#"[{"code": "07020010", "subheading": "070200", "heading": null, "supplementaryUnit": null}]"#, Some(CnCodesJson)),
            ("[]", None),
            ("[1, 2]", None),
            ("[{\"code\": \"x\"", None),
            ("{\"code\": \"01\", \"section\": \"I\"}", None),
            ("", None),
            ("\u{0}\u{1}garbage", None),
        ],
        |s| detect(s.as_bytes()),
    );
    assert_eq!(detect(b"\xff\xfe,,"), None);
}

// ---------------------------------------------------------------- full reference data

#[test]
fn full_hs2022_loads() {
    let Some(dir) = reference_dir() else { return };
    let csv = read(&dir, "hs2022_harmonized-system.csv");
    let sections_csv = read(&dir, "hs2022_sections.csv");
    assert_eq!(detect(csv.as_bytes()), Some(NomenclatureFormat::Hs2022Csv));
    assert_eq!(
        detect(sections_csv.as_bytes()),
        Some(NomenclatureFormat::Hs2022SectionsCsv)
    );
    let t0 = Instant::now();
    let items = parse_hs2022(&csv, Some(&sections_csv)).unwrap();
    let t = Nomenclature::new(items)
        .unwrap()
        .with_sections(parse_hs2022_sections(&sections_csv).unwrap());
    eprintln!("HS 2022: {} lines loaded in {:?}", t.len(), t0.elapsed());
    assert_eq!(t.len(), 6939);
    assert_eq!(t.chapters().count(), 97);
    assert_eq!(t.headings().count(), 1229);
    assert_eq!(t.items().iter().filter(|i| i.indent == 2).count(), 5613);
    assert_eq!(t.declarable().count(), 5613);
    assert_eq!(t.sections().len(), 21);
    assert_eq!(t.sections()[1].numeral, "II");
    let anc: Vec<_> = t
        .ancestors(&code("010121"))
        .iter()
        .map(|i| i.code.significant().to_owned())
        .collect();
    assert_eq!(anc, ["01", "0101"]);
}

#[test]
fn full_cn2026_loads() {
    let Some(dir) = reference_dir() else { return };
    let files: Vec<String> = ["Sections", "Chapters", "Headings", "Subheadings", "Codes"]
        .iter()
        .map(|n| read(&dir, &format!("cn2026/cn{n}_2026.json")))
        .collect();
    let want = [
        NomenclatureFormat::CnSectionsJson,
        NomenclatureFormat::CnChaptersJson,
        NomenclatureFormat::CnHeadingsJson,
        NomenclatureFormat::CnSubheadingsJson,
        NomenclatureFormat::CnCodesJson,
    ];
    for (f, w) in files.iter().zip(want) {
        assert_eq!(detect(f.as_bytes()), Some(w));
        assert_eq!(
            detect(&f.as_bytes()[..f.len().min(4096)]),
            Some(w),
            "prefix only"
        );
    }
    let t0 = Instant::now();
    let items = parse_cn2026(&files[0], &files[1], &files[2], &files[3], &files[4]).unwrap();
    let parsed = t0.elapsed();
    let t = Nomenclature::new(items)
        .unwrap()
        .with_sections(parse_cn2026_sections(&files[0]).unwrap());
    eprintln!(
        "CN 2026: {} lines parsed in {parsed:?}, tree built in {:?}",
        t.len(),
        t0.elapsed()
    );
    assert_eq!(t.len(), 97 + 957 + 1835 + 9791);
    assert_eq!(t.sections().len(), 21);
    assert_eq!(t.chapters().count(), 97);

    // All 9,791 CN8 codes are present, declarable, as 10-digit codes ending in 00.
    let cn8: Vec<_> = t.items().iter().filter(|i| i.declarable).collect();
    assert_eq!(cn8.len(), 9791);
    assert!(cn8
        .iter()
        .all(|i| i.code.as_str().ends_with("00") && i.suffix == "80"));
    let with_unit = cn8
        .iter()
        .filter(|i| i.supplementary_unit.is_some())
        .count();
    assert_eq!(with_unit, 9791 - 7080);
    assert_eq!(
        t.get(&code("01012100"))
            .unwrap()
            .supplementary_unit
            .as_deref(),
        Some("PST")
    );
    assert_eq!(t.get(&code("07020010")).unwrap().supplementary_unit, None);
    assert_eq!(
        t.get(&code("07020010")).unwrap().description,
        "Whole tomatoes, with greatest diameter of less than 47 mm"
    );

    // Tomatoes: chapter 07 → heading 0702 (the 0702 00 line) → CN8.
    let anc: Vec<_> = t
        .ancestors(&code("07020010"))
        .iter()
        .map(|i| (format!("{:#}", i.code), i.indent, i.description.clone()))
        .collect();
    assert_eq!(
        anc,
        vec![
            (
                "0700000000-80".to_owned(),
                0,
                "EDIBLE VEGETABLES AND CERTAIN ROOTS AND TUBERS".to_owned()
            ),
            (
                "0702000000-80".to_owned(),
                1,
                "Tomatoes, fresh or chilled".to_owned()
            ),
        ]
    );
    // A deeper one: chapter 01 → heading 0101 → subheading 0101 29 → 0101 29 10.
    let anc: Vec<_> = t
        .ancestors(&code("01012910"))
        .iter()
        .map(|i| i.code.significant().to_owned())
        .collect();
    assert_eq!(anc, ["01", "0101", "010129"]);
    assert_eq!(
        t.children(&code("010129"))
            .iter()
            .map(|i| i.code.cn().to_owned())
            .collect::<Vec<_>>(),
        ["01012910", "01012990"]
    );

    // Prefix lookup by 2/4/6/8/10 digits.
    let n = |p: &str| t.lookup_prefix(p).len();
    assert_eq!(n("0702"), 4);
    assert_eq!(n("070200"), 4);
    assert_eq!(n("07020010"), 1);
    assert_eq!(n("0702001000"), 1);
    assert_eq!(n("0702 00 91"), 1);
    assert!(n("07") > 50);
    assert_eq!(n("07020011"), 0);
    assert_eq!(t.lookup_prefix("07")[0].code.significant(), "07");

    // Validity: the CN 2026 is valid for 2026 only.
    let d = |y| NaiveDate::from_ymd_opt(y, 6, 1).unwrap();
    assert_eq!(t.as_of(d(2026)).len(), t.len());
    assert!(t.as_of(d(2025)).is_empty());
}

// ---------------------------------------------------------------- properties

proptest! {
    #[test]
    fn csv_parser_never_panics(s in "\\PC*") {
        let _ = parse_csv(&s);
    }

    #[test]
    fn csv_parser_never_panics_on_csvish(s in "[a\",\r\n ]{0,40}") {
        let _ = parse_csv(&s);
        let _ = parse_hs2022(&format!("section,hscode,description,parent,level\n{s}"), None);
    }

    #[test]
    fn csv_quoting_round_trips(rows in proptest::collection::vec(proptest::collection::vec("[a-z,\"\r\n ]{0,8}", 1..4), 1..5)) {
        let text: String = rows
            .iter()
            .map(|r| r.iter().map(|f| format!("\"{}\"", f.replace('"', "\"\""))).collect::<Vec<_>>().join(","))
            .collect::<Vec<_>>()
            .join("\r\n");
        let parsed: Vec<Vec<String>> = parse_csv(&text).unwrap().into_iter().map(|r| r.fields).collect();
        prop_assert_eq!(parsed, rows);
    }

    #[test]
    fn from_prefix_round_trips(chapter in 1u32..=99, rest in "[0-9]{0,8}", pairs in 0usize..=4) {
        let rest = &rest[..(pairs * 2).min(rest.len() / 2 * 2)];
        let prefix = format!("{chapter:02}{rest}");
        let c = GoodsCode::from_prefix(&prefix).unwrap();
        prop_assert!(c.starts_with_prefix(&prefix));
        prop_assert_eq!(c.as_str().len(), 10);
        prop_assert_eq!(&c.as_str()[..prefix.len()], prefix.as_str());
        prop_assert!(c.as_str()[prefix.len()..].bytes().all(|b| b == b'0'));
        prop_assert_eq!(GoodsCode::from_prefix(c.significant()).unwrap(), c);
        prop_assert_eq!(c.as_str().parse::<GoodsCode>().unwrap(), c);
    }

    #[test]
    fn detect_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = detect(&bytes);
    }
}
