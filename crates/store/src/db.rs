use crate::error::StoreError;
use crate::scope::{Scope, Scoped};
use crate::Result;
use chrono::{DateTime, Utc};
use portorium_kernel::{Clock, IdGen};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor};
use std::sync::Arc;
use std::time::Duration;

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Pool sizes and SQLite durability.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Connections used for reads.
    pub read_connections: u32,
    /// Connections used for writes on PostgreSQL (SQLite always has exactly one writer).
    pub write_connections: u32,
    /// SQLite `synchronous` pragma: `FULL` makes every commit durable (the default).
    pub sqlite_synchronous: &'static str,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            read_connections: 4,
            write_connections: 8,
            sqlite_synchronous: "FULL",
        }
    }
}

/// A keyset page request: at most `limit` rows whose key sorts after `after`.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub limit: u32,
    pub after: Option<String>,
}

impl Page {
    pub const MAX: u32 = 500;
    pub fn first(limit: u32) -> Self {
        Self { limit, after: None }
    }
    pub(crate) fn fetch_limit(&self) -> i64 {
        i64::from(self.limit.clamp(1, Self::MAX)) + 1
    }
    pub(crate) fn after(&self) -> &str {
        self.after.as_deref().unwrap_or("")
    }
    /// Split one extra fetched row off into the next cursor.
    pub(crate) fn finish<T>(
        &self,
        mut rows: Vec<T>,
        key: impl Fn(&T) -> String,
    ) -> (Vec<T>, Option<String>) {
        let limit = self.limit.clamp(1, Self::MAX) as usize;
        if rows.len() > limit {
            rows.truncate(limit);
            let next = rows.last().map(&key);
            (rows, next)
        } else {
            (rows, None)
        }
    }
}

pub(crate) struct Inner {
    pub(crate) read: AnyPool,
    pub(crate) write: AnyPool,
    pub(crate) backend: Backend,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<dyn IdGen>,
    pub(crate) sqlite_path: Option<std::path::PathBuf>,
    /// Bumped after every committed change of tariff layers made through this `Store`
    /// (imports, rollbacks, approved national measures), so that read models in this process
    /// can tell cheaply that they are current.
    pub(crate) tariff_generation: std::sync::atomic::AtomicU64,
    /// The group commit of transit transactions (`batch.rs`).
    pub(crate) group: crate::batch::GroupCommit,
}

/// The database, its pools, and the clock and id generator every write uses.
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
}

static MIGRATIONS_SQLITE: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static MIGRATIONS_POSTGRES: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    Some(rest.split('?').next().unwrap_or(rest))
}

