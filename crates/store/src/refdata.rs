//! NCTS reference data: the customs office list (COL) and the code lists.
//!
//! Reference data is common to every administration, so it is read through [`Store`], not
//! [`crate::Scoped`]. The store does not parse the published files (the `portorium-refdata`
//! crate does); it takes typed batches. [`Store::refdata_import`] applies every batch of one
//! import in one transaction: each batch *replaces* the list it brings (the office list, one
//! code list, or the catalogue of code lists), and each is recorded in `refdata_imports` with
//! its source, size, who imported it and when, plus a `refdata.imported` outbox event.

use crate::db::{col, parse_ts, Placeholders, Store};
use crate::error::StoreError;
use crate::identity::not_found;
use crate::Result;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::any::AnyRow;

/// The list name under which the office list's imports are recorded.
pub const OFFICE_LIST: &str = "CustomsOffices";
/// The list name under which the catalogue of code lists' imports are recorded.
pub const CODE_LIST_CATALOGUE: &str = "CodeListCatalogue";

/// A customs office to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefOffice {
    /// `NL000110`.
    pub reference: String,
    pub country: String,
    pub name: String,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    pub unlocode: Option<String>,
    pub main_office: Option<String>,
    pub trader_dedicated: bool,
    /// (role, traffic type), e.g. (`DEP`, `R`).
    pub roles: Vec<(String, String)>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

/// A code of a code list to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefCode {
    pub code: String,
    pub description: String,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

/// One list of an import; each replaces what is stored for that list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefdataBatch {
    /// The whole customs office list.
    Offices(Vec<NewRefOffice>),
    /// One code list, by name (`CountryCodesFullList`, `Role`…).
    Codes {
        list: String,
        codes: Vec<NewRefCode>,
    },
    /// The catalogue of code lists: (number, name), e.g. (`CL008`, `CountryCodesFullList`).
    Catalogue(Vec<(String, String)>),
}

impl RefdataBatch {
    fn list_name(&self) -> &str {
        match self {
            RefdataBatch::Offices(_) => OFFICE_LIST,
            RefdataBatch::Codes { list, .. } => list,
            RefdataBatch::Catalogue(_) => CODE_LIST_CATALOGUE,
        }
    }
    fn len(&self) -> usize {
        match self {
            RefdataBatch::Offices(v) => v.len(),
            RefdataBatch::Codes { codes, .. } => codes.len(),
            RefdataBatch::Catalogue(v) => v.len(),
        }
    }
}

/// A recorded import of one list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RefdataImportRow {
    pub id: String,
    pub list_name: String,
    pub source: String,
    pub entries: i64,
    pub imported_by: String,
    pub imported_at: DateTime<Utc>,
}

/// A customs office of the reference data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RefOfficeRow {
    #[schema(example = "NL000110")]
    pub reference: String,
    pub country: String,
    pub name: String,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    pub unlocode: Option<String>,
    pub main_office: Option<String>,
    pub trader_dedicated: bool,
    /// Distinct roles (`DEP`, `DES`, `TRA`, `EXT`…), sorted.
    pub roles: Vec<String>,
    pub valid_from: NaiveDate,
    pub valid_to: Option<NaiveDate>,
}

impl RefOfficeRow {
    /// Does the office have `role` (`DEP`, `DES`, `TRA`…)?
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

pub(crate) fn parse_day(name: &str, s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| StoreError::Corrupt(format!("{name} {s:?}: {e}")))
}

pub(crate) fn parse_opt_day(name: &str, s: Option<String>) -> Result<Option<NaiveDate>> {
    s.map(|s| parse_day(name, &s)).transpose()
}

fn office_row(r: &AnyRow) -> Result<RefOfficeRow> {
    let roles: String = col(r, "roles")?;
    let dedicated: i64 = col(r, "trader_dedicated")?;
    Ok(RefOfficeRow {
        reference: col(r, "reference")?,
        country: col(r, "country")?,
        name: col(r, "name")?,
        city: col(r, "city")?,
        postal_code: col(r, "postal_code")?,
        unlocode: col(r, "unlocode")?,
        main_office: col(r, "main_office")?,
        trader_dedicated: dedicated != 0,
        roles: roles
            .split(',')
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect(),
        valid_from: parse_day("valid_from", &col::<String>(r, "valid_from")?)?,
        valid_to: parse_opt_day("valid_to", col(r, "valid_to")?)?,
    })
}

