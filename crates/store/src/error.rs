use thiserror::Error;

/// Every way a store operation can fail.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("{what} {id:?} not found")]
    NotFound { what: &'static str, id: String },
    #[error("{what} {id:?} already exists")]
    Conflict { what: &'static str, id: String },
    #[error("not permitted in this scope: {0}")]
    OutOfScope(String),
    #[error("invalid value: {0}")]
    Invalid(String),
    /// The operation is not allowed in the resource's current state (e.g. rolling back an
    /// import that is not the latest, approving a draft that is not pending).
    #[error("{0}")]
    InvalidState(String),
    #[error(transparent)]
    Kernel(#[from] portorium_kernel::KernelError),
    #[error("database: {0}")]
    Database(sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("audit: {0}")]
    Audit(#[from] portorium_audit::AuditError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("unsupported database url {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("the audit appender has stopped")]
    AppenderStopped,
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Database(e)
    }
}

impl StoreError {
    /// Map a unique-constraint violation to [`StoreError::Conflict`].
    pub(crate) fn conflict_on_unique(e: sqlx::Error, what: &'static str, id: &str) -> Self {
        match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict {
                what,
                id: id.to_owned(),
            },
            _ => StoreError::Database(e),
        }
    }
}
