//! The tariff crate's integration tests (one binary; one module per area).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod demo_tariff;
mod duty;
mod layer;
mod measures;
mod national;
mod nomenclature;
mod quotas;
mod taric3;