fn import_row(r: &AnyRow) -> Result<RefdataImportRow> {
    Ok(RefdataImportRow {
        id: col(r, "id")?,
        list_name: col(r, "list_name")?,
        source: col(r, "source")?,
        entries: col(r, "entries")?,
        imported_by: col(r, "imported_by")?,
        imported_at: parse_ts(&col::<String>(r, "imported_at")?)?,
    })
}

fn check(field: &str, v: &str, max: usize) -> Result<()> {
    if v.trim().is_empty() || v.len() > max {
        return Err(StoreError::Invalid(format!(
            "{field} {:?} must be 1 to {max} characters",
            v.chars().take(40).collect::<String>()
        )));
    }
    Ok(())
}

fn validate(batch: &RefdataBatch) -> Result<()> {
    match batch {
        RefdataBatch::Offices(offices) => {
            for o in offices {
                check("office reference", &o.reference, 8)?;
                check("office country", &o.country, 2)?;
                check("office name", &o.name, 200)?;
                for (role, traffic) in &o.roles {
                    check("office role", role, 8)?;
                    check("office traffic type", traffic, 8)?;
                }
            }
        }
        RefdataBatch::Codes { list, codes } => {
            check("code list name", list, 100)?;
            for c in codes {
                check("code", &c.code, 70)?;
            }
        }
        RefdataBatch::Catalogue(lists) => {
            for (number, name) in lists {
                check("code list number", number, 10)?;
                check("code list name", name, 100)?;
            }
        }
    }
    Ok(())
}

/// Rows per multi-row INSERT (PostgreSQL allows 65,535 parameters per statement; SQLite 32,766).
const CHUNK: usize = 500;

/// (list, code) pairs per query of [`Store::ref_codes_valid`] (two parameters each, within
/// both backends' limits): a message's distinct codes fit in one.
pub const CODE_PAIRS_PER_QUERY: usize = 10_000;

