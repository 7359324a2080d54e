//! XSD 1.0 validation over the system libxml2, with errors that name the line
//! and the element.
//!
//! ```no_run
//! # fn main() -> Result<(), portorium_xsd::XsdError> {
//! let schema = portorium_xsd::Schema::from_file(std::path::Path::new("cc015c.xsd"))?;
//! match schema.validate(b"<CC015C/>") {
//!     Ok(()) => {}
//!     Err(violations) => {
//!         for v in violations {
//!             eprintln!("{}:{} {:?} {}", v.line, v.column, v.element, v.message);
//!         }
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # FFI and struct layouts
//!
//! There is no bindgen (no libclang on the build machines); the handful of
//! libxml2 functions used are declared by hand in [`ffi`]. The only libxml2
//! structs whose fields are read are:
//!
//! * `struct _xmlError` (`xmlerror.h`): `domain, code, message, level, file,
//!   line, str1, str2, str3, int1, int2, ctxt, node` — this layout has been
//!   stable from libxml2 2.6 through 2.14 and was checked against the
//!   installed headers of libxml2 2.9.14 (Debian 12, `2.9.14+dfsg-1.3~deb12u5`).
//!   The error is only read inside the callback, never kept.
//! * the *common prefix* of `struct _xmlNode` / `struct _xmlAttr` (`tree.h`):
//!   `_private, type, name, children, last, parent` — documented in `tree.h`
//!   as the part shared by every node kind ("type number, must be second !").
//!   Fields after the common part (`line`, `extra`, …) are never read because
//!   they moved between versions.
//!
//! # Thread safety
//!
//! * libxml2 is initialised once per process ([`std::sync::Once`]):
//!   `xmlInitParser` and `xmlSchemaInitTypes` (the latter is lazily and
//!   non-atomically initialised by `xmlSchemaParse` in libxml2 < 2.12, see
//!   GNOME/libxml2#930), and the external-entity loader is installed.
//! * Schema *parsing* is additionally serialised by a process-wide mutex (it
//!   is rare and libxml2's schema parser touches shared type tables).
//! * A parsed `xmlSchema` is read-only once compiled; libxml2 requires a
//!   separate `xmlSchemaValidCtxt` per concurrent validation (the schema
//!   itself carries no validation state). [`Schema::validate`] creates a fresh
//!   validation context per call, so `Schema` is `Send + Sync`. This is the
//!   same pattern used by lxml and Nokogiri.
//! * Errors are collected per call: the structured-error callbacks receive a
//!   pointer to a `Vec` that lives on the calling thread's stack. Parser
//!   (well-formedness) errors are routed through `xmlSetStructuredErrorFunc`,
//!   which in a thread-enabled libxml2 (checked at run time with
//!   `xmlHasFeature(XML_WITH_THREAD)`) sets a *thread-local* handler; the
//!   previous handler of the thread is restored afterwards.
//!
//! # Untrusted input
//!
//! Instance documents are parsed with `XML_PARSE_NONET` and without
//! `XML_PARSE_NOENT` / `XML_PARSE_DTDLOAD` / `XML_PARSE_DTDVALID`, so external
//! entities and external DTD subsets are never loaded; on top of that, the
//! crate's external-entity loader refuses every load while an instance
//! document is being parsed or validated, and refuses network URLs always
//! (schema imports/includes are resolved from the local file system only).
//! Inputs larger than [`MAX_DOCUMENT_BYTES`] are refused.
//! Entity references are never substituted; libxml2's schema validator
//! then reports any remaining (non-predefined) entity reference as a
//! violation, so documents relying on internal DTD entities are rejected.
//! Predefined entities (`&amp;` …) and character references are fine.

use std::cell::Cell;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

/// Largest document [`Schema::validate`] accepts (64 MiB).
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024 * 1024;

/// At most this many violations are reported per document; one more
/// violation says that the list was truncated.
pub const MAX_VIOLATIONS: usize = 1000;

