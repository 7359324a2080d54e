use thiserror::Error;

/// Every way a kernel value can fail validation. `what` names the kind of value
/// (for example `"EORI"`), so callers can report the offending field precisely.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KernelError {
    #[error("invalid {what} {value:?}: {reason}")]
    Invalid {
        what: &'static str,
        value: String,
        reason: &'static str,
    },
}

impl KernelError {
    pub(crate) fn invalid(what: &'static str, value: &str, reason: &'static str) -> Self {
        // Never echo unbounded input back.
        let value: String = value.chars().take(64).collect();
        KernelError::Invalid {
            what,
            value,
            reason,
        }
    }
}