impl Store {
    /// Imports reference data: every batch replaces its list, all in one transaction (nothing
    /// is changed if any batch fails). Returns one import record per batch.
    pub async fn refdata_import(
        &self,
        imported_by: &str,
        source: &str,
        batches: &[RefdataBatch],
    ) -> Result<Vec<RefdataImportRow>> {
        check("imported_by", imported_by, 200)?;
        check("source", source, 500)?;
        for b in batches {
            validate(b)?;
        }
        let now_text = self.now_text();
        let now = parse_ts(&now_text)?;
        let mut tx = self.begin().await?;
        let mut out = Vec::with_capacity(batches.len());
        for batch in batches {
            let id = self.ids().new_id().to_string();
            let entries = i64::try_from(batch.len())
                .map_err(|_| StoreError::Invalid("too many entries".into()))?;
            sqlx::query(
                "INSERT INTO refdata_imports (id, list_name, source, entries, imported_by, \
                 imported_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&id)
            .bind(batch.list_name())
            .bind(source)
            .bind(entries)
            .bind(imported_by)
            .bind(&now_text)
            .execute(tx.conn())
            .await?;
            match batch {
                RefdataBatch::Offices(offices) => {
                    self.replace_offices(tx.conn(), &id, offices).await?
                }
                RefdataBatch::Codes { list, codes } => {
                    self.replace_codes(tx.conn(), &id, list, codes).await?
                }
                RefdataBatch::Catalogue(lists) => {
                    self.replace_catalogue(tx.conn(), &id, lists).await?
                }
            }
            tx.emit(
                None,
                "refdata.imported",
                &serde_json::json!({
                    "import_id": id,
                    "list": batch.list_name(),
                    "entries": entries,
                }),
            )
            .await?;
            out.push(RefdataImportRow {
                id,
                list_name: batch.list_name().to_owned(),
                source: source.to_owned(),
                entries,
                imported_by: imported_by.to_owned(),
                imported_at: now,
            });
        }
        tx.commit().await?;
        Ok(out)
    }

    async fn replace_offices(
        &self,
        conn: &mut sqlx::AnyConnection,
        import_id: &str,
        offices: &[NewRefOffice],
    ) -> Result<()> {
        let mut seen = std::collections::BTreeSet::new();
        for o in offices {
            if !seen.insert(o.reference.as_str()) {
                return Err(StoreError::Invalid(format!(
                    "office {} appears twice in the import",
                    o.reference
                )));
            }
        }
        sqlx::query("DELETE FROM refdata_office_roles")
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM refdata_offices")
            .execute(&mut *conn)
            .await?;
        for chunk in offices.chunks(CHUNK) {
            let mut sql = String::from(
                "INSERT INTO refdata_offices (reference, country, name, city, postal_code, \
                 unlocode, main_office, trader_dedicated, roles, valid_from, valid_to, \
                 import_id) VALUES ",
            );
            Placeholders::new(self.backend()).push_rows(&mut sql, chunk.len(), 12);
            let mut q = sqlx::query(&sql);
            for o in chunk {
                let mut roles: Vec<&str> = o.roles.iter().map(|(r, _)| r.as_str()).collect();
                roles.sort_unstable();
                roles.dedup();
                q = q
                    .bind(o.reference.clone())
                    .bind(o.country.clone())
                    .bind(o.name.clone())
                    .bind(o.city.clone())
                    .bind(o.postal_code.clone())
                    .bind(o.unlocode.clone())
                    .bind(o.main_office.clone())
                    .bind(i64::from(o.trader_dedicated))
                    .bind(roles.join(","))
                    .bind(day(o.valid_from))
                    .bind(o.valid_to.map(day))
                    .bind(import_id.to_owned());
            }
            q.execute(&mut *conn).await?;
        }
        let roles: Vec<(&str, &str, &str)> = {
            let mut v: Vec<(&str, &str, &str)> = offices
                .iter()
                .flat_map(|o| {
                    o.roles
                        .iter()
                        .map(|(r, t)| (o.reference.as_str(), r.as_str(), t.as_str()))
                })
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        for chunk in roles.chunks(CHUNK) {
            let mut sql = String::from(
                "INSERT INTO refdata_office_roles (reference, role, traffic_type) VALUES ",
            );
            Placeholders::new(self.backend()).push_rows(&mut sql, chunk.len(), 3);
            let mut q = sqlx::query(&sql);
            for (reference, role, traffic) in chunk {
                q = q
                    .bind(reference.to_string())
                    .bind(role.to_string())
                    .bind(traffic.to_string());
            }
            q.execute(&mut *conn).await?;
        }
        Ok(())
    }

    async fn replace_codes(
        &self,
        conn: &mut sqlx::AnyConnection,
        import_id: &str,
        list: &str,
        codes: &[NewRefCode],
    ) -> Result<()> {
        let mut seen = std::collections::BTreeSet::new();
        for c in codes {
            if !seen.insert(c.code.as_str()) {
                return Err(StoreError::Invalid(format!(
                    "code {} appears twice in code list {list}",
                    c.code
                )));
            }
        }
        sqlx::query("DELETE FROM refdata_codes WHERE list_name = $1")
            .bind(list)
            .execute(&mut *conn)
            .await?;
        for chunk in codes.chunks(CHUNK) {
            let mut sql = String::from(
                "INSERT INTO refdata_codes (list_name, code, description, valid_from, valid_to, \
                 import_id) VALUES ",
            );
            Placeholders::new(self.backend()).push_rows(&mut sql, chunk.len(), 6);
            let mut q = sqlx::query(&sql);
            for c in chunk {
                q = q
                    .bind(list.to_owned())
                    .bind(c.code.clone())
                    .bind(c.description.clone())
                    .bind(day(c.valid_from))
                    .bind(c.valid_to.map(day))
                    .bind(import_id.to_owned());
            }
            q.execute(&mut *conn).await?;
        }
        Ok(())
    }

    async fn replace_catalogue(
        &self,
        conn: &mut sqlx::AnyConnection,
        import_id: &str,
        lists: &[(String, String)],
    ) -> Result<()> {
        let mut seen = std::collections::BTreeSet::new();
        for (number, _) in lists {
            if !seen.insert(number.as_str()) {
                return Err(StoreError::Invalid(format!(
                    "code list {number} appears twice in the catalogue"
                )));
            }
        }
        sqlx::query("DELETE FROM refdata_code_lists")
            .execute(&mut *conn)
            .await?;
        for chunk in lists.chunks(CHUNK) {
            let mut sql =
                String::from("INSERT INTO refdata_code_lists (number, name, import_id) VALUES ");
            Placeholders::new(self.backend()).push_rows(&mut sql, chunk.len(), 3);
            let mut q = sqlx::query(&sql);
            for (number, name) in chunk {
                q = q
                    .bind(number.clone())
                    .bind(name.clone())
                    .bind(import_id.to_owned());
            }
            q.execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// The imports of reference data, newest first (at most `limit`).
    pub async fn refdata_imports(&self, limit: u32) -> Result<Vec<RefdataImportRow>> {
        let rows = sqlx::query(
            "SELECT id, list_name, source, entries, imported_by, imported_at FROM refdata_imports \
             ORDER BY imported_at DESC, id DESC LIMIT $1",
        )
        .bind(i64::from(limit.clamp(1, 1000)))
        .fetch_all(self.read())
        .await?;
        rows.iter().map(import_row).collect()
    }

    /// A customs office valid on `as_of`.
    pub async fn ref_office(&self, reference: &str, as_of: NaiveDate) -> Result<RefOfficeRow> {
        let row = sqlx::query(
            "SELECT reference, country, name, city, postal_code, unlocode, main_office, \
             trader_dedicated, roles, valid_from, valid_to FROM refdata_offices \
             WHERE reference = $1 AND valid_from <= $2 AND (valid_to IS NULL OR valid_to >= $2)",
        )
        .bind(reference)
        .bind(day(as_of))
        .fetch_optional(self.read())
        .await?
        .ok_or_else(|| not_found("customs office", reference))?;
        office_row(&row)
    }

    /// The (role, traffic type) pairs of an office.
    pub async fn ref_office_roles(&self, reference: &str) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT role, traffic_type FROM refdata_office_roles WHERE reference = $1 \
             ORDER BY role, traffic_type",
        )
        .bind(reference)
        .fetch_all(self.read())
        .await?;
        rows.iter()
            .map(|r| Ok((col(r, "role")?, col(r, "traffic_type")?)))
            .collect()
    }

    /// The offices of a country valid on `as_of`, by reference, optionally only those with
    /// `role`; at most `limit` after `after`.
    pub async fn ref_offices(
        &self,
        country: &str,
        role: Option<&str>,
        as_of: NaiveDate,
        page: &crate::Page,
    ) -> Result<(Vec<RefOfficeRow>, Option<String>)> {
        let rows = sqlx::query(
            "SELECT o.reference, o.country, o.name, o.city, o.postal_code, o.unlocode, \
             o.main_office, o.trader_dedicated, o.roles, o.valid_from, o.valid_to \
             FROM refdata_offices o WHERE o.country = $1 AND o.valid_from <= $2 \
             AND (o.valid_to IS NULL OR o.valid_to >= $2) AND o.reference > $3 \
             AND ($4 = '' OR EXISTS (SELECT 1 FROM refdata_office_roles r \
                  WHERE r.reference = o.reference AND r.role = $4)) \
             ORDER BY o.reference LIMIT $5",
        )
        .bind(country)
        .bind(day(as_of))
        .bind(page.after())
        .bind(role.unwrap_or(""))
        .bind(page.fetch_limit())
        .fetch_all(self.read())
        .await?;
        let rows = rows.iter().map(office_row).collect::<Result<Vec<_>>>()?;
        Ok(page.finish(rows, |o| o.reference.clone()))
    }

    /// Is `code` in code list `list` on `as_of`? `list` is a name (`CountryCodesFullList`)
    /// or a catalogue number (`CL008`). `None` when the list itself is unknown (never
    /// imported), so that a caller can tell "not a member" from "no reference data".
    pub async fn ref_code_valid(
        &self,
        list: &str,
        code: &str,
        as_of: NaiveDate,
    ) -> Result<Option<bool>> {
        let name: Option<(String,)> =
            sqlx::query_as("SELECT name FROM refdata_code_lists WHERE number = $1")
                .bind(list)
                .fetch_optional(self.read())
                .await?;
        let name = name.map(|(n,)| n).unwrap_or_else(|| list.to_owned());
        let row: (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM refdata_codes WHERE list_name = $1), \
             (SELECT COUNT(*) FROM refdata_codes WHERE list_name = $1 AND code = $2 \
              AND valid_from <= $3 AND (valid_to IS NULL OR valid_to >= $3))",
        )
        .bind(&name)
        .bind(code)
        .bind(day(as_of))
        .fetch_one(self.read())
        .await?;
        Ok(if row.0 == 0 { None } else { Some(row.1 > 0) })
    }

    /// [`Store::ref_code_valid`] for many (list, code) pairs at once, in one query (per
    /// [`CODE_PAIRS_PER_QUERY`] pairs): the answers in the order of `pairs`, `None` for a pair
    /// whose list was never imported. Lodging looks up every coded element of a message this
    /// way, so a message costs one round trip however many codes it holds.
    pub async fn ref_codes_valid(
        &self,
        pairs: &[(&str, &str)],
        as_of: NaiveDate,
    ) -> Result<Vec<Option<bool>>> {
        let as_of = day(as_of);
        let mut known: std::collections::HashMap<(String, String), Option<bool>> =
            std::collections::HashMap::with_capacity(pairs.len());
        for chunk in pairs.chunks(CODE_PAIRS_PER_QUERY) {
            // The date first: `?` placeholders (SQLite) bind in the order they appear.
            let mut p = Placeholders::new(self.backend());
            let mut sql = String::from(
                "SELECT k.column1 AS list, k.column2 AS code, \
                 CAST(CASE WHEN EXISTS (SELECT 1 FROM refdata_codes c \
                   WHERE c.list_name = COALESCE(l.name, k.column1)) THEN 1 ELSE 0 END AS BIGINT) \
                   AS known, \
                 CAST(CASE WHEN EXISTS (SELECT 1 FROM refdata_codes c \
                   WHERE c.list_name = COALESCE(l.name, k.column1) AND c.code = k.column2 \
                   AND c.valid_from <= ",
            );
            p.push(&mut sql);
            sql.push_str(" AND (c.valid_to IS NULL OR c.valid_to >= ");
            p.push(&mut sql);
            sql.push_str(
                ")) THEN 1 ELSE 0 END AS BIGINT) AS valid \
                 FROM (VALUES ",
            );
            p.push_rows(&mut sql, chunk.len(), 2);
            sql.push_str(") AS k LEFT JOIN refdata_code_lists l ON l.number = k.column1");
            let mut q = sqlx::query(&sql).bind(as_of.clone()).bind(as_of.clone());
            for (list, code) in chunk {
                q = q.bind((*list).to_owned()).bind((*code).to_owned());
            }
            for r in q.fetch_all(self.read()).await? {
                let list: String = col(&r, "list")?;
                let code: String = col(&r, "code")?;
                let exists: i64 = col(&r, "known")?;
                let valid: i64 = col(&r, "valid")?;
                known.insert((list, code), (exists != 0).then_some(valid != 0));
            }
        }
        pairs
            .iter()
            .map(|(list, code)| {
                known
                    .get(&((*list).to_owned(), (*code).to_owned()))
                    .copied()
                    .ok_or_else(|| StoreError::Corrupt(format!("no answer for {list} {code}")))
            })
            .collect()
    }

    /// The description of a code in a list, if present.
    pub async fn ref_code_description(&self, list: &str, code: &str) -> Result<Option<String>> {
        let v: Option<(String,)> = sqlx::query_as(
            "SELECT c.description FROM refdata_codes c WHERE c.code = $2 AND (c.list_name = $1 \
             OR c.list_name = (SELECT l.name FROM refdata_code_lists l WHERE l.number = $1))",
        )
        .bind(list)
        .bind(code)
        .fetch_optional(self.read())
        .await?;
        Ok(v.map(|(d,)| d))
    }

    /// The catalogue of code lists: (number, name), by number.
    pub async fn ref_code_lists(&self) -> Result<Vec<(String, String)>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT number, name FROM refdata_code_lists ORDER BY number")
                .fetch_all(self.read())
                .await?;
        Ok(rows)
    }
}
