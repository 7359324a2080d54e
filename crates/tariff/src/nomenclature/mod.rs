//! Goods nomenclature: codes, hierarchy, and the HS 2022 / CN 2026 loaders.
//!
//! - [`GoodsCode`]: a validated 10-digit TARIC code plus product-line suffix.
//! - [`NomenclatureItem`] and [`Nomenclature`]: lines and the tree built from their indents
//!   (a line's parent is the nearest preceding line, in code order, with a smaller indent).
//! - Loaders from text: [`parse_hs2022`], [`parse_cn2026`] (and their section files).
//! - [`detect`]: recognise a nomenclature file from its content.
//! - [`csv`]: a small RFC 4180 reader.
//!
//! Pure: callers read the files and pass text in.

mod cn;
mod code;
pub mod csv;
mod detect;
mod error;
mod hs;
mod tree;

pub use cn::{parse_cn2026, parse_cn2026_sections};
pub use code::{GoodsCode, GoodsCodeError, DECLARABLE_SUFFIX};
pub use detect::{detect, NomenclatureFormat};
pub use error::{NomenclatureError, RecordRef};
pub use hs::{parse_hs2022, parse_hs2022_sections, HS2022_HEADER, HS2022_SECTIONS_HEADER};
pub use tree::{Nomenclature, NomenclatureItem, Section};
