//! One handle per API resource, returned by the [`Client`](crate::Client) accessors.

/// The generated handles and request builders (`build.rs`, from `openapi.yaml`).
#[allow(clippy::all, clippy::pedantic, unused_qualifications)]
pub(crate) mod generated {
    include!(concat!(env!("OUT_DIR"), "/typed_layer.rs"));
}

mod assets;
mod direct_upload;
mod jobs;
pub(crate) mod pagination;
mod video_agents;
mod videos;

pub use assets::{UploadAsset, INLINE_THRESHOLD_BYTES, UPLOAD_LIMIT_BYTES};
pub use direct_upload::{UploadedBatch, UploadedFile};
pub use videos::{BatchStream, BatchUpdate, VideoStatuses, STATUS_IDS_PER_REQUEST};

use crate::api::error::{Error, Result};

/// Checks an integer parameter against the spec's bounds.
pub(crate) fn check_range(
    field: &'static str,
    value: i128,
    minimum: Option<i128>,
    maximum: Option<i128>,
) -> Result<()> {
    let low = minimum.is_some_and(|m| value < m);
    let high = maximum.is_some_and(|m| value > m);
    if !(low || high) {
        return Ok(());
    }
    let reason = match (minimum, maximum) {
        (Some(min), Some(max)) => format!("must be between {min} and {max}, got {value}"),
        (Some(min), None) => format!("must be at least {min}, got {value}"),
        (None, Some(max)) => format!("must be at most {max}, got {value}"),
        (None, None) => unreachable!("a bound was crossed"),
    };
    Err(Error::invalid(field, reason))
}

/// Checks how many ids list parameters hold in all against the spec's `x-heygen-most-ids`.
pub(crate) fn check_count(field: &'static str, count: usize, most: usize) -> Result<()> {
    if count > most {
        Err(Error::invalid(
            field,
            format!("take at most {most} ids in all, got {count}"),
        ))
    } else {
        Ok(())
    }
}

/// The items of a comma-separated list (`a,b,,c` has three).
pub(crate) fn comma_items(list: &str) -> usize {
    list.split(',')
        .filter(|item| !item.trim().is_empty())
        .count()
}

/// Checks a number parameter against the spec's bounds.
pub(crate) fn check_number(
    field: &'static str,
    value: f64,
    minimum: Option<f64>,
    maximum: Option<f64>,
) -> Result<()> {
    let inside = value.is_finite()
        && minimum.is_none_or(|m| value >= m)
        && maximum.is_none_or(|m| value <= m);
    if inside {
        return Ok(());
    }
    let range = match (minimum, maximum) {
        (Some(low), Some(high)) => format!("between {low} and {high}"),
        (Some(low), None) => format!("at least {low}"),
        (None, Some(high)) => format!("at most {high}"),
        (None, None) => "a finite number".to_string(),
    };
    Err(Error::invalid(
        field,
        format!("must be {range}, got {value}"),
    ))
}

/// The longest path parameter sent. HeyGen's ids are a few dozen characters; a far longer
/// one is a mistake (a file pasted where an id goes), and past about 64 KiB no URL can carry
/// it at all.
pub(crate) const MOST_PATH_PARAM_BYTES: usize = 1024;

/// Checks a path parameter: an empty one would address a different endpoint, and one longer
/// than [`MOST_PATH_PARAM_BYTES`] is no id.
pub(crate) fn check_path_param(field: &'static str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        Err(Error::invalid(field, "must not be empty"))
    } else if value.len() > MOST_PATH_PARAM_BYTES {
        Err(Error::invalid(
            field,
            format!(
                "is {} bytes long; an id is at most {MOST_PATH_PARAM_BYTES}",
                value.len()
            ),
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_checked_against_both_bounds() {
        assert!(check_range("limit", 0, Some(1), Some(100)).is_err());
        assert!(check_range("limit", 101, Some(1), Some(100)).is_err());
        assert!(check_range("limit", 100, Some(1), Some(100)).is_ok());
        assert!(check_range("limit", 1, Some(1), Some(100)).is_ok());
        assert!(check_range("n", -5, None, Some(3)).is_ok());
        let e = check_range("limit", 101, Some(1), Some(100)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid request: `limit` must be between 1 and 100, got 101 (nothing was sent)"
        );
    }

    #[test]
    fn empty_and_overlong_path_parameters_are_refused() {
        assert!(check_path_param("video_id", " ").is_err());
        assert!(check_path_param("video_id", "v1").is_ok());
        let long = "a".repeat(MOST_PATH_PARAM_BYTES + 1);
        let e = check_path_param("video_id", &long).unwrap_err();
        assert!(e.to_string().contains("1025 bytes long"), "{e}");
        assert!(check_path_param("video_id", &long[1..]).is_ok());
    }
}
