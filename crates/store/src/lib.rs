//! Persistence for Portorium.
//!
//! One [`Store`] over sqlx's `Any` driver: SQLite (WAL) is the embedded default and PostgreSQL
//! the production database. SQL is written once with `$n` placeholders and portable column
//! types; each backend has its own migration directory with the same tables.
//!
//! Tenant scoping lives here, not in handlers: everything an administration, trader or agency
//! may read goes through [`Scoped`], built from a [`Scope`] that is derived from an
//! authenticated principal. A scoped query always filters on the scope, so a handler cannot
//! read another administration's rows by mistake.

mod audit;
mod backup;
mod batch;
mod db;
mod declarations;
mod dms;
mod error;
mod idempotency;
mod identity;
mod messages;
mod national_measures;
mod outbox;
mod quotas;
mod refdata;
mod scope;
mod tariff;
pub mod testing;
mod transit;

pub use audit::{verify_log, AuditLog, AuditLogConfig, AuditRecord, ProofBundle};
pub use backup::{backup_sqlite, restore_sqlite};
pub use batch::Grouped;
pub use db::{Backend, Page, Store, StoreOptions};
pub use declarations::{
    AuthorisationRow, Direction, GuaranteeBalance, GuaranteeReservationRow, GuaranteeRow,
    GuaranteeShortfall, MovementHistoryRow, MovementKind, MovementMessageRow, MovementRow,
    NewAuthorisation, NewGuarantee,
};
pub use dms::{
    DmsAssessmentRow, DmsControlResultRow, DmsDeclarationRow, DmsDelivery, DmsDetail, DmsFilter,
    DmsHistoryRow, DmsLocked, DmsMessageRow, DmsNotificationRow, DmsPosition, DmsQuotaLink, DmsTx,
    DmsWebhookRow, NewDmsDeclaration,
};
pub use error::StoreError;
pub use idempotency::{IdempotencyOutcome, StoredResponse};
pub use identity::{
    AgencyRow, NewPrincipal, OfficeRow, PrincipalRow, SessionRow, TenantRow, TokenRow, TraderRow,
    VerifiedToken,
};
pub use messages::{MessageRow, NewMessage};
pub use national_measures::{
    national_sid, DraftStatus, LayerHeads, MeasureDraftRow, NewMeasureDraft, APPROVAL_FORMAT,
    NATIONAL_SID_BASE, NATIONAL_SID_BLOCK,
};
pub use outbox::{OutboxEvent, Tx};
pub use quotas::{
    NewAllocationRequest, NewSurveillance, QuotaAllocationRow, QuotaBalanceRow, QuotaHistoryRow,
    QuotaOpening, QuotaReturnRow, QuotaSurveillanceRow, ReturnContext,
};
pub use refdata::{
    NewRefCode, NewRefOffice, RefOfficeRow, RefdataBatch, RefdataImportRow, CODE_LIST_CATALOGUE,
    CODE_PAIRS_PER_QUERY, OFFICE_LIST,
};
pub use scope::{Scope, Scoped};
pub use tariff::{
    ExchangeRateRow, NewTariffRecord, RecordChange, StoredTariffRecord, TariffImportRow,
    TariffLayer,
};

/// Result alias for store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
pub use transit::{
    content_hash, AuthorisationCheck, EarlierMessage, GuaranteeCheck, Locked, NewTransitMovement,
    TransitFilter, TransitMessage, TransitTx,
};
