//! Progress reporting shared by uploads and downloads.

use std::sync::Arc;

/// How far a transfer has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Bytes transferred so far.
    pub bytes: u64,
    /// Total bytes, when known.
    pub total: Option<u64>,
}

impl Progress {
    /// The fraction done, from 0.0 to 1.0, when the total is known.
    pub fn fraction(&self) -> Option<f64> {
        self.total
            .filter(|t| *t > 0)
            .map(|t| (self.bytes as f64 / t as f64).min(1.0))
    }
}

/// A progress callback.
pub(crate) type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;
