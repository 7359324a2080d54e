//! Transit processing at the storage level: one transaction per trader message or office
//! decision, holding everything that message or decision writes.
//!
//! The declaration service (the server's `transit` module) opens a [`TransitTx`] with
//! [`Scoped::transit_begin`], creates or locks the movements it acts on, appends the inbound
//! message and the messages it generates, moves the state (one history row and one outbox
//! event per transition), takes an MRN serial, reserves or releases guarantee amounts, and
//! commits once. Nothing is visible before the commit and nothing survives a rollback (or a
//! crash before the commit), so a client that got a 2xx finds everything it was told about,
//! and never half of it.
//!
//! # Scoping
//! A movement is acted on only through a [`Locked`] handle, which the transaction hands out
//! for a movement it created ([`TransitTx::create`]: the owner is the administration of the
//! office of departure, or of destination for an arrival, and a trader creates only its own),
//! for a movement visible in the scope ([`TransitTx::lock`]), or, explicitly, for the departure
//! an arrival notification names ([`TransitTx::lock_departure_for_arrival`]): the transit
//! procedure is one movement shared by the office of departure and the office of destination,
//! so the arrival at destination moves the departure on (arrival notified … written off) even
//! when the two offices belong to different administrations.
//!
//! # Guarantees
//! [`TransitTx::reserve`] follows the rule of `guarantee_reserve`: it first updates the
//! guarantee row (its version), which serialises reservations of one guarantee (row lock on
//! PostgreSQL, the write lock on SQLite), and only then sums the reservations held, so the
//! reference amount is never exceeded. The guarantee must belong to the movement's
//! administration.

use crate::batch::Grouped;
use crate::db::{col, parse_ts, Store};
use crate::declarations::{
    check_text, dec, keep_reserved_total, message_row, movement_row, release_on, reservation_row,
    reserved_total, visibility, Direction, GuaranteeReservationRow, GuaranteeShortfall,
    MovementKind, MovementMessageRow, MovementRow, MESSAGE_COLUMNS, MOVEMENT_COLUMNS,
    RESERVATION_COLUMNS,
};
use crate::error::StoreError;
use crate::identity::not_found;
use crate::refdata::{parse_day, parse_opt_day};
use crate::scope::{Scope, Scoped};
use crate::Result;
use chrono::{DateTime, NaiveDate, Utc};
use portorium_kernel::{Eori, OfficeRef, PrincipalId, TenantCode};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// SHA-256 of a message body: what "the same content" means for a repeated message.
pub fn content_hash(body: &str) -> Vec<u8> {
    Sha256::digest(body.as_bytes()).to_vec()
}

/// A message to store with a movement: received from the trader (`Inbound`) or generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitMessage {
    /// `CC015C`…
    pub message_type: String,
    pub direction: Direction,
    /// The `messageIdentification` written in the message.
    pub message_identification: String,
    /// `application/xml`.
    pub content_type: String,
    pub body: String,
}

/// A movement to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTransitMovement {
    pub kind: MovementKind,
    pub lrn: Option<String>,
    pub mrn: Option<String>,
    pub holder: Eori,
    pub office_of_departure: Option<OfficeRef>,
    pub office_of_destination: Option<OfficeRef>,
}

/// A movement locked by a [`TransitTx`]: the only way to write to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locked {
    row: MovementRow,
}

impl Locked {
    fn of(row: MovementRow) -> Self {
        Self { row }
    }
}

/// The next message and history sequence numbers of a movement this transaction wrote to.
/// While it is locked nobody else writes to the movement, so they are read once (for a
/// movement locked) or start at 1 (for a movement created in this transaction) instead of
/// asking for `MAX(seq)` before every message and transition.
#[derive(Debug, Clone, Copy, Default)]
struct NextSeq {
    message: Option<i64>,
    history: Option<i64>,
}

impl Locked {
    /// The movement as it is in this transaction.
    pub fn row(&self) -> &MovementRow {
        &self.row
    }
}

/// A guarantee as the lodging checks need it: its administration, holder, validity, amount
/// and the access code's hash (never the code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuaranteeCheck {
    pub grn: String,
    pub tenant: String,
    pub guarantee_type: String,
    pub access_code_hash: String,
    pub reference_amount: Decimal,
    pub currency: String,
    pub holder: String,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
}

