//! Quotas: order numbers, definitions as of a date, states, FCFS drawing and returns (data
//! driven and property tests), and the build from TARIC3 records (synthetic, the TaMaTo
//! quota samples and the UK envelope with a real order number).

use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use chrono::{NaiveDate, NaiveDateTime};
use portorium_tariff::layer::{build, changes_from_envelope, Change, LayerError, RecordRef};
use portorium_tariff::measures::Validity;
use portorium_tariff::quotas::{
    allocate, credit_return, draw, status, AllocationRequest, BlockingPeriod, Mechanism,
    QuotaAssociation, QuotaDefinition, QuotaEvent, QuotaEventKind, QuotaOrderNumber, QuotaStatus,
    QuotaUnit, Refusal, ReturnRefusal, SuspensionPeriod,
};
use portorium_tariff::taric3::parse_envelope;
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde_json::json;

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

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").unwrap()
}

/// An FCFS quota 091104: 1000 TNE in 2026 (critical at 90% used), blocked 2026-03-01..03,
/// suspended 2026-04-01..30.
fn fcfs() -> QuotaOrderNumber {
    QuotaOrderNumber {
        sid: 1,
        id: "091104".into(),
        validity: Validity::from(day("2020-01-01")),
        mechanism: Mechanism::of_order_number("091104"),
        origins: Vec::new(),
        definitions: vec![
            definition(10, "2025-01-01", "2025-12-31", "500"),
            QuotaDefinition {
                blocking_periods: vec![BlockingPeriod {
                    sid: 1,
                    period: Validity::new(day("2026-03-01"), Some(day("2026-03-03"))),
                    kind: "1".into(),
                    description: None,
                }],
                suspension_periods: vec![SuspensionPeriod {
                    sid: 2,
                    period: Validity::new(day("2026-04-01"), Some(day("2026-04-30"))),
                    description: None,
                }],
                ..definition(11, "2026-01-01", "2026-12-31", "1000")
            },
        ],
    }
}

fn definition(sid: u64, from: &str, to: &str, volume: &str) -> QuotaDefinition {
    QuotaDefinition {
        sid,
        order_number: "091104".into(),
        validity: Validity::new(day(from), Some(day(to))),
        volume: d(volume),
        initial_volume: d(volume),
        unit: QuotaUnit {
            measurement_unit: Some("TNE".into()),
            qualifier: None,
            monetary_unit: None,
        },
        maximum_precision: 3,
        critical_threshold: 90,
        critical: false,
        description: None,
        blocking_periods: Vec::new(),
        suspension_periods: Vec::new(),
        balance_events: Vec::new(),
        events: Vec::new(),
        sub_quotas: Vec::new(),
    }
}

fn request(id: &str, qty: &str, time: &str) -> AllocationRequest {
    AllocationRequest {
        id: id.into(),
        quantity: d(qty),
        unit: "TNE".into(),
        accepted_at: at(time),
    }
}

#[test]
fn mechanism_from_order_number() {
    check(
        &[
            ("091104", Mechanism::Fcfs),
            ("090001", Mechanism::Fcfs),
            ("094001", Mechanism::Licensed),
            ("094590", Mechanism::Licensed),
            ("054003", Mechanism::Licensed),
            ("057140", Mechanism::Fcfs),
            ("", Mechanism::Fcfs),
        ],
        |id| Mechanism::of_order_number(id),
    );
}

#[test]
fn definition_as_of_a_date() {
    let q = fcfs();
    check(
        &[
            ("2024-12-31", None),
            ("2025-01-01", Some(10)),
            ("2025-12-31", Some(10)),
            ("2026-06-15", Some(11)),
            ("2027-01-01", None),
        ],
        |date| q.definition_as_of(day(date)).map(|d| d.sid),
    );
}

#[test]
fn states() {
    let q = fcfs();
    // (date, balance) → status. 1000 TNE at 90%: critical from 100 left.
    check(
        &[
            (("2026-06-15", "1000"), QuotaStatus::Open),
            (("2026-06-15", "100.001"), QuotaStatus::Open),
            (("2026-06-15", "100"), QuotaStatus::Critical),
            (("2026-06-15", "0.001"), QuotaStatus::Critical),
            (("2026-06-15", "0"), QuotaStatus::Exhausted),
            (("2026-03-02", "1000"), QuotaStatus::Blocked),
            (("2026-03-04", "1000"), QuotaStatus::Open),
            (("2026-04-15", "0"), QuotaStatus::Suspended),
            (("2027-01-01", "1000"), QuotaStatus::NotInPeriod),
        ],
        |(date, balance)| {
            let date = day(date);
            status(q.definition_as_of(date), d(balance), date)
        },
    );
    // Flagged critical from the start.
    let mut def = definition(12, "2026-01-01", "2026-12-31", "1000");
    def.critical = true;
    assert_eq!(
        status(Some(&def), d("1000"), day("2026-01-01")),
        QuotaStatus::Critical
    );
}

