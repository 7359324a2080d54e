//! Portal pages (filled in by the portal work).
use crate::routes::Table;
pub fn trader_pages(t: Table) -> Table {
    t
}
pub fn admin_pages(t: Table) -> Table {
    t
}