impl GuaranteeCheck {
    pub fn valid_on(&self, on: NaiveDate) -> bool {
        self.valid_from <= on && self.valid_until.is_none_or(|u| on <= u)
    }
}

/// An authorisation as a declaration cites it (type and reference), in the administration of
/// the office of departure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorisationCheck {
    pub holder: String,
    pub type_code: String,
    pub reference: String,
    pub valid_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub revoked: bool,
}

impl AuthorisationCheck {
    /// Valid on `on`: inside its period and not revoked.
    pub fn valid_on(&self, on: NaiveDate) -> bool {
        !self.revoked && self.valid_from <= on && self.valid_until.is_none_or(|u| on <= u)
    }
}

/// An earlier trader message with the same sender and message identification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlierMessage {
    pub movement_id: String,
    pub message_id: String,
    /// Whether its content hash equals the new message's.
    pub same_content: bool,
}

/// A history row written at the commit (see [`TransitTx::commit`]).
struct PendingHistory {
    movement_id: String,
    seq: i64,
    tenant: String,
    from_state: Option<String>,
    to_state: String,
    action: String,
    message_id: Option<String>,
    detail: Option<String>,
}

/// An outbox event written at the commit.
struct PendingEvent {
    tenant: String,
    topic: &'static str,
    payload: String,
}

/// The state and MRN of a movement written at the commit (or before a statement of this
/// transaction reads movements).
struct PendingMovement {
    id: String,
    state: String,
    mrn: Option<String>,
}

/// Rows per multi-row `INSERT` (far below either backend's limit of bound parameters).
const ROWS_PER_INSERT: usize = 50;

/// A transaction of the transit service (see the module documentation).
///
/// To save statements (each one a round trip to the database, and on SQLite through the one
/// writer connection), the history rows, the outbox events and the movements' state changes
/// are kept in memory and written when the transaction commits, in one multi-row `INSERT`
/// per table and one `UPDATE` per movement changed; the movements' state is also written
/// before a statement of the transaction reads movements. Nothing reads the history or the
/// outbox inside a transaction, and everything is still written in the one transaction, so
/// what a commit makes visible (and what a rollback or a crash discards) is unchanged.
pub struct TransitTx<'s> {
    /// A member of the store's group commit: its own savepoint of a shared transaction.
    tx: Grouped<'s>,
    history: Vec<PendingHistory>,
    events: Vec<PendingEvent>,
    movements: Vec<PendingMovement>,
    /// By movement id.
    seqs: HashMap<String, NextSeq>,
    store: &'s Store,
    scope: Scope,
    by: PrincipalId,
    now_text: String,
    now: DateTime<Utc>,
}