/// One validation (or well-formedness) error of an instance document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// 1-based line, 0 when unknown.
    pub line: u32,
    /// 1-based column, 0 when unknown (libxml2 only knows columns for
    /// well-formedness errors, not for schema-validation errors).
    pub column: u32,
    /// Local name of the element the error is about, when known (for an
    /// attribute error, the element carrying the attribute).
    pub element: Option<String>,
    /// libxml2's message, trimmed.
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}", self.line)?;
        if self.column > 0 {
            write!(f, ", column {}", self.column)?;
        }
        if let Some(element) = &self.element {
            write!(f, ", element {element}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Errors loading a schema.
#[derive(Debug, thiserror::Error)]
pub enum XsdError {
    /// The schema file does not exist or cannot be read.
    #[error("cannot read schema {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The path cannot be handed to libxml2 (not UTF-8 or contains NUL).
    #[error("unsupported schema path {0}")]
    InvalidPath(PathBuf),
    /// libxml2 could not parse/compile the schema.
    #[error("invalid schema {path}: {}", messages.join("; "))]
    Invalid {
        path: PathBuf,
        messages: Vec<String>,
    },
    /// The linked libxml2 was built without thread support, so errors could
    /// not be collected per thread.
    #[error("the linked libxml2 was built without thread support")]
    NoThreadSupport,
    /// libxml2 failed to allocate a context.
    #[error("libxml2 could not allocate a {0}")]
    Alloc(&'static str),
}

/// Hand-written declarations of the few libxml2 (2.9+) functions used.
mod ffi {
    use std::ffi::{c_char, c_int, c_uint, c_void};

    /// `XML_PARSE_NONET`: forbid network access.
    pub const XML_PARSE_NONET: c_int = 1 << 11;
    /// `XML_PARSE_BIG_LINES`: line numbers beyond 65535.
    pub const XML_PARSE_BIG_LINES: c_int = 1 << 22;
    /// `XML_WITH_THREAD` of `xmlFeature`.
    pub const XML_WITH_THREAD: c_int = 1;
    /// `xmlErrorLevel`.
    pub const XML_ERR_ERROR: c_int = 2;
    /// `xmlElementType`.
    pub const XML_ELEMENT_NODE: c_int = 1;
    pub const XML_ATTRIBUTE_NODE: c_int = 2;

    /// `struct _xmlError` (xmlerror.h), verified against libxml2 2.9.14.
    #[repr(C)]
    pub struct XmlError {
        pub domain: c_int,
        pub code: c_int,
        pub message: *mut c_char,
        pub level: c_int,
        pub file: *mut c_char,
        pub line: c_int,
        pub str1: *mut c_char,
        pub str2: *mut c_char,
        pub str3: *mut c_char,
        pub int1: c_int,
        /// Column, 0 if not available.
        pub int2: c_int,
        pub ctxt: *mut c_void,
        pub node: *mut c_void,
    }

    /// The common prefix of `struct _xmlNode` and `struct _xmlAttr`
    /// (tree.h). Only ever read through a pointer; never constructed.
    #[repr(C)]
    pub struct XmlNodeCommon {
        pub private: *mut c_void,
        /// `xmlElementType` ("must be second !").
        pub kind: c_uint,
        pub name: *const u8,
        pub children: *mut c_void,
        pub last: *mut c_void,
        pub parent: *mut XmlNodeCommon,
    }

    pub type StructuredErrorFunc = Option<unsafe extern "C" fn(*mut c_void, *mut XmlError)>;
    pub type ExternalEntityLoader =
        Option<unsafe extern "C" fn(*const c_char, *const c_char, *mut c_void) -> *mut c_void>;

    #[link(name = "xml2")]
    extern "C" {
        pub fn xmlInitParser();
        pub fn xmlHasFeature(feature: c_int) -> c_int;
        pub fn xmlSchemaInitTypes();

        pub fn xmlSetStructuredErrorFunc(ctx: *mut c_void, handler: StructuredErrorFunc);
        pub fn __xmlStructuredError() -> *mut StructuredErrorFunc;
        pub fn __xmlStructuredErrorContext() -> *mut *mut c_void;

        pub fn xmlSetExternalEntityLoader(f: ExternalEntityLoader);
        pub fn xmlNoNetExternalEntityLoader(
            url: *const c_char,
            id: *const c_char,
            ctxt: *mut c_void,
        ) -> *mut c_void;

        pub fn xmlReadMemory(
            buffer: *const c_char,
            size: c_int,
            url: *const c_char,
            encoding: *const c_char,
            options: c_int,
        ) -> *mut c_void;
        pub fn xmlFreeDoc(doc: *mut c_void);

        pub fn xmlSchemaNewParserCtxt(url: *const c_char) -> *mut c_void;
        pub fn xmlSchemaNewMemParserCtxt(buffer: *const c_char, size: c_int) -> *mut c_void;
        pub fn xmlSchemaSetParserStructuredErrors(
            ctxt: *mut c_void,
            serror: StructuredErrorFunc,
            ctx: *mut c_void,
        );
        pub fn xmlSchemaParse(ctxt: *mut c_void) -> *mut c_void;
        pub fn xmlSchemaFreeParserCtxt(ctxt: *mut c_void);
        pub fn xmlSchemaFree(schema: *mut c_void);

        pub fn xmlSchemaNewValidCtxt(schema: *mut c_void) -> *mut c_void;
        pub fn xmlSchemaSetValidStructuredErrors(
            ctxt: *mut c_void,
            serror: StructuredErrorFunc,
            ctx: *mut c_void,
        );
        pub fn xmlSchemaValidateDoc(ctxt: *mut c_void, doc: *mut c_void) -> c_int;
        pub fn xmlSchemaFreeValidCtxt(ctxt: *mut c_void);
    }
}

static INIT: Once = Once::new();
/// Serialises schema parsing (see the module documentation).
static PARSE_LOCK: Mutex<()> = Mutex::new(());

thread_local! {
    /// While true, the external-entity loader refuses every load on this
    /// thread (set while an untrusted instance document is processed).
    static DENY_EXTERNAL: Cell<bool> = const { Cell::new(false) };
}

/// Process-wide external-entity loader: never the network; nothing at all
/// while an instance document is handled on the current thread.
unsafe extern "C" fn entity_loader(
    url: *const c_char,
    id: *const c_char,
    ctxt: *mut c_void,
) -> *mut c_void {
    let deny = DENY_EXTERNAL.try_with(Cell::get).unwrap_or(true);
    if deny {
        return std::ptr::null_mut();
    }
    // SAFETY: arguments are passed through unchanged from libxml2 to its own
    // network-refusing loader, which has the same signature.
    unsafe { ffi::xmlNoNetExternalEntityLoader(url, id, ctxt) }
}

fn init() -> Result<(), XsdError> {
    INIT.call_once(|| {
        // SAFETY: called exactly once, before any other libxml2 use by this
        // crate; these functions take no arguments and are documented to be
        // called once from the main/first thread.
        unsafe {
            ffi::xmlInitParser();
            ffi::xmlSchemaInitTypes();
            ffi::xmlSetExternalEntityLoader(Some(entity_loader));
        }
    });
    // SAFETY: pure query of compile-time features.
    if unsafe { ffi::xmlHasFeature(ffi::XML_WITH_THREAD) } == 0 {
        return Err(XsdError::NoThreadSupport);
    }
    Ok(())
}

/// Per-call error sink handed to libxml2 as callback user data.
struct Sink {
    violations: Vec<Violation>,
    /// Errors beyond [`MAX_VIOLATIONS`].
    dropped: usize,
    /// Whether to prefix messages with the file (schema loading).
    with_file: bool,
}

impl Sink {
    fn new(with_file: bool) -> Self {
        Sink {
            violations: Vec::new(),
            dropped: 0,
            with_file,
        }
    }

    fn finish(mut self) -> Vec<Violation> {
        if self.dropped > 0 {
            self.violations.push(Violation {
                line: 0,
                column: 0,
                element: None,
                message: format!("{} further errors not reported", self.dropped),
            });
        }
        self.violations
    }
}

/// # Safety
/// `p` must be null or a NUL-terminated string valid for the call.
unsafe fn c_str(p: *const c_char) -> Option<String> {
    if p.is_null() {
        None
    } else {
        // SAFETY: non-null, NUL-terminated per the caller's contract.
        Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }
}

/// Element name of the node an error refers to (for an attribute: its
/// owner element). Reads only the documented common node prefix.
///
/// # Safety
/// `node` must be null or point to a live `xmlNode`/`xmlAttr`/other node.
unsafe fn node_element_name(node: *const ffi::XmlNodeCommon) -> Option<String> {
    if node.is_null() {
        return None;
    }
    // SAFETY: every libxml2 node type starts with the common prefix.
    let n = unsafe { &*node };
    let element = match n.kind as c_int {
        ffi::XML_ELEMENT_NODE => n,
        ffi::XML_ATTRIBUTE_NODE if !n.parent.is_null() => {
            // SAFETY: an attribute's parent is its owner element node.
            let p = unsafe { &*n.parent };
            if p.kind as c_int != ffi::XML_ELEMENT_NODE {
                return None;
            }
            p
        }
        _ => return None,
    };
    // SAFETY: `name` is null or a NUL-terminated xmlChar string.
    unsafe { c_str(element.name.cast()) }
}

/// Structured-error callback. `user` is a `*mut Sink` owned by the calling
/// frame on the same thread.
unsafe extern "C" fn on_error(user: *mut c_void, error: *mut ffi::XmlError) {
    if user.is_null() || error.is_null() {
        return;
    }
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: `user` is the `&mut Sink` registered by this crate for the
        // duration of the libxml2 call currently running on this thread; no
        // other reference to it is live meanwhile.
        let sink = unsafe { &mut *user.cast::<Sink>() };
        // SAFETY: libxml2 passes a valid xmlError for the callback duration.
        let e = unsafe { &*error };
        if e.level < ffi::XML_ERR_ERROR {
            return; // warnings are not violations
        }
        if sink.violations.len() >= MAX_VIOLATIONS {
            sink.dropped += 1;
            return;
        }
        // SAFETY: message/file are null or NUL-terminated strings.
        let mut message = unsafe { c_str(e.message) }
            .unwrap_or_default()
            .trim()
            .to_string();
        if sink.with_file {
            // SAFETY: as above.
            if let Some(file) = unsafe { c_str(e.file) } {
                message = format!("{file}:{}: {message}", e.line);
            }
        }
        // SAFETY: `node` is null or a node of the document being processed.
        let element = unsafe { node_element_name(e.node.cast()) };
        sink.violations.push(Violation {
            line: u32::try_from(e.line).unwrap_or(0),
            column: u32::try_from(e.int2).unwrap_or(0),
            element,
            message,
        });
    }));
    let _ = result;
}

