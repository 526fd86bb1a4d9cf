//! Moving files: progress reporting shared by uploads and downloads, downloads
//! (`download`), and file inputs made from local files and bytes (`files`).

pub(crate) mod download;
pub mod files;

use std::sync::Arc;

/// How far a transfer has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// What is being done with the bytes.
    pub step: TransferStep,
    /// Bytes of this step done so far.
    pub bytes: u64,
    /// Total bytes, when known.
    pub total: Option<u64>,
}

/// The step a transfer is in. A large upload reads its files once to compute their checksum
/// before any byte is sent, which takes a few seconds for a large file: it reports that too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransferStep {
    /// Reading local files to compute their SHA-256, before anything is sent.
    Checksum,
    /// Sending or receiving the bytes.
    Transfer,
}

impl Progress {
    /// Bytes hashed so far of `total`.
    pub(crate) fn checksum(bytes: u64, total: u64) -> Self {
        Progress {
            step: TransferStep::Checksum,
            bytes,
            total: Some(total),
        }
    }

    /// Bytes moved so far of `total`.
    pub(crate) fn transfer(bytes: u64, total: Option<u64>) -> Self {
        Progress {
            step: TransferStep::Transfer,
            bytes,
            total,
        }
    }

    /// The fraction done, from 0.0 to 1.0, when the total is known.
    pub fn fraction(&self) -> Option<f64> {
        self.total
            .filter(|t| *t > 0)
            .map(|t| (self.bytes as f64 / t as f64).min(1.0))
    }
}

/// A progress callback.
pub(crate) type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// The size of the chunks a file is read and sent in.
const CHUNK: usize = 1 << 20;

/// A file as a request body, reporting progress (against `size`) as its chunks are read.
pub(crate) fn file_body(
    file: tokio::fs::File,
    size: u64,
    progress: Option<ProgressFn>,
) -> reqwest::Body {
    use futures_util::StreamExt as _;
    let mut sent = 0u64;
    // Read in large chunks: each read of a Tokio file is a trip to a blocking thread, and the
    // reader's default of 4 KiB made a gigabyte a quarter of a million of them.
    let stream = tokio_util::io::ReaderStream::with_capacity(file, CHUNK).inspect(move |chunk| {
        if let (Ok(chunk), Some(report)) = (chunk, &progress) {
            sent += chunk.len() as u64;
            report(Progress::transfer(sent, Some(size)));
        }
    });
    reqwest::Body::wrap_stream(stream)
}