impl Store {
    /// Open (creating a SQLite file if needed) and migrate.
    pub async fn open(
        url: &str,
        options: StoreOptions,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGen>,
    ) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let (backend, read, write, path) = if let Some(path) = sqlite_path(url) {
            let path_buf = std::path::PathBuf::from(path);
            if let Some(parent) = path_buf.parent() {
                if !parent.as_os_str().is_empty() {
                    std::fs::create_dir_all(parent)?;
                }
            }
            let full = format!("sqlite://{path}?mode=rwc");
            let sync = options.sqlite_synchronous;
            let connect = |max: u32| {
                AnyPoolOptions::new()
                    .max_connections(max)
                    .min_connections(1)
                    // An embedded database file does not drop connections; a ping before each
                    // use would be one more round trip to the connection's worker thread.
                    .test_before_acquire(false)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(move |conn, _meta| {
                        Box::pin(async move {
                            conn.execute("PRAGMA busy_timeout = 10000").await?;
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute(format!("PRAGMA synchronous = {sync}").as_str())
                                .await?;
                            conn.execute("PRAGMA foreign_keys = ON").await?;
                            Ok(())
                        })
                    })
            };
            // One writer: SQLite serialises writers anyway, and a single connection avoids
            // lock-upgrade failures. Readers run concurrently thanks to WAL.
            let write = connect(1).connect(&full).await?;
            let read = connect(options.read_connections.max(1))
                .connect(&full)
                .await?;
            (Backend::Sqlite, read, write, Some(path_buf))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = AnyPoolOptions::new()
                .max_connections(
                    options
                        .write_connections
                        .max(options.read_connections)
                        .max(2),
                )
                .acquire_timeout(Duration::from_secs(30))
                .connect(url)
                .await?;
            (Backend::Postgres, pool.clone(), pool, None)
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        let store = Store {
            inner: Arc::new(Inner {
                read,
                write,
                backend,
                clock,
                ids,
                sqlite_path: path,
                tariff_generation: std::sync::atomic::AtomicU64::new(0),
                group: Default::default(),
            }),
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<()> {
        let migrator = match self.inner.backend {
            Backend::Sqlite => &MIGRATIONS_SQLITE,
            Backend::Postgres => &MIGRATIONS_POSTGRES,
        };
        let mut conn = self.inner.write.acquire().await?;
        migrator.run(&mut *conn).await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.inner.backend
    }

    /// The SQLite database file, when the backend is SQLite.
    pub fn sqlite_path(&self) -> Option<&std::path::Path> {
        self.inner.sqlite_path.as_deref()
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    pub fn ids(&self) -> &Arc<dyn IdGen> {
        &self.inner.ids
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    /// The tariff generation of this process: it changes after every tariff change committed
    /// through this `Store` (not through another process: readers recheck the database too).
    pub fn tariff_generation(&self) -> u64 {
        self.inner
            .tariff_generation
            .load(std::sync::atomic::Ordering::Acquire)
    }

    pub(crate) fn tariff_changed(&self) {
        self.inner
            .tariff_generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    pub(crate) fn now_text(&self) -> String {
        fmt_ts(self.now())
    }

    pub(crate) fn read(&self) -> &AnyPool {
        &self.inner.read
    }

    pub(crate) fn write(&self) -> &AnyPool {
        &self.inner.write
    }

    /// A view of the data restricted to `scope`.
    pub fn scoped(&self, scope: Scope) -> Scoped<'_> {
        Scoped { store: self, scope }
    }

    /// A readiness probe: one round trip to the database.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(self.read()).await?;
        Ok(())
    }

    /// A named setting (for example whether the demo environment was loaded).
    pub async fn setting(&self, name: &str) -> Result<Option<String>> {
        let v: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE name = $1")
            .bind(name)
            .fetch_optional(self.read())
            .await?;
        Ok(v.map(|(v,)| v))
    }

    pub async fn set_setting(&self, name: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        )
        .bind(name)
        .bind(value)
        .execute(self.write())
        .await?;
        Ok(())
    }

    /// Close the pools, waiting for connections to return.
    pub async fn close(&self) {
        self.inner.write.close().await;
        self.inner.read.close().await;
    }
}

/// Fixed-width RFC 3339 UTC text with microseconds: sorts chronologically as text.
pub(crate) fn fmt_ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub(crate) fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("timestamp {s:?}: {e}")))
}

pub(crate) fn parse_opt_ts(s: Option<String>) -> Result<Option<DateTime<Utc>>> {
    s.as_deref().map(parse_ts).transpose()
}

/// Shorthand for reading a column from an `AnyRow`.
pub(crate) fn col<'r, T>(row: &'r AnyRow, name: &str) -> Result<T>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    use sqlx::Row;
    Ok(row.try_get::<T, _>(name)?)
}

/// Placeholders for statements with a variable number of parameters, in the order they are
/// bound. SQLite gets anonymous `?` (binding numbered parameters there looks each one up by
/// name, which is quadratic in their number; it was half the cost of an audit append before this), PostgreSQL
/// gets `$n`.
pub(crate) struct Placeholders {
    backend: Backend,
    n: usize,
}

impl Placeholders {
    pub(crate) fn new(backend: Backend) -> Self {
        Self { backend, n: 0 }
    }

    pub(crate) fn push(&mut self, sql: &mut String) {
        self.n += 1;
        match self.backend {
            Backend::Sqlite => sql.push('?'),
            Backend::Postgres => {
                sql.push('$');
                sql.push_str(&self.n.to_string());
            }
        }
    }

    /// `(p, p, …)` with `count` placeholders.
    pub(crate) fn push_list(&mut self, sql: &mut String, count: usize) {
        sql.push('(');
        for i in 0..count {
            if i > 0 {
                sql.push(',');
            }
            self.push(sql);
        }
        sql.push(')');
    }

    /// `(p, …), (p, …), …`: `rows` rows of `cols` placeholders, for a multi-row `VALUES`.
    pub(crate) fn push_rows(&mut self, sql: &mut String, rows: usize, cols: usize) {
        for r in 0..rows {
            if r > 0 {
                sql.push(',');
            }
            self.push_list(sql, cols);
        }
    }
}
