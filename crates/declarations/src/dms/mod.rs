//! WCO DMS import and export declarations, as HMRC's Customs Declarations
//! API takes them (`POST /customs/declarations`, `/amend`,
//! `/cancellation-requests`): the pure core.
//!
//! * [`schemas`]: [`DmsSchemas::load`], the module's only IO (the XSD directory);
//! * [`parse`]: [`parse_declaration`] → [`DmsDeclaration`], every field with its XPath;
//! * [`validate`]: [`validate_message`] (XSD, then [`check_rules`]) → [`DmsError`]s
//!   with rule codes and WCO pointers;
//! * [`notify`]: [`notification_xml`] for DMSRCV, DMSACC, DMSREJ, DMSCTL,
//!   DMSDOC, DMSROG, DMSCLE, DMSINV, DMSREQ, DMSTAX; [`parse_notification`];
//! * [`lifecycle`]: [`DmsLifecycle::apply`], the declaration state machine.

pub mod lifecycle;
pub mod notify;
pub mod parse;
pub mod schemas;
pub mod validate;
mod xml;

pub use lifecycle::{
    Actor, Direction, DmsEvent, DmsLifecycle, DmsState, LifecycleError, Transition,
};
pub use notify::{
    notification_xml, parse_notification, AssessedDuty, DmsNotification, ItemDuties,
    NotificationKind, ParsedNotification, Statement,
};
pub use parse::{
    parse_declaration, Classification, DmsAmount, DmsChange, DmsDeclaration, DmsDocument,
    DmsGoodsItem, DmsMessageKind, GoodsLocation, Located, OfficeRole, RoutingOffice,
};
pub use schemas::{DmsSchemaKind, DmsSchemas};
pub use validate::{check_rules, pointers_for, validate_message, DmsError, DmsPointer, DmsRule};
