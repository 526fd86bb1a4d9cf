#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The core: the generated client and every type it names. It imports nothing of the layers
// above it.
mod api;
pub use api::{raw, types, webhook};

// The ergonomic layer over the core.
pub mod batch;
mod jobs;
pub use jobs::chat;
pub mod operations;
mod resources;
mod transfer;
pub use transfer::files;

// Tools for testing offline.
#[cfg(feature = "contract")]
#[cfg_attr(docsrs, doc(cfg(feature = "contract")))]
pub mod contract;
#[cfg(feature = "simulator")]
#[cfg_attr(docsrs, doc(cfg(feature = "simulator")))]
pub mod simulator;

pub use api::bodies::{AspectRatio, CreateVideoRequest, OutputFormat, Resolution, VideoKind};
pub use api::bodies::{
    CreateVideoAgentRequest, SendMessageRequest, MAX_BATCH_VIDEOS, MAX_FILES, MAX_JOB_BATCH_ITEMS,
    MAX_PROMPT_CHARS, MAX_SPEECH_CHARS,
};
pub use api::client::{
    default_user_agent, Client, ClientBuilder, RequestOptions, API_KEY_ENV, BASE_URL_ENV,
    DEFAULT_BASE_URL,
};
pub use api::ended::JobEnded;
pub use api::error::{
    ApiError, DecodeFailure, Error, ErrorCode, ErrorResponse, InvalidRequest, Result,
};
pub use api::kinds::{JobBody, JobKind};
pub use api::outcome::{readable_duration, AgentRecord, JobOutcome, JobTimedOut};
pub use api::retry::RetryPolicy;
pub use api::types::FileInput;
pub use api::types::{
    AgentMode, Orientation, Page, SessionStatus, VideoAgentSession, VideoDetail, VideoStatus,
};
pub use api::webhook::EventType;
pub use jobs::job::JobStream;
pub use jobs::wait::{PolledStatus, WaitEvent, WaitOptions, WaitPhase, WaitStream, WaitUpdate};
/// The HTTP status of a failed call ([`Error::status`]), re-exported so that it can be named
/// without depending on `reqwest`.
pub use reqwest::StatusCode;
// The resource handles, one per tag of the spec (generated).
pub use resources::generated::handles::*;
pub use resources::generated::TypedRecord;
pub use resources::pagination::ItemStream;
pub use resources::{
    BatchStream, BatchUpdate, UploadedBatch, UploadedFile, VideoStatuses, INLINE_THRESHOLD_BYTES,
    STATUS_IDS_PER_REQUEST, UPLOAD_LIMIT_BYTES,
};
#[allow(deprecated)]
pub use transfer::download::DownloadVideo;
pub use transfer::download::{Download, FileDownload, VideoAsset};
pub use transfer::{Progress, TransferStep};
