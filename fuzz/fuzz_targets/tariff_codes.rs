//! Goods codes and duty components from outside input: never panic; a parsed code prints
//! back to a code that parses to itself; any component is described and evaluated (or
//! refused) without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portorium_tariff::duty::{describe, evaluate, EvalContext, MeasureComponent, Quantities};
use portorium_tariff::nomenclature::GoodsCode;
use rust_decimal::Decimal;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(c) = s.parse::<GoodsCode>() {
        let again: GoodsCode = format!("{c:#}").parse().expect("a printed code parses");
        assert_eq!(again, c);
    }
    let _ = GoodsCode::from_prefix(s);
    // "expr amount currency unit qualifier; …" as components.
    let components: Vec<MeasureComponent> = s
        .split(';')
        .take(8)
        .map(|part| {
            let mut f = part.split_whitespace();
            MeasureComponent {
                duty_expression_id: f.next().unwrap_or("01").to_owned(),
                amount: f.next().and_then(|a| a.parse::<Decimal>().ok()),
                monetary_unit: f.next().map(str::to_owned),
                measurement_unit: f.next().map(str::to_owned),
                qualifier: f.next().map(str::to_owned),
            }
        })
        .collect();
    let _ = describe(&components);
    let mut q = Quantities::new();
    for (unit, v) in [("KGM", 1234), ("DTN", 12), ("TNE", 1), ("HLT", 3), ("NAR", 7)] {
        q.insert(unit, Decimal::from(v));
    }
    let ctx = EvalContext::borrowed(Decimal::from(1000), &q).with_currency("EUR");
    let _ = evaluate(&components, &ctx);
});