impl Scoped<'_> {
    /// Opens a transit transaction acting as `by` (the authenticated principal of this scope).
    pub async fn transit_begin(&self, by: &PrincipalId) -> Result<TransitTx<'_>> {
        match &self.scope {
            Scope::Trader(_) | Scope::Tenant(_) => {}
            _ => {
                return Err(StoreError::OutOfScope(
                    "only traders and administrations act on transit movements".into(),
                ));
            }
        }
        if Scope::of(by) != self.scope {
            return Err(StoreError::OutOfScope(
                "the actor is not the principal of this scope".into(),
            ));
        }
        let store = self.store;
        let now_text = store.now_text();
        let now = parse_ts(&now_text)?;
        Ok(TransitTx {
            tx: store.begin_grouped().await?,
            history: Vec::new(),
            events: Vec::new(),
            movements: Vec::new(),
            seqs: HashMap::new(),
            store,
            scope: self.scope.clone(),
            by: by.clone(),
            now_text,
            now,
        })
    }

    /// The guarantee `grn` of the administration of `office` (the office of departure a
    /// declaration names), for the lodging checks. A trader may ask only about the offices'
    /// administrations it lodges with; what it learns is only returned to the service.
    pub async fn transit_guarantee(
        &self,
        office: &OfficeRef,
        grn: &str,
    ) -> Result<Option<GuaranteeCheck>> {
        let tenant = lodging_tenant(&self.scope, office)?;
        let row = sqlx::query(
            "SELECT grn, tenant, guarantee_type, access_code_hash, reference_amount, currency, \
             holder, valid_from, valid_until FROM guarantees WHERE grn = $1 AND tenant = $2",
        )
        .bind(grn)
        .bind(tenant.as_str())
        .fetch_optional(self.store.read())
        .await?;
        row.map(|r| {
            Ok(GuaranteeCheck {
                grn: col(&r, "grn")?,
                tenant: col(&r, "tenant")?,
                guarantee_type: col(&r, "guarantee_type")?,
                access_code_hash: col(&r, "access_code_hash")?,
                reference_amount: dec(&r, "reference_amount")?,
                currency: col(&r, "currency")?,
                holder: col(&r, "holder")?,
                valid_from: parse_day("valid_from", &col::<String>(&r, "valid_from")?)?,
                valid_until: parse_opt_day("valid_until", col(&r, "valid_until")?)?,
            })
        })
        .transpose()
    }

    /// The authorisation (type, reference) in the administration of `office`, for the lodging
    /// checks; the caller checks holder and validity.
    pub async fn transit_authorisation(
        &self,
        office: &OfficeRef,
        type_code: &str,
        reference: &str,
    ) -> Result<Option<AuthorisationCheck>> {
        let tenant = lodging_tenant(&self.scope, office)?;
        let row = sqlx::query(
            "SELECT holder, type_code, reference, valid_from, valid_until, revoked_at \
             FROM authorisations WHERE tenant = $1 AND type_code = $2 AND reference = $3",
        )
        .bind(tenant.as_str())
        .bind(type_code)
        .bind(reference)
        .fetch_optional(self.store.read())
        .await?;
        row.map(|r| {
            let revoked: Option<String> = col(&r, "revoked_at")?;
            Ok(AuthorisationCheck {
                holder: col(&r, "holder")?,
                type_code: col(&r, "type_code")?,
                reference: col(&r, "reference")?,
                valid_from: parse_day("valid_from", &col::<String>(&r, "valid_from")?)?,
                valid_until: parse_opt_day("valid_until", col(&r, "valid_until")?)?,
                revoked: revoked.is_some(),
            })
        })
        .transpose()
    }

    /// Departures visible in this scope for the trader API's list: updated since a time, by
    /// MRN or LRN, newest update first, `count` per page (`page` from 1). Returns the page
    /// and the total number of matches.
    pub async fn transit_movements(
        &self,
        kind: MovementKind,
        filter: &TransitFilter,
        page: u32,
        count: u32,
    ) -> Result<(Vec<MovementRow>, i64)> {
        let (vis, value) = visibility(&self.scope, 1)?;
        let conds = format!(
            "{vis} AND kind = $2 AND ($3 = '' OR updated_at >= $3) AND ($4 = '' OR mrn = $4) \
             AND ($5 = '' OR lrn = $5) AND ($6 = '' OR state = $6)"
        );
        let since = filter
            .updated_since
            .map(crate::db::fmt_ts)
            .unwrap_or_default();
        let (total,): (i64,) =
            sqlx::query_as(&format!("SELECT COUNT(*) FROM movements WHERE {conds}"))
                .bind(&value)
                .bind(kind.as_str())
                .bind(&since)
                .bind(filter.mrn.as_deref().unwrap_or(""))
                .bind(filter.lrn.as_deref().unwrap_or(""))
                .bind(filter.state.as_deref().unwrap_or(""))
                .fetch_one(self.store.read())
                .await?;
        let count = count.clamp(1, 500);
        let offset = i64::from(page.max(1) - 1) * i64::from(count);
        let rows = sqlx::query(&format!(
            "SELECT {MOVEMENT_COLUMNS} FROM movements WHERE {conds} \
             ORDER BY updated_at DESC, id DESC LIMIT $7 OFFSET $8"
        ))
        .bind(&value)
        .bind(kind.as_str())
        .bind(&since)
        .bind(filter.mrn.as_deref().unwrap_or(""))
        .bind(filter.lrn.as_deref().unwrap_or(""))
        .bind(filter.state.as_deref().unwrap_or(""))
        .bind(i64::from(count))
        .bind(offset)
        .fetch_all(self.store.read())
        .await?;
        let rows = rows.iter().map(movement_row).collect::<Result<Vec<_>>>()?;
        Ok((rows, total))
    }

    /// The guarantee reservations held for a movement visible in this scope.
    pub async fn transit_reservations(
        &self,
        movement_id: &str,
    ) -> Result<Vec<GuaranteeReservationRow>> {
        self.movement(movement_id).await?;
        let rows = sqlx::query(&format!(
            "SELECT {RESERVATION_COLUMNS} FROM guarantee_reservations \
             WHERE movement_id = $1 ORDER BY reserved_at, id"
        ))
        .bind(movement_id)
        .fetch_all(self.store.read())
        .await?;
        rows.iter().map(reservation_row).collect()
    }
}

