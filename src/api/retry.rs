//! Resilience: which failures are retried, how long to wait in between, and the one loop that
//! repeats API calls, uploads and downloads. [`Error::is_retryable`](crate::Error::is_retryable)
//! is the loop's classifier, so what it says is what the loop does.
//!
//! - 429 is retried on any method (the server rejected the request without processing it),
//!   waiting at least as long as `Retry-After` says, clamped to [`RetryPolicy::max_backoff`].
//! - 408, 500, 502, 503, 504 and transport failures (connection refused or reset, timeouts) are
//!   retried only when repeating the request is safe: `GET`/`HEAD`/`PUT`/`DELETE`/`OPTIONS`, or
//!   a request that carries an `Idempotency-Key`.
//! - 409 `request_in_progress` (the same key is still being processed) is retried with the same
//!   key.
//! - A `POST` without a key that timed out is never retried: it may have been accepted.

use std::future::Future;
use std::time::Duration;

use reqwest::Method;

use crate::api::error::Result;

/// A growing wait: `initial × factor^n` capped at `max`, then spread by up to `jitter` (a
/// fraction, 0–0.5) either way, so that many clients do not act in lockstep. Retries and the
/// polls of a wait both follow one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Backoff {
    pub(crate) initial: Duration,
    pub(crate) factor: f64,
    pub(crate) max: Duration,
    pub(crate) jitter: f64,
}

impl Backoff {
    /// The `n`-th wait (0-based), before jitter.
    pub(crate) fn nominal(&self, n: u32) -> Duration {
        let factor = if self.factor.is_finite() {
            self.factor.max(1.0)
        } else {
            1.0
        };
        let grown = self.initial.as_secs_f64() * factor.powi(n.min(64) as i32);
        Duration::try_from_secs_f64(grown.min(self.max.as_secs_f64())).unwrap_or(self.max)
    }

    /// The `n`-th wait (0-based), jittered.
    pub(crate) fn wait(&self, n: u32) -> Duration {
        let nominal = self.nominal(n);
        let spread = if self.jitter.is_finite() {
            self.jitter.clamp(0.0, 0.5)
        } else {
            0.0
        };
        if spread == 0.0 {
            return nominal;
        }
        let factor = 1.0 - spread + 2.0 * spread * fastrand::f64();
        Duration::try_from_secs_f64(nominal.as_secs_f64() * factor).unwrap_or(nominal)
    }
}

/// How failed requests are retried.
///
/// ```
/// use std::time::Duration;
/// use heygen_api::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .max_retries(4)
///     .initial_backoff(Duration::from_millis(250))
///     .max_backoff(Duration::from_secs(10));
/// assert_eq!(policy.retries(), 4);
/// assert_eq!(policy.longest_wait(), Duration::from_secs(10));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    multiplier: f64,
    jitter: bool,
}

impl Default for RetryPolicy {
    /// Two retries, 1 s doubling to at most 30 s, with ±25 % jitter (HeyGen's own CLI uses the
    /// same values).
    fn default() -> Self {
        RetryPolicy {
            max_retries: 2,
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            multiplier: 2.0,
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        RetryPolicy::default().max_retries(0)
    }

    /// How many times a failed request is repeated (0 disables retries).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// The wait before the first retry.
    pub fn initial_backoff(mut self, wait: Duration) -> Self {
        self.initial_backoff = wait;
        self
    }

    /// The longest wait between attempts; also caps `Retry-After`.
    pub fn max_backoff(mut self, wait: Duration) -> Self {
        self.max_backoff = wait;
        self
    }

    /// The factor the wait grows by after each attempt (values below 1 count as 1).
    pub fn multiplier(mut self, factor: f64) -> Self {
        self.multiplier = factor;
        self
    }

    /// Whether waits are randomized by ±25 % so that many clients do not retry in lockstep.
    pub fn jitter(mut self, enabled: bool) -> Self {
        self.jitter = enabled;
        self
    }

    /// How many times this policy repeats a failed request.
    pub fn retries(&self) -> u32 {
        self.max_retries
    }

    /// The longest wait between attempts.
    pub fn longest_wait(&self) -> Duration {
        self.max_backoff
    }

    /// The schedule of waits between attempts (±25 % jitter when on).
    fn schedule(&self) -> Backoff {
        Backoff {
            initial: self.initial_backoff,
            factor: self.multiplier,
            max: self.max_backoff,
            jitter: if self.jitter { 0.25 } else { 0.0 },
        }
    }

    /// The wait before retry number `retry` (0-based), without `Retry-After`, at most the
    /// policy maximum.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        self.schedule().wait(retry).min(self.max_backoff)
    }

