//! Tariff imports: any bytes, as one file or split into two, through format detection, the
//! TARIC3 envelope parser, record sequencing, the HS/CN loaders and the conversion into
//! layer changes. Never panics; what converts also builds (or is refused with an error).
#![no_main]
use libfuzzer_sys::fuzz_target;
use portorium_tariff::layer::{build, prepare_import, ImportFile, RecordRef};

fuzz_target!(|data: &[u8]| {
    let split = data.len() / 2;
    let one = [ImportFile {
        name: "one",
        bytes: data,
    }];
    let two = [
        ImportFile {
            name: "a",
            bytes: &data[..split],
        },
        ImportFile {
            name: "b",
            bytes: &data[split..],
        },
    ];
    for files in [&one[..], &two[..]] {
        if let Ok(prepared) = prepare_import(files, None) {
            let _ = build(prepared.changes.iter().map(RecordRef::from));
        }
    }
    let _ = portorium_tariff::taric3::parse_envelope(data);
});
