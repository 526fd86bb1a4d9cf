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

/// The step a transfer is in. An upload of several files through one batch
/// ([`Assets::upload_many`](crate::Assets::upload_many)) reads them once for their
/// checksums before any byte is sent, which takes a few seconds for large files: it reports
/// that too. A single file is hashed as it is sent and reports only the transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransferStep {
    /// Reading local files to compute their SHA-256, before anything is sent (batches only).
    Checksum,
    /// Sending or receiving the bytes.
    Transfer,
}

impl Progress {
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

/// How many chunks may wait between the thread that reads a file and the connection that
/// sends it: enough to keep both busy, few enough to keep memory flat.
const CHUNKS_AHEAD: usize = 4;

/// A local file as a request body, read from `file` on a blocking thread of its own, a chunk
/// at a time, and handed to the connection through a short queue.
pub(crate) struct FileBody {
    /// The body to send.
    pub(crate) body: reqwest::Body,
    /// The SHA-256 of the bytes sent, when asked for: filled in by the reading thread before
    /// it hands over the last chunk.
    checksum: Option<Arc<std::sync::OnceLock<String>>>,
}

impl FileBody {
    /// Sends `size` bytes of `file` (the file must hold at least that many: the request fails
    /// if it ends sooner), reporting progress as chunks go out. With `checksum`, the bytes are
    /// hashed as they are read: one pass over the file, the hashing overlapped with the
    /// sending.
    pub(crate) fn new(
        file: std::fs::File,
        size: u64,
        progress: Option<ProgressFn>,
        checksum: bool,
    ) -> Self {
        let digest = checksum.then(|| Arc::new(std::sync::OnceLock::new()));
        let (chunks, mut queue) = tokio::sync::mpsc::channel(CHUNKS_AHEAD);
        let filled = digest.clone();
        // Read with std on a thread of its own: a Tokio file would hop to a blocking thread
        // for every chunk and copy each one twice. If the request is dropped, the queue
        // closes and the thread stops at its next chunk.
        tokio::task::spawn_blocking(move || read_chunks(file, size, filled, chunks));
        let mut sent = 0u64;
        let stream = futures_util::stream::poll_fn(move |cx| {
            let next = queue.poll_recv(cx);
            if let (std::task::Poll::Ready(Some(Ok(chunk))), Some(report)) = (&next, &progress) {
                sent += chunk.len() as u64;
                report(Progress::transfer(sent, Some(size)));
            }
            next
        });
        FileBody {
            body: reqwest::Body::wrap_stream(stream),
            checksum: digest,
        }
    }

    /// A handle on the checksum of the bytes sent, to read once the request has been answered.
    pub(crate) fn checksum(&self) -> SentChecksum {
        SentChecksum(self.checksum.clone())
    }
}

/// The SHA-256 of what a [`FileBody`] sent.
pub(crate) struct SentChecksum(Option<Arc<std::sync::OnceLock<String>>>);

impl SentChecksum {
    /// The hex SHA-256 of the whole file, if it was asked for and the whole file was read;
    /// `None` otherwise (a server that answers before taking the whole body).
    pub(crate) fn get(&self) -> Option<String> {
        self.0.as_ref().and_then(|cell| cell.get().cloned())
    }
}

/// The hex SHA-256 of `size` bytes of `file`, read by the same thread as a [`FileBody`]'s
/// (the file must hold at least that many); `read_so_far` hears the bytes hashed so far.
pub(crate) async fn checksum(
    file: std::fs::File,
    size: u64,
    read_so_far: impl Fn(u64),
) -> std::io::Result<String> {
    let digest = Arc::new(std::sync::OnceLock::new());
    let (chunks, mut queue) = tokio::sync::mpsc::channel(CHUNKS_AHEAD);
    let filled = Some(Arc::clone(&digest));
    tokio::task::spawn_blocking(move || read_chunks(file, size, filled, chunks));
    let mut done = 0u64;
    read_so_far(0);
    while let Some(chunk) = queue.recv().await {
        done += chunk?.len() as u64;
        read_so_far(done);
    }
    digest
        .get()
        .cloned()
        .ok_or_else(|| std::io::Error::other("hashing the file stopped"))
}

/// The reading thread of a [`FileBody`] and of [`checksum`]: `size` bytes of `file` into
/// `chunks`, hashed on the way when `digest` is given.
fn read_chunks(
    mut file: std::fs::File,
    size: u64,
    digest: Option<Arc<std::sync::OnceLock<String>>>,
    chunks: tokio::sync::mpsc::Sender<std::io::Result<bytes::Bytes>>,
) {
    use sha2::Digest as _;
    use std::io::Read as _;
    let mut hasher = digest.as_ref().map(|_| sha2::Sha256::new());
    let mut done = 0u64;
    while done < size {
        let want = (size - done).min(CHUNK as u64);
        let mut chunk = Vec::with_capacity(want as usize);
        // `read_to_end` through `take` fills the spare capacity without zeroing it first.
        let read = match (&mut file).take(want).read_to_end(&mut chunk) {
            Ok(0) => Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("the file ended after {done} of {size} bytes: it changed while being sent or hashed"),
            )),
            Ok(read) => Ok(read as u64),
            Err(e) => Err(e),
        };
        let read = match read {
            Ok(read) => read,
            Err(e) => {
                let _ = chunks.blocking_send(Err(e));
                return;
            }
        };
        done += read;
        if let Some(hasher) = hasher.as_mut() {
            hasher.update(&chunk);
        }
        if done == size {
            if let (Some(hasher), Some(digest)) = (hasher.take(), &digest) {
                let _ = digest.set(hex::encode(hasher.finalize()));
            }
        }
        // A closed queue means the request is gone: nothing more to read.
        if chunks.blocking_send(Ok(bytes::Bytes::from(chunk))).is_err() {
            return;
        }
    }
    // An empty file: nothing was read, and its checksum is that of nothing.
    if let (Some(hasher), Some(digest)) = (hasher, &digest) {
        let _ = digest.set(hex::encode(hasher.finalize()));
    }
}