/// Routes this thread's libxml2 structured errors (and, optionally, denies
/// external loads) for its lifetime; restores the previous state on drop.
/// Must be dropped before the `Sink` it points to.
struct ThreadErrorScope {
    prev_handler: ffi::StructuredErrorFunc,
    prev_ctx: *mut c_void,
    prev_deny: bool,
}

impl ThreadErrorScope {
    fn new(sink: *mut Sink, deny_external: bool) -> Self {
        // SAFETY: the accessors return pointers to this thread's libxml2
        // globals (thread-enabled build, checked in `init`).
        let (prev_handler, prev_ctx) = unsafe {
            (
                *ffi::__xmlStructuredError(),
                *ffi::__xmlStructuredErrorContext(),
            )
        };
        // SAFETY: sets this thread's handler; `sink` outlives this scope.
        unsafe { ffi::xmlSetStructuredErrorFunc(sink.cast(), Some(on_error)) };
        let prev_deny = DENY_EXTERNAL
            .try_with(|d| d.replace(deny_external))
            .unwrap_or(false);
        ThreadErrorScope {
            prev_handler,
            prev_ctx,
            prev_deny,
        }
    }
}

impl Drop for ThreadErrorScope {
    fn drop(&mut self) {
        // SAFETY: restores the values read in `new` on the same thread (the
        // type is !Send because of the raw pointer field).
        unsafe { ffi::xmlSetStructuredErrorFunc(self.prev_ctx, self.prev_handler) };
        let prev = self.prev_deny;
        let _ = DENY_EXTERNAL.try_with(|d| d.set(prev));
    }
}