/// Filters of [`Scoped::transit_movements`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransitFilter {
    pub updated_since: Option<DateTime<Utc>>,
    pub mrn: Option<String>,
    pub lrn: Option<String>,
    pub state: Option<String>,
}

/// The administration a declaration lodged at `office` belongs to, if this scope may lodge
/// or act there: a trader anywhere, an administration at its own offices.
fn lodging_tenant(scope: &Scope, office: &OfficeRef) -> Result<TenantCode> {
    let tenant: TenantCode = office.country().parse()?;
    match scope {
        Scope::Trader(_) => Ok(tenant),
        Scope::Tenant(t) if *t == tenant => Ok(tenant),
        _ => Err(StoreError::OutOfScope(format!(
            "office {office} is not in this scope"
        ))),
    }
}

impl TransitTx<'_> {
    /// The time of this transaction (every row it writes carries it).
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// A new id from the store's generator (message identifications of generated messages).
    pub fn new_id(&self) -> String {
        self.store.ids().new_id().to_string()
    }

    /// An earlier trader message from `sender` with this message identification, if any.
    pub async fn earlier_message(
        &mut self,
        sender: &Eori,
        message_identification: &str,
        body: &str,
    ) -> Result<Option<EarlierMessage>> {
        let row: Option<(String, String, Vec<u8>)> = sqlx::query_as(
            "SELECT movement_id, message_id, content_hash FROM transit_inbound_messages \
             WHERE sender = $1 AND message_identification = $2",
        )
        .bind(sender.as_str())
        .bind(message_identification)
        .fetch_optional(self.tx.conn()?)
        .await?;
        Ok(row.map(|(movement_id, message_id, hash)| EarlierMessage {
            movement_id,
            message_id,
            same_content: hash == content_hash(body),
        }))
    }

    /// Whether `holder` already has a departure with this LRN that was not rejected.
    pub async fn lrn_in_use(&mut self, holder: &Eori, lrn: &str) -> Result<bool> {
        self.write_movements().await?;
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM movements WHERE holder = $1 AND lrn = $2 AND kind = 'departure' \
             AND state <> 'rejected'",
        )
        .bind(holder.as_str())
        .bind(lrn)
        .fetch_optional(self.tx.conn()?)
        .await?;
        Ok(row.is_some())
    }

    /// Creates a movement in state `state` (its owner: the administration of the office of
    /// departure, or of destination for an arrival). A trader creates only its own movements,
    /// an administration only movements of its offices.
    pub async fn create(&mut self, m: &NewTransitMovement, state: &str) -> Result<Locked> {
        let office = match m.kind {
            MovementKind::Departure => m.office_of_departure.as_ref(),
            MovementKind::Arrival => m.office_of_destination.as_ref(),
        }
        .ok_or_else(|| StoreError::Invalid(format!("a {} needs its office", m.kind.as_str())))?;
        let tenant = lodging_tenant(&self.scope, office)?;
        if let Scope::Trader(e) = &self.scope {
            if *e != m.holder {
                return Err(StoreError::OutOfScope(
                    "a trader lodges only its own movements".into(),
                ));
            }
        }
        check_text("state", state, 40)?;
        if let Some(lrn) = &m.lrn {
            check_text("lrn", lrn, 22)?;
        }
        let id = self.new_id();
        sqlx::query(
            "INSERT INTO movements (id, tenant, kind, lrn, mrn, holder, office_of_departure, \
             office_of_destination, state, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $10)",
        )
        .bind(&id)
        .bind(tenant.as_str())
        .bind(m.kind.as_str())
        .bind(m.lrn.as_deref())
        .bind(m.mrn.as_deref())
        .bind(m.holder.as_str())
        .bind(m.office_of_departure.as_ref().map(|o| o.to_string()))
        .bind(m.office_of_destination.as_ref().map(|o| o.to_string()))
        .bind(state)
        .bind(&self.now_text)
        .execute(self.tx.conn()?)
        .await
        .map_err(|e| {
            StoreError::conflict_on_unique(e, "movement", m.lrn.as_deref().unwrap_or(""))
        })?;
        self.emit(
            &tenant,
            "movement.created",
            &serde_json::json!({ "movement_id": id, "kind": m.kind.as_str(), "state": state }),
        );
        self.seqs.insert(
            id.clone(),
            NextSeq {
                message: Some(1),
                history: Some(1),
            },
        );
        Ok(Locked {
            row: MovementRow {
                id,
                tenant: tenant.to_string(),
                kind: m.kind,
                lrn: m.lrn.clone(),
                mrn: m.mrn.clone(),
                holder: m.holder.to_string(),
                office_of_departure: m.office_of_departure.as_ref().map(|o| o.to_string()),
                office_of_destination: m.office_of_destination.as_ref().map(|o| o.to_string()),
                state: state.to_owned(),
                version: 0,
                created_at: self.now,
                updated_at: self.now,
            },
        })
    }

    /// Locks a movement visible in this scope (a trader: its own; an administration: its
    /// administration's) for the rest of the transaction.
    pub async fn lock(&mut self, movement_id: &str) -> Result<Locked> {
        let (filter, value) = match &self.scope {
            Scope::Tenant(t) => ("tenant = $2", t.to_string()),
            Scope::Trader(e) => ("holder = $2", e.to_string()),
            _ => return Err(StoreError::OutOfScope("no access to movements".into())),
        };
        self.write_movements().await?;
        let row = sqlx::query(&format!(
            "UPDATE movements SET version = version + 1, updated_at = $3 \
             WHERE id = $1 AND {filter} RETURNING {MOVEMENT_COLUMNS}"
        ))
        .bind(movement_id)
        .bind(value)
        .bind(&self.now_text)
        .fetch_optional(self.tx.conn()?)
        .await?
        .ok_or_else(|| not_found("movement", movement_id))?;
        Ok(Locked::of(movement_row(&row)?))
    }

    /// The departure an arrival notification names by its MRN, locked, whatever
    /// administration it belongs to: the office of destination continues the transit
    /// procedure the office of departure started (the one place where a movement is reached
    /// across administrations; only the arrival processing calls it). `None` if no departure
    /// has this MRN.
    pub async fn lock_departure_for_arrival(&mut self, mrn: &str) -> Result<Option<Locked>> {
        self.write_movements().await?;
        let row = sqlx::query(&format!(
            "UPDATE movements SET version = version + 1, updated_at = $2 \
             WHERE mrn = $1 AND kind = 'departure' RETURNING {MOVEMENT_COLUMNS}"
        ))
        .bind(mrn)
        .bind(&self.now_text)
        .fetch_optional(self.tx.conn()?)
        .await?;
        row.map(|r| Ok(Locked::of(movement_row(&r)?))).transpose()
    }

    /// The messages of a locked movement, in order.
    pub async fn messages(&mut self, m: &Locked) -> Result<Vec<MovementMessageRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM movement_messages WHERE movement_id = $1 ORDER BY seq"
        ))
        .bind(&m.row.id)
        .fetch_all(self.tx.conn()?)
        .await?;
        rows.iter().map(message_row).collect()
    }

    /// The next MRN serial of an administration for a year (1, 2, …; never repeated).
    pub async fn next_mrn_serial(&mut self, m: &Locked, year: i32) -> Result<i64> {
        let (serial,): (i64,) = sqlx::query_as(
            "INSERT INTO transit_mrn_counters (tenant, year, last_serial) VALUES ($1, $2, 1) \
             ON CONFLICT (tenant, year) DO UPDATE \
             SET last_serial = transit_mrn_counters.last_serial + 1 RETURNING last_serial",
        )
        .bind(&m.row.tenant)
        .bind(i64::from(year))
        .fetch_one(self.tx.conn()?)
        .await?;
        Ok(serial)
    }

    /// Appends a message to a movement. An inbound message is also recorded by its sender
    /// (the acting trader) and message identification, so that a repeat is recognised.
    pub async fn append(&mut self, m: &Locked, msg: &TransitMessage) -> Result<MovementMessageRow> {
        check_text("message_type", &msg.message_type, 8)?;
        check_text("message_identification", &msg.message_identification, 35)?;
        check_text("content_type", &msg.content_type, 100)?;
        if msg.body.is_empty() {
            return Err(StoreError::Invalid("message body is empty".into()));
        }
        let seq = match self.seqs.get(&m.row.id).and_then(|n| n.message) {
            Some(seq) => seq,
            None => {
                let (seq,): (i64,) = sqlx::query_as(
                    "SELECT COALESCE(MAX(seq), 0) + 1 FROM movement_messages \
                     WHERE movement_id = $1",
                )
                .bind(&m.row.id)
                .fetch_one(self.tx.conn()?)
                .await?;
                seq
            }
        };
        let id = self.new_id();
        let hash = content_hash(&msg.body);
        sqlx::query(
            "INSERT INTO movement_messages (id, movement_id, tenant, seq, message_type, \
             direction, message_identification, content_type, content_hash, body, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&id)
        .bind(&m.row.id)
        .bind(&m.row.tenant)
        .bind(seq)
        .bind(&msg.message_type)
        .bind(msg.direction.as_str())
        .bind(&msg.message_identification)
        .bind(&msg.content_type)
        .bind(hash.clone())
        .bind(&msg.body)
        .bind(&self.now_text)
        .execute(self.tx.conn()?)
        .await
        .map_err(|e| StoreError::conflict_on_unique(e, "message", &msg.message_identification))?;
        self.seqs.entry(m.row.id.clone()).or_default().message = Some(seq + 1);
        if msg.direction == Direction::Inbound {
            let PrincipalId::Trader(sender) = &self.by else {
                return Err(StoreError::OutOfScope(
                    "inbound messages come from traders".into(),
                ));
            };
            sqlx::query(
                "INSERT INTO transit_inbound_messages (sender, message_identification, \
                 movement_id, message_id, content_hash) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(sender.as_str())
            .bind(&msg.message_identification)
            .bind(&m.row.id)
            .bind(&id)
            .bind(hash.clone())
            .execute(self.tx.conn()?)
            .await
            .map_err(|e| {
                StoreError::conflict_on_unique(
                    e,
                    "message identification",
                    &msg.message_identification,
                )
            })?;
        }
        Ok(MovementMessageRow {
            id,
            movement_id: m.row.id.clone(),
            seq,
            message_type: msg.message_type.clone(),
            direction: msg.direction,
            message_identification: msg.message_identification.clone(),
            content_type: msg.content_type.clone(),
            content_hash: hex::encode(hash),
            body: msg.body.clone(),
            at: self.now,
        })
    }

    /// Records the first history row of a movement created with [`TransitTx::create`]: its
    /// submission (`→ submitted`), with the message that started it. The movement row keeps
    /// the state it was created in (a declaration rejected at once is created `rejected`, so
    /// that it never holds its LRN); the next transition starts from `submitted`.
    pub async fn submitted(&mut self, m: &mut Locked, message_id: &str) -> Result<()> {
        self.history.push(PendingHistory {
            movement_id: m.row.id.clone(),
            seq: 1,
            tenant: m.row.tenant.clone(),
            from_state: None,
            to_state: "submitted".to_owned(),
            action: "submit".to_owned(),
            message_id: Some(message_id.to_owned()),
            detail: None,
        });
        self.seqs.entry(m.row.id.clone()).or_default().history = Some(2);
        m.row.state = "submitted".to_owned();
        Ok(())
    }

    /// Records a state change (or, with `to == from`, an action) of a movement: the history
    /// row (actor: this transaction's principal), the movement's state and MRN, and a
    /// `movement.updated` event.
    pub async fn transition(
        &mut self,
        m: &mut Locked,
        to: &str,
        action: &str,
        mrn: Option<&str>,
        message_id: Option<&str>,
        detail: Option<&serde_json::Value>,
    ) -> Result<()> {
        check_text("state", to, 40)?;
        check_text("action", action, 40)?;
        let from = m.row.state.clone();
        let mrn = mrn.map(str::to_owned).or(m.row.mrn.clone());
        let hseq = match self.seqs.get(&m.row.id).and_then(|n| n.history) {
            Some(seq) => seq,
            None => {
                let (seq,): (i64,) = sqlx::query_as(
                    "SELECT COALESCE(MAX(seq), 0) + 1 FROM movement_history \
                     WHERE movement_id = $1",
                )
                .bind(&m.row.id)
                .fetch_one(self.tx.conn()?)
                .await?;
                seq
            }
        };
        // The first row of a movement has no previous state.
        let from_state = (hseq > 1).then_some(from.as_str());
        let tenant: TenantCode = m.row.tenant.parse()?;
        self.emit(
            &tenant,
            "movement.updated",
            &serde_json::json!({
                "movement_id": m.row.id,
                "message_id": message_id,
                "from": from_state,
                "state": to,
                "action": action,
            }),
        );
        self.history.push(PendingHistory {
            movement_id: m.row.id.clone(),
            seq: hseq,
            tenant: m.row.tenant.clone(),
            from_state: from_state.map(str::to_owned),
            to_state: to.to_owned(),
            action: action.to_owned(),
            message_id: message_id.map(str::to_owned),
            detail: detail.map(|d| d.to_string()),
        });
        let pending = PendingMovement {
            id: m.row.id.clone(),
            state: to.to_owned(),
            mrn: mrn.clone(),
        };
        match self.movements.iter_mut().find(|p| p.id == m.row.id) {
            Some(p) => *p = pending,
            None => self.movements.push(pending),
        }
        self.seqs.entry(m.row.id.clone()).or_default().history = Some(hseq + 1);
        m.row.state = to.to_owned();
        m.row.mrn = mrn;
        m.row.updated_at = self.now;
        Ok(())
    }

    /// Reserves `amount` of guarantee `grn` (of the movement's administration) for a movement.
    /// `Ok(Err(shortfall))` when it does not fit; `InvalidState` when the guarantee is not
    /// valid today; `NotFound` when the administration has no such guarantee.
    pub async fn reserve(
        &mut self,
        m: &Locked,
        grn: &str,
        amount: Decimal,
    ) -> Result<std::result::Result<GuaranteeReservationRow, GuaranteeShortfall>> {
        if amount <= Decimal::ZERO {
            return Err(StoreError::Invalid("amount must be positive".into()));
        }
        let row = sqlx::query(
            "UPDATE guarantees SET version = version + 1, updated_at = $3 \
             WHERE grn = $1 AND tenant = $2 \
             RETURNING reference_amount, valid_from, valid_until, reserved_total",
        )
        .bind(grn)
        .bind(&m.row.tenant)
        .bind(&self.now_text)
        .fetch_optional(self.tx.conn()?)
        .await?
        .ok_or_else(|| not_found("guarantee", grn))?;
        let reference = dec(&row, "reference_amount")?;
        let from = parse_day("valid_from", &col::<String>(&row, "valid_from")?)?;
        let until = parse_opt_day("valid_until", col(&row, "valid_until")?)?;
        let today = self.now.date_naive();
        if from > today || until.is_some_and(|u| u < today) {
            return Err(StoreError::InvalidState(format!(
                "guarantee {grn} is not valid on {today}"
            )));
        }
        let kept: Option<String> = col(&row, "reserved_total")?;
        let reserved = reserved_total(self.tx.conn()?, grn, kept).await?;
        let available = reference - reserved;
        if amount > available {
            return Ok(Err(GuaranteeShortfall {
                grn: grn.to_owned(),
                requested: amount,
                available,
            }));
        }
        let id = self.new_id();
        sqlx::query(
            "INSERT INTO guarantee_reservations (id, grn, tenant, movement_id, amount, state, \
             reserved_at) VALUES ($1, $2, $3, $4, $5, 'reserved', $6)",
        )
        .bind(&id)
        .bind(grn)
        .bind(&m.row.tenant)
        .bind(&m.row.id)
        .bind(amount.to_string())
        .bind(&self.now_text)
        .execute(self.tx.conn()?)
        .await
        .map_err(|e| StoreError::conflict_on_unique(e, "guarantee reservation", &m.row.id))?;
        keep_reserved_total(self.tx.conn()?, grn, reserved + amount).await?;
        let tenant: TenantCode = m.row.tenant.parse()?;
        self.emit(
            &tenant,
            "guarantee.reserved",
            &serde_json::json!({
                "grn": grn,
                "movement_id": m.row.id,
                "amount": amount.to_string(),
                "available": (available - amount).to_string(),
            }),
        );
        Ok(Ok(GuaranteeReservationRow {
            id,
            grn: grn.to_owned(),
            movement_id: m.row.id.clone(),
            amount,
            state: "reserved".into(),
            reserved_at: self.now,
            released_at: None,
        }))
    }

    /// Releases every reservation a movement holds (write-off, invalidation).
    pub async fn release_reservations(
        &mut self,
        m: &Locked,
    ) -> Result<Vec<GuaranteeReservationRow>> {
        let grns: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT grn FROM guarantee_reservations \
             WHERE movement_id = $1 AND state = 'reserved' ORDER BY grn",
        )
        .bind(&m.row.id)
        .fetch_all(self.tx.conn()?)
        .await?;
        let mut released = Vec::new();
        for (grn,) in grns {
            let conn = self.tx.conn()?;
            released.extend(release_on(conn, &grn, &m.row.id, &self.now_text).await?);
        }
        if !released.is_empty() {
            let tenant: TenantCode = m.row.tenant.parse()?;
            self.emit(
                &tenant,
                "guarantee.released",
                &serde_json::json!({ "movement_id": m.row.id, "count": released.len() }),
            );
        }
        Ok(released)
    }

    /// Commits everything; nothing of it is visible before. Returns once it is durable: the
    /// transaction is one member of a group commit (`batch.rs`), committed together with the
    /// transit transactions that ran while it waited for the commit.
    pub async fn commit(mut self) -> Result<()> {
        if let Err(e) = self.write_pending().await {
            self.tx.rollback().await?;
            return Err(e);
        }
        self.tx.commit().await
    }

    /// Records an outbox event, written at the commit in the order of the calls.
    fn emit(&mut self, tenant: &TenantCode, topic: &'static str, payload: &serde_json::Value) {
        self.events.push(PendingEvent {
            tenant: tenant.to_string(),
            topic,
            payload: payload.to_string(),
        });
    }

    /// Writes the movements' state changes kept in memory (see [`TransitTx`]).
    async fn write_movements(&mut self) -> Result<()> {
        for p in std::mem::take(&mut self.movements) {
            sqlx::query("UPDATE movements SET state = $2, mrn = $3, updated_at = $4 WHERE id = $1")
                .bind(&p.id)
                .bind(&p.state)
                .bind(p.mrn.as_deref())
                .bind(&self.now_text)
                .execute(self.tx.conn()?)
                .await
                .map_err(|e| {
                    StoreError::conflict_on_unique(e, "MRN", p.mrn.as_deref().unwrap_or(""))
                })?;
        }
        Ok(())
    }

    /// Writes everything kept in memory: the movements' state, then the history rows and the
    /// outbox events, each table with multi-row `INSERT`s.
    async fn write_pending(&mut self) -> Result<()> {
        self.write_movements().await?;
        let actor = self.by.to_string();
        let history = std::mem::take(&mut self.history);
        for rows in history.chunks(ROWS_PER_INSERT) {
            let sql = format!(
                "INSERT INTO movement_history (movement_id, seq, tenant, from_state, to_state, \
                 actor, action, message_id, at, detail) VALUES {}",
                placeholders(rows.len(), 10)
            );
            let mut q = sqlx::query(&sql);
            for h in rows {
                q = q
                    .bind(&h.movement_id)
                    .bind(h.seq)
                    .bind(&h.tenant)
                    .bind(h.from_state.as_deref())
                    .bind(&h.to_state)
                    .bind(&actor)
                    .bind(&h.action)
                    .bind(h.message_id.as_deref())
                    .bind(&self.now_text)
                    .bind(h.detail.as_deref());
            }
            q.execute(self.tx.conn()?).await?;
        }
        let events = std::mem::take(&mut self.events);
        let created_at = crate::db::fmt_ts(self.store.now());
        for rows in events.chunks(ROWS_PER_INSERT) {
            // The same row as `Tx::emit` writes, several at once (ids in the order given).
            let sql = format!(
                "INSERT INTO outbox (tenant, topic, payload, created_at) VALUES {}",
                placeholders(rows.len(), 4)
            );
            let mut q = sqlx::query(&sql);
            for e in rows {
                q = q
                    .bind(&e.tenant)
                    .bind(e.topic)
                    .bind(&e.payload)
                    .bind(&created_at);
            }
            q.execute(self.tx.conn()?).await?;
        }
        Ok(())
    }

    /// Abandons everything (back to this transaction's savepoint; the other members of the
    /// group commit are untouched). Dropping a `TransitTx` does the same.
    pub async fn rollback(self) -> Result<()> {
        self.tx.rollback().await
    }
}

/// `($1, …, $n), ($n+1, …), …`: the `VALUES` of a multi-row `INSERT` of `rows` rows of `cols`
/// columns.
fn placeholders(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            let row = (1..=cols)
                .map(|c| format!("${}", r * cols + c))
                .collect::<Vec<_>>()
                .join(", ");
            format!("({row})")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn multi_row_placeholders_number_every_column_of_every_row() {
        assert_eq!(placeholders(1, 2), "($1, $2)");
        assert_eq!(placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }
}
