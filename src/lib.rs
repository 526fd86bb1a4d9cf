#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod batch;
pub mod chat;
mod client;
#[cfg(feature = "contract")]
#[cfg_attr(docsrs, doc(cfg(feature = "contract")))]
pub mod contract;
mod download;
mod error;
pub mod files;
mod hooks;
mod invalid;
mod lifecycle;
mod open_enum;
pub mod operations;
mod outcome;
mod pagination;
pub mod raw;
mod requests;
mod resources;
mod retry;
#[cfg(feature = "simulator")]
#[cfg_attr(docsrs, doc(cfg(feature = "simulator")))]
pub mod simulator;
mod transfer;
pub mod types;
mod video_request;
mod wait;
pub mod webhook;

pub use client::{
    default_user_agent, Client, ClientBuilder, RequestOptions, API_KEY_ENV, BASE_URL_ENV,
    DEFAULT_BASE_URL,
};
pub use download::{Download, VideoAsset};
pub use error::{ApiError, ApiFailure, DecodeFailure, Error, ErrorCode, InvalidRequest, Result};
pub use files::FileInput;
pub use outcome::{TimedOut, WaitOutcome};
pub use pagination::ItemStream;
pub use requests::{
    AgentMode, CreateVideoAgentRequest, Orientation, SendMessageRequest, MAX_BATCH_VIDEOS,
    MAX_FILES, MAX_PROMPT_CHARS,
};
/// The resource handles, one per tag of the spec (generated).
pub use resources::generated::handles::*;
pub use resources::{
    BatchStream, BatchUpdate, UploadedBatch, UploadedFile, VideoStatuses, INLINE_THRESHOLD_BYTES,
    STATUS_IDS_PER_REQUEST, UPLOAD_LIMIT_BYTES,
};
pub use retry::RetryPolicy;
pub use transfer::Progress;
pub use types::{EventType, Page, SessionStatus, VideoAgentSession, VideoDetail, VideoStatus};
pub use video_request::{AspectRatio, CreateVideoRequest, OutputFormat, Resolution, VideoKind};
pub use wait::{PolledStatus, WaitEvent, WaitOptions, WaitPhase, WaitStream, WaitUpdate};