#[test]
fn draws() {
    let q = fcfs();
    let licensed = QuotaOrderNumber {
        id: "094001".into(),
        mechanism: Mechanism::of_order_number("094001"),
        ..fcfs()
    };
    // (order, balance, request) → granted or the refusal.
    type Case = (&'static str, &'static str, AllocationRequest);
    type Outcome = Result<(Decimal, Decimal, QuotaStatus), Refusal>;
    let cases: Vec<(Case, Outcome)> = vec![
        (
            ("fcfs", "1000", request("a", "250", "2026-06-15T09:00:00")),
            Ok((d("250"), d("750"), QuotaStatus::Open)),
        ),
        (
            ("fcfs", "120", request("a", "50", "2026-06-15T09:00:00")),
            Ok((d("50"), d("70"), QuotaStatus::Critical)),
        ),
        (
            ("fcfs", "30", request("a", "50", "2026-06-15T09:00:00")),
            Ok((d("30"), d("0"), QuotaStatus::Exhausted)),
        ),
        (
            ("fcfs", "0", request("a", "1", "2026-06-15T09:00:00")),
            Err(Refusal::Exhausted {
                order_number: "091104".into(),
            }),
        ),
        (
            ("licensed", "1000", request("a", "1", "2026-06-15T09:00:00")),
            Err(Refusal::Licensed {
                order_number: "094001".into(),
            }),
        ),
        (
            ("fcfs", "1000", request("a", "1", "2027-02-01T09:00:00")),
            Err(Refusal::NotInPeriod {
                order_number: "091104".into(),
                date: day("2027-02-01"),
            }),
        ),
        (
            ("fcfs", "1000", request("a", "1", "2026-03-03T23:59:59")),
            Err(Refusal::Blocked {
                order_number: "091104".into(),
                from: day("2026-03-01"),
                to: "2026-03-03".into(),
            }),
        ),
        (
            ("fcfs", "1000", request("a", "1", "2026-04-01T00:00:00")),
            Err(Refusal::Suspended {
                order_number: "091104".into(),
                from: day("2026-04-01"),
                to: "2026-04-30".into(),
            }),
        ),
        (
            (
                "fcfs",
                "1000",
                AllocationRequest {
                    unit: "KGM".into(),
                    ..request("a", "1", "2026-06-15T09:00:00")
                },
            ),
            Err(Refusal::UnitMismatch {
                expected: "TNE".into(),
                given: "KGM".into(),
            }),
        ),
        (
            (
                "fcfs",
                "1000",
                AllocationRequest {
                    unit: " tne ".into(),
                    ..request("a", "1", "2026-06-15T09:00:00")
                },
            ),
            Ok((d("1"), d("999"), QuotaStatus::Open)),
        ),
        (
            ("fcfs", "1000", request("a", "0", "2026-06-15T09:00:00")),
            Err(Refusal::NotPositive),
        ),
        (
            ("fcfs", "1000", request("a", "-2", "2026-06-15T09:00:00")),
            Err(Refusal::NotPositive),
        ),
        (
            (
                "fcfs",
                "1000",
                request("a", "1.0001", "2026-06-15T09:00:00"),
            ),
            Err(Refusal::TooPrecise { max: 3 }),
        ),
        // Trailing zeros are not precision.
        (
            (
                "fcfs",
                "1000",
                request("a", "1.5000", "2026-06-15T09:00:00"),
            ),
            Ok((d("1.5"), d("998.5"), QuotaStatus::Open)),
        ),
    ];
    check(&cases, |(which, balance, req)| {
        let order = if *which == "licensed" { &licensed } else { &q };
        let def = order
            .definition_as_of(req.accepted_at.date())
            .or_else(|| order.definitions.last())
            .unwrap();
        draw(order, def, d(balance), req).map(|g| (g.granted, g.balance_after, g.status_after))
    });
}

