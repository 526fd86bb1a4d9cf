//! Streams that walk every page of a list operation.
//!
//! A stream follows `next_token` while `has_more` is true, stops when the token is missing, and
//! fails with [`Error::RepeatedPageToken`] if the server hands out a token it already gave
//! (which would otherwise loop forever).

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;

use futures_core::Stream;

use crate::api::error::{Error, Result};
use crate::api::types::Page;

/// A stream of the items of every page.
pub type ItemStream<'a, T> = Pin<Box<dyn Stream<Item = Result<T>> + Send + 'a>>;

struct State<F, T> {
    fetch: F,
    operation: &'static str,
    buffer: VecDeque<T>,
    /// The token for the next page; `None` once the last page is in.
    next: Option<Option<String>>,
    seen: HashSet<String>,
    /// An error to report once the items already received are out.
    failed: Option<Error>,
}

/// Streams items page by page, starting at `first` (a token, or `None` for the first page).
pub(crate) fn paginate<'a, T, F, Fut>(
    operation: &'static str,
    first: Option<String>,
    fetch: F,
) -> ItemStream<'a, T>
where
    T: Send + 'a,
    F: FnMut(Option<String>) -> Fut + Send + 'a,
    Fut: Future<Output = Result<Page<T>>> + Send + 'a,
{
    let mut seen = HashSet::new();
    if let Some(token) = &first {
        seen.insert(token.clone());
    }
    let state = State {
        fetch,
        operation,
        buffer: VecDeque::new(),
        next: Some(first),
        seen,
        failed: None,
    };
    Box::pin(futures_util::stream::unfold(
        state,
        |mut state| async move {
            loop {
                if let Some(item) = state.buffer.pop_front() {
                    return Some((Ok(item), state));
                }
                if let Some(error) = state.failed.take() {
                    return Some((Err(error), state));
                }
                let token = state.next.take()?;
                let page = match (state.fetch)(token).await {
                    Ok(page) => page,
                    Err(error) => return Some((Err(error), state)),
                };
                state.buffer.extend(page.items);
                match page.next_token {
                    Some(token) if page.has_more => {
                        if !state.seen.insert(token.clone()) {
                            state.failed = Some(Error::RepeatedPageToken {
                                operation: state.operation,
                                token,
                            });
                            continue;
                        }
                        state.next = Some(Some(token));
                    }
                    _ => state.next = None,
                }
            }
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt as _;
    use std::sync::{Arc, Mutex};

    type Asked = Arc<Mutex<Vec<Option<String>>>>;

    fn pages(
        script: Vec<(Vec<i32>, bool, Option<&'static str>)>,
    ) -> (ItemStream<'static, i32>, Asked) {
        let asked: Asked = Arc::default();
        let log = Arc::clone(&asked);
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let stream = paginate("list_things", None, move |token| {
            log.lock().unwrap().push(token);
            let next = script.lock().unwrap().pop_front();
            async move {
                let (items, more, token) = next.expect("no request past the last page");
                Ok(Page::new(items, Some(more), token.map(str::to_string)))
            }
        });
        (stream, asked)
    }

    #[tokio::test]
    async fn follows_tokens_until_the_last_page() {
        let (stream, asked) = pages(vec![
            (vec![1, 2], true, Some("t1")),
            (vec![], true, Some("t2")),
            (vec![3], false, Some("ignored")),
        ]);
        let items: Vec<i32> = stream.map(|r| r.unwrap()).collect().await;
        assert_eq!(items, [1, 2, 3]);
        assert_eq!(
            *asked.lock().unwrap(),
            [None, Some("t1".into()), Some("t2".into())]
        );
    }

    #[tokio::test]
    async fn stops_when_the_token_is_missing() {
        let (stream, asked) = pages(vec![(vec![1], true, None)]);
        let items: Vec<i32> = stream.map(|r| r.unwrap()).collect().await;
        assert_eq!(items, [1]);
        assert_eq!(asked.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_repeated_token_is_an_error_not_a_loop() {
        let (stream, _) = pages(vec![
            (vec![1], true, Some("t1")),
            (vec![2], true, Some("t1")),
        ]);
        let results: Vec<_> = stream.collect().await;
        assert_eq!(results.len(), 3);
        assert_eq!(*results[0].as_ref().unwrap(), 1);
        assert_eq!(*results[1].as_ref().unwrap(), 2);
        let error = results[2].as_ref().unwrap_err();
        assert!(
            matches!(error, Error::RepeatedPageToken { token, .. } if token == "t1"),
            "{error}"
        );
        assert!(error.to_string().contains("list_things"));
    }
}
