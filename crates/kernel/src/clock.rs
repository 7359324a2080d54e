use chrono::{DateTime, TimeZone, Utc};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use uuid::Uuid;

/// The only source of "now" that domain code may use. Times are always UTC.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock. This is the one place in the workspace allowed to read it.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock for tests and replays: it shows a set time and can be moved.
#[derive(Debug)]
pub struct FixedClock {
    micros: AtomicI64,
}

impl FixedClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self {
            micros: AtomicI64::new(at.timestamp_micros()),
        }
    }
    pub fn set(&self, at: DateTime<Utc>) {
        self.micros.store(at.timestamp_micros(), Ordering::SeqCst);
    }
    pub fn advance(&self, by: chrono::Duration) {
        let d = by.num_microseconds().unwrap_or(i64::MAX);
        self.micros.fetch_add(d, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        let m = self.micros.load(Ordering::SeqCst);
        Utc.timestamp_micros(m).single().unwrap_or_default()
    }
}

/// The only source of new identifiers that domain code may use.
pub trait IdGen: Send + Sync + 'static {
    fn new_id(&self) -> Uuid;
}

/// UUIDv7 (time-ordered) identifiers built from a [`Clock`] and the OS random source.
pub struct UuidV7Gen<C: Clock> {
    clock: C,
}

impl<C: Clock> UuidV7Gen<C> {
    pub fn new(clock: C) -> Self {
        Self { clock }
    }
}

impl<C: Clock> IdGen for UuidV7Gen<C> {
    fn new_id(&self) -> Uuid {
        let now = self.clock.now();
        let millis = u64::try_from(now.timestamp_millis()).unwrap_or(0);
        let mut random = [0u8; 10];
        fill_random(&mut random);
        uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
    }
}

fn fill_random(buf: &mut [u8]) {
    // uuid's v4 generation uses the OS random source; reuse its bytes rather than pulling
    // another RNG into the kernel.
    #[allow(clippy::disallowed_methods)]
    let r = Uuid::new_v4();
    for (dst, src) in buf.iter_mut().zip(r.as_bytes().iter()) {
        *dst = *src;
    }
}

/// Deterministic identifiers for tests: 00000000-0000-7000-8000-000000000001, …
#[derive(Debug, Default)]
pub struct SeqIdGen {
    next: AtomicU64,
}

impl IdGen for SeqIdGen {
    fn new_id(&self) -> Uuid {
        let n = self.next.fetch_add(1, Ordering::SeqCst) + 1;
        let mut bytes = [0u8; 16];
        bytes[8..].copy_from_slice(&n.to_be_bytes());
        uuid::Builder::from_custom_bytes(bytes).into_uuid()
    }
}