#[test]
fn allocation_in_order_of_acceptance_time() {
    let q = fcfs();
    let def = q.definition(11).unwrap();
    // Submitted out of order; served by acceptance time, ties by id.
    let requests = vec![
        request("d", "400", "2026-06-15T11:00:00"),
        request("b", "300", "2026-06-15T10:00:00"),
        request("a", "300", "2026-06-15T10:00:00"),
        request("c", "300", "2026-06-15T10:30:00"),
        request("e", "5", "2026-03-02T10:00:00"), // blocked: refused, balance untouched
    ];
    let (out, left) = allocate(&q, def, d("1000"), &requests);
    let got: Vec<(String, Option<Decimal>)> = out
        .into_iter()
        .map(|(id, r)| (id, r.ok().map(|g| g.granted)))
        .collect();
    assert_eq!(
        got,
        vec![
            ("e".to_owned(), None),
            ("a".to_owned(), Some(d("300"))),
            ("b".to_owned(), Some(d("300"))),
            ("c".to_owned(), Some(d("300"))),
            ("d".to_owned(), Some(d("100"))),
        ]
    );
    assert_eq!(left, Decimal::ZERO);
}

#[test]
fn returns() {
    // (volume, balance, returnable, quantity) → credited and balance after, or refusal.
    check(
        &[
            (("1000", "0", "300", "100"), Ok((d("100"), d("100")))),
            (("1000", "950", "300", "100"), Ok((d("50"), d("1000")))),
            (("1000", "0", "300", "300"), Ok((d("300"), d("300")))),
            (
                ("1000", "0", "300", "300.001"),
                Err(ReturnRefusal::ExceedsAllocation {
                    returnable: d("300"),
                }),
            ),
            (("1000", "0", "300", "0"), Err(ReturnRefusal::NotPositive)),
        ],
        |(volume, balance, returnable, qty)| {
            credit_return(d(volume), d(balance), d(returnable), d(qty))
                .map(|o| (o.credited, o.balance_after))
        },
    );
}

#[test]
fn opening_balance_and_critical_threshold() {
    let mut def = definition(1, "2026-01-01", "2026-12-31", "1000");
    assert_eq!(def.opening_balance(), d("1000"));
    def.balance_events
        .push(portorium_tariff::quotas::BalanceEvent {
            occurred_at: at("2026-02-01T10:00:00"),
            old_balance: d("1000"),
            new_balance: d("640.5"),
            imported_amount: d("359.5"),
            last_import_date: Some(day("2026-01-31")),
        });
    assert_eq!(def.opening_balance(), d("640.5"));
    def.critical_threshold = 75;
    check(&[("250.001", false), ("250", true), ("0", true)], |b| {
        def.is_critical(d(b))
    });
}

// ---- build from records ----

fn rec<'a>(kind: &'a str, key: &'a str, payload: &'a serde_json::Value) -> RecordRef<'a> {
    RecordRef { kind, key, payload }
}

