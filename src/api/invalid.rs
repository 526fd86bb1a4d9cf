//! A request refused before anything was sent.

use std::fmt;

/// A request refused on the client side; nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InvalidRequest {
    /// The offending field, e.g. `prompt` or `files`.
    pub field: &'static str,
    /// Why it was refused.
    pub reason: String,
}

impl fmt::Display for InvalidRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid request: `{}` {} (nothing was sent)",
            self.field, self.reason
        )
    }
}

impl std::error::Error for InvalidRequest {}

impl InvalidRequest {
    /// A refusal of `field`, saying why.
    pub(crate) fn new(field: &'static str, reason: impl Into<String>) -> Self {
        InvalidRequest {
            field,
            reason: reason.into(),
        }
    }
}
