//! The demo tariff: TARIC3 envelopes written for the project (`demo/tariff/`, generated
//! by `demo/generate.py`, see `demo/README.md`), embedded in the binary so that `serve`
//! needs no file on disk, and loaded by the demo through the same path as `portorium
//! tariff import`: parse, record sequencing, layer changes, one all-or-nothing import per
//! layer.

use crate::error::{ApiError, ErrorCode};
use portorium_kernel::TenantCode;
use portorium_store::{RecordChange, Store, TariffImportRow, TariffLayer};
use portorium_tariff::layer::{prepare_import, ImportFile, Taric3Validator};

/// The common layer: nomenclature, areas, customs duties, preferences, quotas, trade
/// defence, controls, the Meursing table, exchange rates.
pub const COMMON: &str = include_str!("../demo/tariff/common.xml");
/// The Netherlands' national layer: VAT, excise, a national restriction.
pub const NL: &str = include_str!("../demo/tariff/nl.xml");
/// Germany's national layer: VAT, excise (including coffee), a national prohibition.
pub const DE: &str = include_str!("../demo/tariff/de.xml");

/// The layer a demo envelope goes into, with its file name and content.
pub fn envelopes() -> [(TariffLayer, &'static str, &'static str); 3] {
    let tenant = |code: &str| {
        code.parse::<TenantCode>()
            .map(TariffLayer::Tenant)
            .unwrap_or(TariffLayer::Common)
    };
    [
        (TariffLayer::Common, "demo/tariff/common.xml", COMMON),
        (tenant("NL"), "demo/tariff/nl.xml", NL),
        (tenant("DE"), "demo/tariff/de.xml", DE),
    ]
}

/// The store changes of one TARIC3 file, as `portorium tariff import` makes them
/// ([`prepare_import`]). `validate` checks the envelope against taric3.xsd when given.
/// Measures imported into a national layer are marked `"national": true` (the
/// administration's own measures).
pub fn import_changes(
    layer: &TariffLayer,
    name: &str,
    xml: &str,
    validate: Option<Taric3Validator<'_>>,
) -> Result<(Vec<RecordChange>, String), ApiError> {
    let files = [ImportFile {
        name,
        bytes: xml.as_bytes(),
    }];
    let prepared = prepare_import(&files, validate)
        .map_err(|e| ApiError::new(ErrorCode::InvalidImport, e.to_string()))?;
    let format = prepared.format();
    let changes = crate::routes::tariff_admin::to_record_changes(layer, prepared.changes);
    Ok((changes, format))
}

/// Imports the demo tariff: the common layer, then the NL and DE national layers (the
/// administrations must exist). One import per layer, each all or nothing.
pub async fn load(store: &Store) -> Result<Vec<TariffImportRow>, ApiError> {
    let mut rows = Vec::new();
    for (layer, name, xml) in envelopes() {
        let (changes, format) = import_changes(&layer, name, xml, None)?;
        let row = store
            .tariff_import(&layer, name, &format, &changes, &|_| {})
            .await?;
        rows.push(row);
    }
    Ok(rows)
}