/// A compiled XSD schema. Cheap to share: validate from any number of threads
/// concurrently (each call uses its own libxml2 validation context).
pub struct Schema {
    /// Non-null `xmlSchemaPtr`, owned.
    ptr: *mut c_void,
    path: PathBuf,
}

// SAFETY: the compiled xmlSchema is immutable after `xmlSchemaParse`; all
// per-validation state lives in the xmlSchemaValidCtxt that `validate`
// creates per call, and error collection is per call/per thread (see the
// module documentation). Freeing happens once, in Drop, with exclusive access.
unsafe impl Send for Schema {}
// SAFETY: see above; `&Schema` only exposes `validate`, which never mutates
// the schema.
unsafe impl Sync for Schema {}

impl std::fmt::Debug for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Schema").field("path", &self.path).finish()
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        // SAFETY: `ptr` was returned by xmlSchemaParse and is freed once.
        unsafe { ffi::xmlSchemaFree(self.ptr) };
    }
}

struct SchemaParserCtxt(*mut c_void);
impl Drop for SchemaParserCtxt {
    fn drop(&mut self) {
        // SAFETY: non-null context from xmlSchemaNewParserCtxt, freed once.
        unsafe { ffi::xmlSchemaFreeParserCtxt(self.0) };
    }
}

struct ValidCtxt(*mut c_void);
impl Drop for ValidCtxt {
    fn drop(&mut self) {
        // SAFETY: non-null context from xmlSchemaNewValidCtxt, freed once.
        unsafe { ffi::xmlSchemaFreeValidCtxt(self.0) };
    }
}

