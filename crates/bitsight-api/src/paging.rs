//! Offset paging as a `Stream`: follows `links.next` verbatim on the configured origin.

use futures::{Stream, StreamExt, TryStreamExt, stream};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::client::{Client, endpoint_of};
use crate::error::{ApiError, Endpoint};

/// Bitsight's paged answer: `{"links": {"next", "previous"}, "count", "results"}`.
#[derive(Deserialize)]
struct Page<R> {
    #[serde(default)]
    links: Option<Links>,
    #[serde(default)]
    count: Option<u64>,
    results: Vec<R>,
}

/// Some endpoints say `next_url` instead of `next`.
#[derive(Deserialize)]
struct Links {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    next_url: Option<String>,
}

/// The `offset` query parameter of a page URL.
pub(crate) fn offset_of(url: &Url) -> Option<u64> {
    url.query_pairs()
        .find(|(name, _)| name == "offset")
        .and_then(|(_, value)| value.parse().ok())
}

/// A paged listing about to be streamed.
pub(crate) struct Pager {
    client: Client,
    first: Result<Url, ApiError>,
    company: Option<String>,
}

struct State<F> {
    client: Client,
    next: Option<Url>,
    pending_error: Option<ApiError>,
    company: Option<String>,
    /// Offset just past the last result delivered.
    position: u64,
    empty_retries: u32,
    convert: F,
}

impl Pager {
    pub(crate) fn new(
        client: Client,
        first: Result<Url, ApiError>,
        company: Option<String>,
    ) -> Self {
        Self {
            client,
            first,
            company,
        }
    }

    /// Streams the items, each read as `R` and turned into `U` by `convert(company, item)`.
    pub(crate) fn stream<R, U, F>(
        self,
        convert: F,
    ) -> impl Stream<Item = Result<U, ApiError>> + Send + 'static
    where
        R: DeserializeOwned + Send + 'static,
        U: Send + 'static,
        F: Fn(&str, R) -> Result<U, serde_json::Error> + Send + 'static,
    {
        let (next, pending_error) = match self.first {
            Ok(url) => (Some(url), None),
            Err(error) => (None, Some(error)),
        };
        let state = State {
            position: next.as_ref().and_then(offset_of).unwrap_or(0),
            client: self.client,
            next,
            pending_error,
            company: self.company,
            empty_retries: 0,
            convert,
        };
        stream::try_unfold(state, next_page::<R, U, F>)
            .map_ok(|items| stream::iter(items.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }
}

async fn next_page<R, U, F>(mut state: State<F>) -> Result<Option<(Vec<U>, State<F>)>, ApiError>
where
    R: DeserializeOwned,
    F: Fn(&str, R) -> Result<U, serde_json::Error>,
{
    if let Some(error) = state.pending_error.take() {
        return Err(error);
    }
    loop {
        let Some(url) = state.next.take() else {
            return Ok(None);
        };
        let endpoint = endpoint_of(&url, state.company.as_deref());
        let body = state.client.get_bytes(&url, &endpoint).await?;
        let page: Page<R> = serde_json::from_slice(&body).map_err(|source| ApiError::Decode {
            endpoint: endpoint.clone(),
            source,
        })?;
        drop(body);
        let next = match page.links.and_then(|links| links.next.or(links.next_url)) {
            Some(link) => Some(resolve_next(&state.client, &url, &link, &endpoint)?),
            None => None,
        };
        let page_offset = endpoint.offset.unwrap_or(state.position);
        if page.results.is_empty() {
            match page.count {
                // Results were promised here: ask again rather than skip them.
                Some(count) if page_offset < count => {
                    if state.empty_retries >= state.client.config().max_retries {
                        return Err(ApiError::IncompletePage {
                            endpoint,
                            delivered: page_offset,
                            count,
                        });
                    }
                    let delay = state.client.backoff(state.empty_retries);
                    tracing::warn!(%endpoint, count, delay_ms = delay.as_millis(), "empty page before count; asking again");
                    tokio::time::sleep(delay).await;
                    state.empty_retries += 1;
                    state.next = Some(url);
                    continue;
                }
                _ => return Ok(None),
            }
        }
        state.empty_retries = 0;
        let len = u64::try_from(page.results.len()).unwrap_or(u64::MAX);
        state.position = page_offset.saturating_add(len);
        let company = state.company.as_deref().unwrap_or_default();
        let items = page
            .results
            .into_iter()
            .map(|item| (state.convert)(company, item))
            .collect::<Result<Vec<U>, _>>()
            .map_err(|source| ApiError::Decode {
                endpoint: endpoint.clone(),
                source,
            })?;
        // A next link back to this very page would loop forever.
        state.next = next.filter(|next| *next != url);
        return Ok(Some((items, state)));
    }
}

/// Resolves `link` against the page it came on and keeps it only on the configured origin.
fn resolve_next(
    client: &Client,
    current: &Url,
    link: &str,
    endpoint: &Endpoint,
) -> Result<Url, ApiError> {
    let foreign = |shown: String| ApiError::ForeignNextLink {
        endpoint: endpoint.clone(),
        next: shown,
    };
    let next = current
        .join(link)
        .map_err(|_| foreign(link.split('?').next().unwrap_or_default().to_owned()))?;
    if !client.is_own_origin(&next) {
        let mut shown = next.clone();
        shown.set_query(None);
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        return Err(foreign(shown.to_string()));
    }
    Ok(next)
}
