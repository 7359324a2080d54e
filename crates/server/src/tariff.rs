//! Each administration's integrated tariff, built from the stored layers (the common tariff,
//! then the administration's national layer) and cached until either layer changes.

use crate::error::{ApiError, ApiResult, ErrorCode};
use portorium_kernel::{CurrencyCode, TenantCode};
use portorium_store::{Store, TariffImportRow, TariffLayer};
use portorium_tariff::layer::{build, LayerData, RecordRef};
use portorium_tariff_search::SearchIndex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, RwLock};

/// What a built tariff was built from: the latest import (id and status) of each layer.
/// A new import or a rollback changes it.
pub type LayerVersion = (Option<(String, String)>, Option<(String, String)>);

/// One administration's tariff as built.
pub struct Built {
    pub version: LayerVersion,
    pub tenant: TenantCode,
    /// The administration's national currency.
    pub currency: CurrencyCode,
    pub data: LayerData,
    /// Full-text and code search over `data.nomenclature`, built with it.
    pub search: SearchIndex,
}

/// How long a built tariff is served without asking the database whether its layers
/// changed. Changes made through this process's `Store` are seen at once (its tariff
/// generation moves); this bounds how late a change by another process (the CLI, another
/// server) is seen.
pub const RECHECK: Duration = Duration::from_secs(1);

struct Entry {
    built: Arc<Built>,
    /// The store's tariff generation when the layers were last found unchanged.
    generation: u64,
    checked: Instant,
}

/// Built tariffs by administration.
#[derive(Default)]
pub struct TariffCache {
    map: RwLock<HashMap<String, Entry>>,
    /// One build at a time: concurrent requests after a change wait for it instead of each
    /// building the same tariff.
    building: Mutex<()>,
}

fn latest(row: Option<TariffImportRow>) -> Option<(String, String)> {
    row.map(|r| (r.id, r.status))
}

impl TariffCache {
    async fn fresh(&self, store: &Store, tenant: &TenantCode) -> Option<Arc<Built>> {
        let map = self.map.read().await;
        let e = map.get(tenant.as_str())?;
        (e.generation == store.tariff_generation() && e.checked.elapsed() < RECHECK)
            .then(|| e.built.clone())
    }

    /// The tariff of `tenant` (404 when there is no such administration), rebuilt when an
    /// import or rollback of the common or the national layer happened since it was built.
    /// Served from memory while this process changed no tariff and the last check is less
    /// than [`RECHECK`] old; otherwise the layers' latest imports are compared first.
    pub async fn get(&self, store: &Store, tenant: &TenantCode) -> ApiResult<Arc<Built>> {
        if let Some(b) = self.fresh(store, tenant).await {
            return Ok(b);
        }
        let _building = self.building.lock().await;
        if let Some(b) = self.fresh(store, tenant).await {
            return Ok(b);
        }
        // Read the generation before the versions: a change committed in between makes the
        // entry look stale next time, never fresh with old data.
        let generation = store.tariff_generation();
        let row = store.get_tenant(tenant).await?;
        let national = TariffLayer::Tenant(tenant.clone());
        let version = (
            latest(store.tariff_latest_import(&TariffLayer::Common).await?),
            latest(store.tariff_latest_import(&national).await?),
        );
        if let Some(e) = self.map.write().await.get_mut(tenant.as_str()) {
            if e.built.version == version && e.built.currency == row.currency {
                e.generation = generation;
                e.checked = Instant::now();
                return Ok(e.built.clone());
            }
        }
        let mut records = store.tariff_records(&TariffLayer::Common, None).await?;
        records.extend(store.tariff_records(&national, None).await?);
        let (data, search) = tokio::task::spawn_blocking(move || {
            let data = build(records.iter().map(|r| RecordRef {
                kind: &r.kind,
                key: &r.key,
                payload: &r.payload,
            }))
            .map_err(|e| e.to_string())?;
            let search =
                SearchIndex::build(&data.nomenclature).map_err(|e| format!("search index: {e}"))?;
            Ok::<_, String>((data, search))
        })
        .await
        .map_err(|e| internal(&format!("tariff build task: {e}")))?
        .map_err(|e| internal(&format!("tariff of {tenant}: {e}")))?;
        let built = Arc::new(Built {
            version,
            tenant: tenant.clone(),
            currency: row.currency,
            data,
            search,
        });
        self.map.write().await.insert(
            tenant.as_str().to_owned(),
            Entry {
                built: built.clone(),
                generation,
                checked: Instant::now(),
            },
        );
        Ok(built)
    }
}

fn internal(msg: &str) -> ApiError {
    tracing::error!(error = %msg, "tariff");
    ApiError::new(ErrorCode::Internal, "internal error; see the server log")
}

/// The compiled TARIC3 schema that envelopes imported into `layer` are validated against:
/// taric3.xsd itself for the common layer; for an administration's national layer, the same
/// schema with the measure type id widened to the national alphanumeric types
/// (`portorium_tariff::taric3::national_taric3_xsd`), compiled from memory.
pub fn taric3_schema(
    path: &std::path::Path,
    layer: &TariffLayer,
) -> Result<portorium_xsd::Schema, String> {
    if *layer == TariffLayer::Common {
        return portorium_xsd::Schema::from_file(path).map_err(|e| e.to_string());
    }
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let dir = path
        .parent()
        .and_then(|d| d.canonicalize().ok())
        .and_then(|d| portorium_xsd::file_uri(&d))
        .ok_or_else(|| format!("the directory of {} cannot be named", path.display()))?;
    let national = portorium_tariff::taric3::national_taric3_xsd(&text, &format!("{dir}/"))
        .ok_or_else(|| format!("{} has no MeasureTypeId pattern", path.display()))?;
    let name = path.with_file_name("taric3.xsd (national measure types)");
    portorium_xsd::Schema::from_memory(national.as_bytes(), &name).map_err(|e| e.to_string())
}