#[test]
fn build_from_records() {
    let areas = [
        json!({"geographical.area.sid": "1", "geographical.area.id": "1011",
            "validity.start.date": "1972-01-01", "geographical.code": "1"}),
        json!({"geographical.area.sid": "2", "geographical.area.id": "CN",
            "validity.start.date": "1972-01-01", "geographical.code": "0"}),
        json!({"geographical.area.sid": "3", "geographical.area.id": "AR",
            "validity.start.date": "1972-01-01", "geographical.code": "0"}),
    ];
    let order = json!({"quota.order.number.sid": "20", "quota.order.number.id": "091104",
        "validity.start.date": "2026-01-01"});
    let origin = json!({"quota.order.number.origin.sid": "21", "quota.order.number.sid": "20",
        "geographical.area.id": "1011", "validity.start.date": "2026-01-01",
        "geographical.area.sid": "1"});
    let exclusion = json!({"quota.order.number.origin.sid": "21",
        "excluded.geographical.area.sid": "2"});
    let def = json!({"quota.definition.sid": "22", "quota.order.number.id": "091104",
        "validity.start.date": "2026-01-01", "validity.end.date": "2026-12-31",
        "quota.order.number.sid": "20", "volume": "1000.000", "initial.volume": "1000.000",
        "measurement.unit.code": "KGM", "measurement.unit.qualifier.code": "I",
        "maximum.precision": "3", "critical.state": "N", "critical.threshold": "90",
        "description": "Demo quota"});
    let blocking = json!({"quota.blocking.period.sid": "23", "quota.definition.sid": "22",
        "blocking.start.date": "2026-03-01", "blocking.end.date": "2026-03-03",
        "blocking.period.type": "1"});
    let suspension = json!({"quota.suspension.period.sid": "24", "quota.definition.sid": "22",
        "suspension.start.date": "2026-04-01", "suspension.end.date": "2026-04-30"});
    let event = json!({"quota.definition.sid": "22", "occurrence.timestamp": "2026-02-01T10:00:00",
        "old.balance": "1000", "new.balance": "800", "imported.amount": "200"});
    let critical_on = json!({"quota.definition.sid": "22",
        "occurrence.timestamp": "2026-05-01T08:00:00", "critical.state": "Y",
        "critical.state.change.date": "2026-05-01"});
    let critical_off = json!({"quota.definition.sid": "22",
        "occurrence.timestamp": "2026-05-20T08:00:00", "critical.state": "N"});
    let exhausted = json!({"quota.definition.sid": "22",
        "occurrence.timestamp": "2026-06-01T09:30:00", "exhaustion.date": "2026-06-01"});
    let sub_def = json!({"quota.definition.sid": "25", "quota.order.number.id": "091104",
        "validity.start.date": "2027-01-01", "validity.end.date": "2027-12-31",
        "quota.order.number.sid": "20", "volume": "100", "initial.volume": "100",
        "maximum.precision": "3", "critical.state": "N", "critical.threshold": "90"});
    let association = json!({"main.quota.definition.sid": "22",
        "sub.quota.definition.sid": "25", "relation.type": "NM", "coefficient": "1.42"});
    let mut records = vec![
        rec("geographical.area", "1", &areas[0]),
        rec("geographical.area", "2", &areas[1]),
        rec("geographical.area", "3", &areas[2]),
        rec("quota.order.number", "20", &order),
        rec("quota.order.number.origin", "21", &origin),
        rec("quota.order.number.origin.exclusions", "2/21", &exclusion),
        rec("quota.definition", "22", &def),
        rec("quota.blocking.period", "23/22", &blocking),
        rec("quota.suspension.period", "22/24", &suspension),
        rec("quota.balance.event", "22/2026-02-01T10:00:00", &event),
        rec(
            "quota.critical.event",
            "22/2026-05-01T08:00:00",
            &critical_on,
        ),
        rec(
            "quota.critical.event",
            "22/2026-05-20T08:00:00",
            &critical_off,
        ),
        rec(
            "quota.exhaustion.event",
            "22/2026-06-01T09:30:00",
            &exhausted,
        ),
        rec("quota.definition", "25", &sub_def),
        rec("quota.association", "22/25", &association),
    ];
    let data = build(records.clone()).unwrap();
    let q = data.quotas.find("091104", day("2026-06-15")).unwrap();
    assert_eq!(q.mechanism, Mechanism::Fcfs);
    assert_eq!(q.origins.len(), 1);
    assert_eq!(q.origins[0].area, "1011");
    assert_eq!(q.origins[0].exclusions, vec!["CN".to_owned()]);
    let def = q.definition_as_of(day("2026-06-15")).unwrap();
    assert_eq!(def.unit.code(), "KGMI");
    assert_eq!(def.volume, d("1000"));
    assert_eq!(def.opening_balance(), d("800"));
    assert_eq!(def.description.as_deref(), Some("Demo quota"));
    assert!(def.blocked_on(day("2026-03-02")).is_some());
    assert!(def.suspended_on(day("2026-04-02")).is_some());
    assert_eq!(
        status(Some(def), def.opening_balance(), day("2026-06-15")),
        QuotaStatus::Open
    );
    assert_eq!(data.quotas.definition(22).map(|(o, _)| o.sid), Some(20));
    // The other quota events, oldest first, and the sub-quota.
    assert_eq!(
        def.events,
        vec![
            QuotaEvent {
                occurred_at: at("2026-05-01T08:00:00"),
                kind: QuotaEventKind::Critical {
                    critical: true,
                    change_date: Some(day("2026-05-01"))
                },
            },
            QuotaEvent {
                occurred_at: at("2026-05-20T08:00:00"),
                kind: QuotaEventKind::Critical {
                    critical: false,
                    change_date: None
                },
            },
            QuotaEvent {
                occurred_at: at("2026-06-01T09:30:00"),
                kind: QuotaEventKind::Exhaustion {
                    date: day("2026-06-01")
                },
            },
        ]
    );
    assert_eq!(
        def.sub_quotas,
        vec![QuotaAssociation {
            sub_definition_sid: 25,
            relation: "NM".into(),
            coefficient: Some(d("1.42")),
        }]
    );

    // A definition of a missing order number names both.
    let orphan = json!({"quota.definition.sid": "30", "quota.order.number.id": "091105",
        "validity.start.date": "2026-01-01", "quota.order.number.sid": "99", "volume": "1",
        "initial.volume": "1", "maximum.precision": "3", "critical.state": "N",
        "critical.threshold": "90"});
    records.push(rec("quota.definition", "30", &orphan));
    assert_eq!(
        build(records.clone()).unwrap_err(),
        LayerError::MissingParent {
            kind: "quota.definition".into(),
            key: "30".into(),
            parent_kind: "quota.order.number".into(),
            parent_key: "99".into(),
        }
    );
    records.pop();
    // A bad critical state is a payload error naming the record.
    let bad = json!({"quota.definition.sid": "31", "quota.order.number.id": "091104",
        "validity.start.date": "2027-01-01", "quota.order.number.sid": "20", "volume": "1",
        "initial.volume": "1", "maximum.precision": "3", "critical.state": "X",
        "critical.threshold": "90"});
    records.push(rec("quota.definition", "31", &bad));
    let err = build(records).unwrap_err();
    assert!(
        matches!(&err, LayerError::Payload { kind, key, reason }
            if kind == "quota.definition" && key == "31" && reason.contains("critical.state")),
        "{err}"
    );
}