    /// The wait before retry number `retry`: the backoff, or longer when the server's
    /// `Retry-After` asks for it, always clamped to the policy maximum.
    pub(crate) fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let backoff = self.backoff(retry);
        retry_after
            .map_or(backoff, |asked| asked.max(backoff))
            .min(self.max_backoff)
    }
}

/// Whether repeating this request cannot create a second effect.
pub(crate) fn is_idempotent(method: &Method, has_key: bool) -> bool {
    has_key
        || matches!(
            *method,
            Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
        )
}

/// Runs `attempt` until it succeeds, fails for good, or the policy's retries are spent. An
/// error is retried exactly when [`Error::is_retryable`] says so, after
/// [`RetryPolicy::delay`] (the backoff, or the server's `Retry-After` when longer).
pub(crate) async fn run<T, F, Fut>(
    policy: &RetryPolicy,
    operation: &'static str,
    mut attempt: F,
) -> Result<T>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut retry = 0u32;
    loop {
        match attempt(retry).await {
            Err(error) if retry < policy.max_retries && error.is_retryable() => {
                let wait = policy.delay(retry, error.retry_after());
                tracing::debug!(
                    operation,
                    attempt = retry + 1,
                    wait_ms = wait.as_millis() as u64,
                    reason = %error,
                    "retrying"
                );
                tokio::time::sleep(wait).await;
                retry += 1;
            }
            outcome => return outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::error::{retry_after, retry_status};
    use reqwest::header::HeaderMap;
    use reqwest::header::HeaderValue;
    use reqwest::StatusCode;
    use std::time::SystemTime;

    fn headers(value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(
            reqwest::header::RETRY_AFTER,
            HeaderValue::from_str(value).unwrap(),
        );
        map
    }

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            retry_after(&headers("7"), now),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&headers("1.5"), now),
            Some(Duration::from_millis(1500))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(42));
        assert_eq!(
            retry_after(&headers(&later), now),
            Some(Duration::from_secs(42))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(42));
        assert_eq!(retry_after(&headers(&earlier), now), Some(Duration::ZERO));
        assert_eq!(retry_after(&headers("soon"), now), None);
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = RetryPolicy::default()
            .jitter(false)
            .initial_backoff(Duration::from_secs(1))
            .max_backoff(Duration::from_secs(5));
        assert_eq!(policy.backoff(0), Duration::from_secs(1));
        assert_eq!(policy.backoff(1), Duration::from_secs(2));
        assert_eq!(policy.backoff(2), Duration::from_secs(4));
        assert_eq!(policy.backoff(3), Duration::from_secs(5));
        assert_eq!(policy.backoff(1000), Duration::from_secs(5));
    }

    #[test]
    fn jitter_stays_within_a_quarter() {
        let policy = RetryPolicy::default().initial_backoff(Duration::from_secs(4));
        for _ in 0..200 {
            let wait = policy.backoff(0);
            assert!(wait >= Duration::from_secs(3) && wait <= Duration::from_secs(5));
        }
    }

    #[test]
    fn retry_after_is_honoured_but_clamped() {
        let policy = RetryPolicy::default()
            .jitter(false)
            .max_backoff(Duration::from_secs(30));
        assert_eq!(
            policy.delay(0, Some(Duration::from_secs(10))),
            Duration::from_secs(10)
        );
        assert_eq!(
            policy.delay(0, Some(Duration::from_secs(3600))),
            Duration::from_secs(30)
        );
        // A shorter Retry-After does not undercut the backoff.
        assert_eq!(
            policy.delay(2, Some(Duration::ZERO)),
            Duration::from_secs(4)
        );
    }

    #[test]
    fn only_safe_requests_retry_server_errors() {
        assert!(retry_status(StatusCode::TOO_MANY_REQUESTS, false, false));
        assert!(!retry_status(StatusCode::BAD_GATEWAY, false, false));
        assert!(retry_status(StatusCode::BAD_GATEWAY, true, false));
        assert!(!retry_status(StatusCode::NOT_FOUND, true, false));
        assert!(retry_status(StatusCode::CONFLICT, true, true));
        assert!(!retry_status(StatusCode::CONFLICT, true, false));
        assert!(is_idempotent(&Method::GET, false));
        assert!(is_idempotent(&Method::DELETE, false));
        assert!(!is_idempotent(&Method::POST, false));
        assert!(is_idempotent(&Method::POST, true));
        assert!(!is_idempotent(&Method::PATCH, false));
    }
}
