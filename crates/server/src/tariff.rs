//! Each administration's integrated tariff, built from the stored layers (the common tariff,
//! then the administration's national layer) and cached until either layer changes.

use crate::error::{ApiError, ApiResult, ErrorCode};
use portorium_kernel::{CurrencyCode, TenantCode};
use portorium_store::{Store, TariffImportRow, TariffLayer};
use portorium_tariff::layer::{build, LayerData, RecordRef};
use portorium_tariff_search::SearchIndex;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::RwLock;

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

/// Built tariffs by administration.
#[derive(Default)]
pub struct TariffCache {
    map: RwLock<HashMap<String, Arc<Built>>>,
}

fn latest(row: Option<TariffImportRow>) -> Option<(String, String)> {
    row.map(|r| (r.id, r.status))
}

impl TariffCache {
    /// The tariff of `tenant` (404 when there is no such administration), rebuilt when an
    /// import or rollback of the common or the national layer happened since it was built.
    pub async fn get(&self, store: &Store, tenant: &TenantCode) -> ApiResult<Arc<Built>> {
        let row = store.get_tenant(tenant).await?;
        let national = TariffLayer::Tenant(tenant.clone());
        let version = (
            latest(store.tariff_latest_import(&TariffLayer::Common).await?),
            latest(store.tariff_latest_import(&national).await?),
        );
        if let Some(b) = self.map.read().await.get(tenant.as_str()) {
            if b.version == version && b.currency == row.currency {
                return Ok(b.clone());
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
        self.map
            .write()
            .await
            .insert(tenant.as_str().to_owned(), built.clone());
        Ok(built)
    }
}

fn internal(msg: &str) -> ApiError {
    tracing::error!(error = %msg, "tariff");
    ApiError::new(ErrorCode::Internal, "internal error; see the server log")
}