fn reference() -> Option<PathBuf> {
    let dir = std::env::var_os("PORTORIUM_REFERENCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference"));
    let t = dir.join("tariff");
    if t.is_dir() {
        Some(t)
    } else {
        eprintln!("SKIPPED: reference data not found at {}", dir.display());
        None
    }
}

fn changes(path: &Path) -> Vec<Change> {
    let env = parse_envelope(&std::fs::read(path).unwrap()).unwrap();
    changes_from_envelope(&env).unwrap()
}

/// The TaMaTo quota samples: standard TARIC3 quota records build into quotas.
#[test]
fn tamato_quota_samples() {
    let Some(dir) = reference() else { return };
    let defs = changes(&dir.join("taric3/quota_definition_CREATE.xml"));
    let data = build(defs.iter().map(RecordRef::from)).unwrap();
    let q = data.quotas.find("054515", day("2021-06-01")).unwrap();
    assert_eq!(q.mechanism, Mechanism::Licensed);
    let sids: Vec<u64> = q.definitions.iter().map(|d| d.sid).collect();
    assert_eq!(sids, vec![99, 100]);
    let d99 = q.definition_as_of(day("2021-06-01")).unwrap();
    assert_eq!(
        (d99.sid, d99.volume, d99.initial_volume),
        (99, d("1200"), d("200"))
    );
    assert_eq!(d99.unit.code(), "XXXA");
    assert_eq!(
        q.definition_as_of(day("2023-06-01")).unwrap().unit.code(),
        "ZZZ"
    );
    assert!(q.definition_as_of(day("2022-06-01")).is_none());

    let events = changes(&dir.join("taric3/quota_balance_event_CREATE.xml"));
    let data = build(events.iter().map(RecordRef::from)).unwrap();
    let (_, d100) = data.quotas.definition(100).unwrap();
    assert_eq!(d100.balance_events.len(), 1);
    assert_eq!(d100.opening_balance(), Decimal::ZERO);
    assert_eq!(
        status(Some(d100), d100.opening_balance(), day("2023-06-01")),
        QuotaStatus::Exhausted
    );

    let origins = changes(&dir.join("taric3/quota_order_number_origin_CREATE.xml"));
    let data = build(origins.iter().map(RecordRef::from)).unwrap();
    let q = data.quotas.find("054515", day("2021-06-01")).unwrap();
    let areas: Vec<&str> = q
        .origins_as_of(day("2021-06-01"))
        .iter()
        .map(|o| o.area.as_str())
        .collect();
    assert_eq!(areas, vec!["AB01"]);
    assert!(q.origins_as_of(day("2022-06-01")).is_empty());
}

