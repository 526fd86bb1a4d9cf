//! The runnable examples of `heygen-api` (`cargo run --example quickstart` from the
//! repository's root). This library is empty: a package needs one target besides its examples.