struct Doc(*mut c_void);
impl Drop for Doc {
    fn drop(&mut self) {
        // SAFETY: non-null document from xmlReadMemory, freed once.
        unsafe { ffi::xmlFreeDoc(self.0) };
    }
}

/// The `file://` URI of an absolute path, percent-encoding every byte but letters, digits
/// and `/-_.~`, as a schema held in memory names the files it includes or imports
/// ([`Schema::from_memory`]). `None` for a path that is not UTF-8.
pub fn file_uri(path: &Path) -> Option<String> {
    let s = path.to_str()?;
    let mut out = String::from("file://");
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Some(out)
}

impl Schema {
    /// Load an XSD from a file path. Imports and includes are resolved
    /// relative to it, from the local file system only (never the network).
    pub fn from_file(path: &Path) -> Result<Schema, XsdError> {
        init()?;
        std::fs::metadata(path).map_err(|source| XsdError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let url = path
            .to_str()
            .and_then(|s| CString::new(s).ok())
            .ok_or_else(|| XsdError::InvalidPath(path.to_path_buf()))?;
        // SAFETY: `url` is a valid C string for the call.
        Self::compile(path, || unsafe {
            ffi::xmlSchemaNewParserCtxt(url.as_ptr())
        })
    }

    /// Compile an XSD held in memory. It has no location of its own, so its imports and
    /// includes must name absolute locations (`file:///…`); they are read from the local
    /// file system only. `name` stands for the schema in errors and [`Schema::path`].
    pub fn from_memory(xsd: &[u8], name: &Path) -> Result<Schema, XsdError> {
        init()?;
        let size = c_int::try_from(xsd.len()).map_err(|_| XsdError::Invalid {
            path: name.to_path_buf(),
            messages: vec![format!("a schema of {} bytes is too large", xsd.len())],
        })?;
        // SAFETY: `xsd` is valid for `size` bytes for the call; libxml2 reads it only while
        // the parser context compiles, which `compile` does before `xsd` goes out of scope.
        Self::compile(name, || unsafe {
            ffi::xmlSchemaNewMemParserCtxt(xsd.as_ptr().cast(), size)
        })
    }

    /// Compile the schema of a parser context made by `new_context` (called once, under
    /// the parse lock, with errors collected for this call).
    fn compile(path: &Path, new_context: impl FnOnce() -> *mut c_void) -> Result<Schema, XsdError> {
        let _guard = PARSE_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        let mut sink = Sink::new(true);
        let sink_ptr: *mut Sink = &mut sink;
        let schema = {
            let _scope = ThreadErrorScope::new(sink_ptr, false);
            let pctxt = new_context();
            if pctxt.is_null() {
                return Err(XsdError::Alloc("schema parser context"));
            }
            let pctxt = SchemaParserCtxt(pctxt);
            // SAFETY: valid context; `sink` outlives the context (dropped at
            // the end of this block, before `sink`).
            unsafe {
                ffi::xmlSchemaSetParserStructuredErrors(pctxt.0, Some(on_error), sink_ptr.cast())
            };
            // SAFETY: valid context.
            unsafe { ffi::xmlSchemaParse(pctxt.0) }
        };
        let messages: Vec<String> = sink.finish().into_iter().map(|v| v.message).collect();
        if schema.is_null() {
            let messages = if messages.is_empty() {
                vec!["libxml2 could not compile the schema".to_string()]
            } else {
                messages
            };
            return Err(XsdError::Invalid {
                path: path.to_path_buf(),
                messages,
            });
        }
        Ok(Schema {
            ptr: schema,
            path: path.to_path_buf(),
        })
    }

    /// The path the schema was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Validate a document held in memory. Returns all validation errors
    /// (up to [`MAX_VIOLATIONS`]), each with line, column (0 when unknown),
    /// the element name when known, and the message. A document that is not
    /// well-formed, too large, or empty yields violations as well.
    pub fn validate(&self, xml: &[u8]) -> Result<(), Vec<Violation>> {
        let refuse = |message: String| {
            Err(vec![Violation {
                line: 0,
                column: 0,
                element: None,
                message,
            }])
        };
        if xml.len() > MAX_DOCUMENT_BYTES {
            return refuse(format!(
                "document of {} bytes exceeds the limit of {MAX_DOCUMENT_BYTES} bytes",
                xml.len()
            ));
        }
        let Ok(len) = c_int::try_from(xml.len()) else {
            return refuse("document too large".to_string());
        };
        if let Err(e) = init() {
            return refuse(e.to_string());
        }

        let mut sink = Sink::new(false);
        let sink_ptr: *mut Sink = &mut sink;
        let outcome = {
            let _scope = ThreadErrorScope::new(sink_ptr, true);
            let options = ffi::XML_PARSE_NONET | ffi::XML_PARSE_BIG_LINES;
            // SAFETY: buffer/len describe `xml`, which outlives the call;
            // null URL and encoding are allowed. Errors go to this thread's
            // structured handler (our `sink`).
            let doc = unsafe {
                ffi::xmlReadMemory(
                    xml.as_ptr().cast(),
                    len,
                    std::ptr::null(),
                    std::ptr::null(),
                    options,
                )
            };
            if doc.is_null() {
                None
            } else {
                let doc = Doc(doc);
                // SAFETY: `self.ptr` is a valid compiled schema.
                let vctxt = unsafe { ffi::xmlSchemaNewValidCtxt(self.ptr) };
                if vctxt.is_null() {
                    Some(-1)
                } else {
                    let vctxt = ValidCtxt(vctxt);
                    // SAFETY: valid context; `sink` outlives it.
                    unsafe {
                        ffi::xmlSchemaSetValidStructuredErrors(
                            vctxt.0,
                            Some(on_error),
                            sink_ptr.cast(),
                        )
                    };
                    // SAFETY: valid context and document, both owned here.
                    Some(unsafe { ffi::xmlSchemaValidateDoc(vctxt.0, doc.0) })
                }
            }
        };
        let mut violations = sink.finish();
        match outcome {
            Some(0) if violations.is_empty() => Ok(()),
            Some(0) => Err(violations),
            None => {
                if violations.is_empty() {
                    violations.push(Violation {
                        line: 0,
                        column: 0,
                        element: None,
                        message: "document is not well-formed XML".to_string(),
                    });
                }
                Err(violations)
            }
            Some(code) => {
                if violations.is_empty() {
                    violations.push(Violation {
                        line: 0,
                        column: 0,
                        element: None,
                        message: if code < 0 {
                            "internal libxml2 validation error".to_string()
                        } else {
                            format!("document is not valid (libxml2 code {code})")
                        },
                    });
                }
                Err(violations)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_struct_layout_matches_libxml2_2_9_headers() {
        // x86_64 / aarch64 LP64 offsets of struct _xmlError.
        if std::mem::size_of::<usize>() == 8 {
            assert_eq!(std::mem::offset_of!(ffi::XmlError, message), 8);
            assert_eq!(std::mem::offset_of!(ffi::XmlError, file), 24);
            assert_eq!(std::mem::offset_of!(ffi::XmlError, line), 32);
            assert_eq!(std::mem::offset_of!(ffi::XmlError, int2), 68);
            assert_eq!(std::mem::offset_of!(ffi::XmlError, node), 80);
            assert_eq!(std::mem::size_of::<ffi::XmlError>(), 88);
            assert_eq!(std::mem::offset_of!(ffi::XmlNodeCommon, name), 16);
            assert_eq!(std::mem::offset_of!(ffi::XmlNodeCommon, parent), 40);
        }
    }

    #[test]
    fn missing_file_is_io_error() {
        let r = Schema::from_file(Path::new("/nonexistent/x.xsd"));
        assert!(matches!(r, Err(XsdError::Io { .. })));
    }
}
