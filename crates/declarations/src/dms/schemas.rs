//! Loading the WCO DMS schemas from a directory laid out like the HMRC
//! Customs Declarations API's `schemas/` folder:
//!
//! ```text
//! customs/wrapper_submit.xsd   MetaData + WCO_DEC_2_DMS (declarations, amendments)
//! customs/wrapper_cancel.xsd   MetaData + CANCEL        (cancellation requests)
//! wco/notification/DocumentMetaData_2_DMS.xsd + WCO_RES_2_DMS.xsd (notifications)
//! ```
//!
//! This is the module's only IO (reading the schema files). The notification
//! set has no wrapper of its own upstream (`MetaData` takes its `Response`
//! through a strict wildcard), so one is written in memory, naming the two
//! schemas by absolute file URI, and compiled from there.

use std::path::Path;

use portorium_xsd::{Schema, Violation, XsdError};

use crate::error::DeclarationError;

/// Which schema a message is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DmsSchemaKind {
    /// `POST /customs/declarations` and `/customs/declarations/amend`.
    Declaration,
    /// `POST /customs/declarations/cancellation-requests`.
    Cancellation,
    /// Notifications customs sends back (`MetaData` with `Response`).
    Notification,
}

/// The three compiled DMS schema sets.
pub struct DmsSchemas {
    declaration: Schema,
    cancellation: Schema,
    notification: Schema,
}

impl std::fmt::Debug for DmsSchemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DmsSchemas")
            .field("declaration", &self.declaration.path())
            .field("cancellation", &self.cancellation.path())
            .field("notification", &self.notification.path())
            .finish()
    }
}

fn schema_error(e: XsdError) -> DeclarationError {
    match e {
        XsdError::Io { path, source } => DeclarationError::SchemaIo {
            path: path.display().to_string(),
            message: source.to_string(),
        },
        other => DeclarationError::Schema {
            path: match &other {
                XsdError::Invalid { path, .. } | XsdError::InvalidPath(path) => {
                    path.display().to_string()
                }
                _ => String::new(),
            },
            message: other.to_string(),
        },
    }
}

fn file_uri(path: &Path) -> Result<String, DeclarationError> {
    portorium_xsd::file_uri(path).ok_or_else(|| DeclarationError::Schema {
        path: path.display().to_string(),
        message: "the schema path is not UTF-8".to_owned(),
    })
}

fn load_notification(dir: &Path) -> Result<Schema, DeclarationError> {
    let notification = dir.join("wco").join("notification");
    let meta = notification.join("DocumentMetaData_2_DMS.xsd");
    let res = notification.join("WCO_RES_2_DMS.xsd");
    for p in [&meta, &res] {
        if !p.is_file() {
            return Err(DeclarationError::SchemaIo {
                path: p.display().to_string(),
                message: "not found".to_owned(),
            });
        }
    }
    let meta = meta
        .canonicalize()
        .map_err(|e| DeclarationError::SchemaIo {
            path: meta.display().to_string(),
            message: e.to_string(),
        })?;
    let res = res.canonicalize().map_err(|e| DeclarationError::SchemaIo {
        path: res.display().to_string(),
        message: e.to_string(),
    })?;
    let wrapper = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<xs:schema targetNamespace="urn:wco:datamodel:WCO:DocumentMetaData-DMS:2" xmlns:xs="http://www.w3.org/2001/XMLSchema" elementFormDefault="qualified">
  <xs:include schemaLocation="{}"/>
  <xs:import namespace="urn:wco:datamodel:WCO:RES-DMS:2" schemaLocation="{}"/>
</xs:schema>
"#,
        file_uri(&meta)?,
        file_uri(&res)?
    );
    // Compiled from memory: its include and import name the files by absolute URI.
    let name = meta.with_file_name("(notification wrapper of DocumentMetaData_2_DMS.xsd)");
    Schema::from_memory(wrapper.as_bytes(), &name).map_err(schema_error)
}

impl DmsSchemas {
    /// Loads and compiles the schema sets from `dir` (the `wco-dms/schemas`
    /// directory of the reference data, or a copy laid out the same way).
    pub fn load(dir: &Path) -> Result<DmsSchemas, DeclarationError> {
        let customs = dir.join("customs");
        Ok(DmsSchemas {
            declaration: Schema::from_file(&customs.join("wrapper_submit.xsd"))
                .map_err(schema_error)?,
            cancellation: Schema::from_file(&customs.join("wrapper_cancel.xsd"))
                .map_err(schema_error)?,
            notification: load_notification(dir)?,
        })
    }

    /// The compiled schema of one kind.
    pub fn schema(&self, kind: DmsSchemaKind) -> &Schema {
        match kind {
            DmsSchemaKind::Declaration => &self.declaration,
            DmsSchemaKind::Cancellation => &self.cancellation,
            DmsSchemaKind::Notification => &self.notification,
        }
    }

    /// Validates a document against the schema of one kind.
    pub fn validate(&self, kind: DmsSchemaKind, xml: &[u8]) -> Result<(), Vec<Violation>> {
        self.schema(kind).validate(xml)
    }
}
