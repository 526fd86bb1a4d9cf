//! One handle per API resource, returned by the [`Client`](crate::Client) accessors.

/// The page size, cursor and stream shared by every list request builder.
macro_rules! paged {
    ($builder:ident, $item:ty, $operation:literal, $default:literal) => {
        impl<'a> $builder<'a> {
            #[doc = concat!("Page size, 1–100 (default ", $default, ").")]
            pub fn limit(mut self, limit: u32) -> Self {
                self.limit = Some(limit);
                self
            }

            /// Cursor from a previous page's `next_token`.
            pub fn token(mut self, token: impl Into<String>) -> Self {
                self.token = Some(token.into());
                self
            }

            /// Streams every item of every page, starting at this request's token (if any)
            /// and following `next_token`; the page size is this request's `limit`.
            pub fn stream(self) -> $crate::pagination::ItemStream<'a, $item> {
                let first = self.token.clone();
                $crate::pagination::paginate($operation, first, move |token| {
                    let mut page = self.clone();
                    page.token = token;
                    page.send()
                })
            }
        }
    };
}

mod assets;
mod video_agents;
mod videos;
mod webhooks;

pub use assets::{Assets, INLINE_LIMIT_BYTES, UPLOAD_LIMIT_BYTES};
pub use video_agents::{ListSessions, ListStyles, VideoAgents};
pub use videos::{ListVideos, Videos};
pub use webhooks::{CreateEndpoint, ListEndpoints, ListEvents, UpdateEndpoint, Webhooks};

use std::time::Duration;

use crate::client::CallOptions;
use crate::error::{Error, Result};

/// Options for one call.
///
/// ```
/// use std::time::Duration;
/// use heygen_api::RequestOptions;
///
/// let options = RequestOptions::new()
///     .idempotency_key("order-42-create")
///     .timeout(Duration::from_secs(60));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct RequestOptions {
    idempotency_key: Option<String>,
    timeout: Option<Duration>,
}

impl RequestOptions {
    /// Default options: an automatic idempotency key on `POST`s (unless disabled on the
    /// client) and the client's timeouts.
    pub fn new() -> Self {
        RequestOptions::default()
    }

    /// Uses this `Idempotency-Key` (1–255 characters from `A-Z a-z 0-9 _ : . -`). A repeat
    /// within 24 hours with the same key replays the first response instead of acting twice.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// Timeout for each attempt of this call.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    pub(crate) fn into_call(self) -> Result<CallOptions> {
        if let Some(key) = &self.idempotency_key {
            crate::types::IdempotencyKey::new(key.as_str())?;
        }
        Ok(CallOptions {
            idempotency_key: self.idempotency_key,
            timeout: self.timeout,
        })
    }
}

/// Checks a page size against the API's 1–100 range.
pub(crate) fn check_limit(limit: Option<u32>) -> Result<Option<std::num::NonZeroU32>> {
    match limit {
        None => Ok(None),
        Some(n @ 1..=100) => Ok(std::num::NonZeroU32::new(n)),
        Some(n) => Err(Error::invalid(
            "limit",
            format!("must be between 1 and 100, got {n}"),
        )),
    }
}

/// Checks a path identifier: an empty one would address a different endpoint.
pub(crate) fn check_id(field: &'static str, id: &str) -> Result<()> {
    if id.trim().is_empty() {
        Err(Error::invalid(field, "must not be empty"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_follow_the_documented_pattern() {
        let check_idempotency_key =
            |key: &str| RequestOptions::new().idempotency_key(key).into_call();
        assert!(check_idempotency_key("3f2b8c4e-9a1d:x.y_z").is_ok());
        assert!(check_idempotency_key("").is_err());
        assert!(check_idempotency_key(&"k".repeat(256)).is_err());
        assert!(check_idempotency_key(&"k".repeat(255)).is_ok());
        let e = check_idempotency_key("has space").unwrap_err();
        assert_eq!(e.invalid_request().unwrap().field, "idempotency_key");
    }

    #[test]
    fn limits_are_checked() {
        assert!(check_limit(Some(0)).is_err());
        assert!(check_limit(Some(101)).is_err());
        assert_eq!(check_limit(Some(100)).unwrap().unwrap().get(), 100);
        assert_eq!(check_limit(None).unwrap(), None);
    }
}
