//! Test support shared by every crate's tests: a fresh database per test on SQLite, and on
//! PostgreSQL too when `TEST_DATABASE_URL` is set (each test gets its own database, dropped
//! afterwards).

use crate::db::{Store, StoreOptions};
use crate::Result;
use portorium_kernel::{Clock, IdGen, SystemClock, UuidV7Gen};
use std::sync::Arc;

/// A throw-away database.
pub struct TestDb {
    pub url: String,
    pub label: &'static str,
    _dir: Option<tempfile::TempDir>,
    pg_drop: Option<(String, String)>,
}

impl TestDb {
    /// A fresh SQLite database in a temporary directory.
    pub fn sqlite() -> std::io::Result<TestDb> {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}/test.db", dir.path().display());
        Ok(TestDb {
            url,
            label: "sqlite",
            _dir: Some(dir),
            pg_drop: None,
        })
    }

    /// A fresh PostgreSQL database, when `TEST_DATABASE_URL` is set.
    pub async fn postgres() -> Result<Option<TestDb>> {
        let Ok(base) = std::env::var("TEST_DATABASE_URL") else {
            return Ok(None);
        };
        sqlx::any::install_default_drivers();
        let name = format!(
            "portorium_t_{}",
            UuidV7Gen::new(SystemClock).new_id().simple()
        );
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&base).await?;
        sqlx::Executor::execute(&mut conn, format!("CREATE DATABASE {name}").as_str()).await?;
        <sqlx::AnyConnection as sqlx::Connection>::close(conn).await?;
        let url = match base.rfind('/') {
            Some(i) if i > "postgres://".len() => format!("{}/{name}", &base[..i]),
            _ => format!("{base}/{name}"),
        };
        Ok(Some(TestDb {
            url,
            label: "postgres",
            _dir: None,
            pg_drop: Some((base, name)),
        }))
    }

    /// Every backend under test: SQLite always, PostgreSQL when configured.
    pub async fn all() -> Result<Vec<TestDb>> {
        let mut v = vec![TestDb::sqlite()?];
        if let Some(pg) = TestDb::postgres().await? {
            v.push(pg);
        }
        Ok(v)
    }

    /// Open a store on this database with the given clock and ids.
    pub async fn open_with(&self, clock: Arc<dyn Clock>, ids: Arc<dyn IdGen>) -> Result<Store> {
        Store::open(&self.url, StoreOptions::default(), clock, ids).await
    }

    /// Open a store with the system clock.
    pub async fn open(&self) -> Result<Store> {
        self.open_with(Arc::new(SystemClock), Arc::new(UuidV7Gen::new(SystemClock)))
            .await
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((base, name)) = self.pg_drop.take() {
            // Drop on a separate thread with its own runtime: Drop cannot await.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async move {
                    if let Ok(mut c) =
                        <sqlx::AnyConnection as sqlx::Connection>::connect(&base).await
                    {
                        let _ = sqlx::Executor::execute(
                            &mut c,
                            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str(),
                        )
                        .await;
                    }
                });
            })
            .join();
        }
    }
}