/// The UK envelope of 7202118000 carries the real order number 054003 (licensed, erga
/// omnes) that its quota measure quotes.
#[test]
fn uk_order_number() {
    let Some(dir) = reference() else { return };
    let uk = dir.join("taric3-uk");
    let mut all = changes(&uk.join("geographical_areas_uk.xml"));
    all.extend(changes(&uk.join("uk_7202999000.xml")));
    let data = build(all.iter().map(RecordRef::from)).unwrap();
    let ids: Vec<&str> = data.quotas.all().iter().map(|q| q.id.as_str()).collect();
    assert_eq!(ids, vec!["054003"]);
    let q = &data.quotas.all()[0];
    assert_eq!(q.mechanism, Mechanism::Licensed);
    assert_eq!(q.origins.len(), 1);
    assert_eq!(q.origins[0].area, "1011");
    assert!(q.definitions.is_empty());
    assert_eq!(
        status(
            q.definition_as_of(day("2021-06-15")),
            Decimal::ZERO,
            day("2021-06-15")
        ),
        QuotaStatus::NotInPeriod
    );
    assert!(data
        .tariff
        .measures
        .iter()
        .any(|m| m.order_number.as_deref() == Some("054003")));
}

// ---- properties ----

fn arb_requests() -> impl Strategy<Value = Vec<AllocationRequest>> {
    prop::collection::vec((1u64..500_000, 0u32..4, 0i64..86_400, 0u8..4), 0..40).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, (mantissa, scale, secs, id))| AllocationRequest {
                id: format!("{id}-{i:03}"),
                quantity: Decimal::new(mantissa as i64, scale),
                unit: "TNE".into(),
                accepted_at: at("2026-06-15T00:00:00") + chrono::TimeDelta::seconds(secs),
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The total allocated never exceeds the balance (the volume at opening), and the
    /// final balance is exactly what is left.
    #[test]
    fn never_over_allocates(requests in arb_requests(), volume in 0u64..1_000_000, scale in 0u32..4) {
        let q = fcfs();
        let mut def = q.definition(11).unwrap().clone();
        def.volume = Decimal::new(volume as i64, scale);
        def.initial_volume = def.volume;
        let (out, left) = allocate(&q, &def, def.volume, &requests);
        let granted: Decimal = out.iter().filter_map(|(_, r)| r.as_ref().ok()).map(|g| g.granted).sum();
        let requested: Decimal = requests.iter().map(|r| r.quantity).sum();
        prop_assert!(granted <= def.volume);
        prop_assert!(left >= Decimal::ZERO);
        prop_assert_eq!(granted + left, def.volume);
        prop_assert_eq!(granted, requested.min(def.volume));
    }

    /// A request gets something only if every request accepted before it got all it
    /// asked for.
    #[test]
    fn served_in_order_of_acceptance(requests in arb_requests(), volume in 0u64..2_000_000) {
        let q = fcfs();
        let def = q.definition(11).unwrap();
        let (out, _) = allocate(&q, def, Decimal::new(volume as i64, 1), &requests);
        let by_id = |id: &str| requests.iter().find(|r| r.id == id).unwrap();
        let mut keys = Vec::new();
        for (id, r) in &out {
            let req = by_id(id);
            keys.push((req.accepted_at, req.id.clone()));
            if let Ok(g) = r {
                if g.granted > Decimal::ZERO {
                    for (earlier, rr) in &out {
                        let e = by_id(earlier);
                        if (e.accepted_at, &e.id) < (req.accepted_at, &req.id) {
                            let full = rr.as_ref().map(|g| g.granted == e.quantity).unwrap_or(false);
                            prop_assert!(full, "{} served before {} was fully served", id, earlier);
                        }
                    }
                }
            }
        }
        let mut sorted = keys.clone();
        sorted.sort();
        prop_assert_eq!(keys, sorted);
    }

    /// Returns never credit more than was allocated, nor lift the balance above the volume.
    #[test]
    fn returns_never_exceed_allocation(
        granted in 0i64..100_000,
        attempts in prop::collection::vec(-10i64..60_000, 0..20),
        spent in 0i64..100_000,
    ) {
        let volume = Decimal::new(200_000, 0);
        let granted = Decimal::new(granted, 0);
        let mut balance = volume - granted - Decimal::new(spent, 0).min(volume - granted);
        let mut returned = Decimal::ZERO;
        for a in attempts {
            let qty = Decimal::new(a, 0);
            match credit_return(volume, balance, granted - returned, qty) {
                Ok(o) => {
                    prop_assert!(o.credited <= qty);
                    prop_assert!(o.balance_after <= volume);
                    returned += qty;
                    balance = o.balance_after;
                }
                Err(_) => prop_assert!(qty <= Decimal::ZERO || qty > granted - returned),
            }
            prop_assert!(returned <= granted);
        }
    }
}
