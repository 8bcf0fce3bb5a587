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

/// A page's links. Some endpoints say `next_url` instead of `next`.
#[derive(Deserialize)]
pub(crate) struct Links {
    #[serde(default)]
    pub(crate) next: Option<String>,
    #[serde(default)]
    next_url: Option<String>,
}

/// A decoded page: its links, `count` and items.
pub(crate) struct DecodedPage<T> {
    pub(crate) links: Option<Links>,
    pub(crate) count: Option<u64>,
    pub(crate) items: T,
}

/// What a decoded page holds: its results, counted.
pub(crate) trait PageItems {
    /// How many results the page holds.
    fn item_count(&self) -> usize;
}

impl<U> PageItems for Vec<U> {
    fn item_count(&self) -> usize {
        self.len()
    }
}

/// Where a page sits in the listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PagePlace {
    /// The offset of its first result.
    pub(crate) offset: u64,
    /// The offset the next page is asked at, when there is one.
    pub(crate) next_offset: Option<u64>,
}

/// Decodes a page whose items are read as `R` and turned into `U`.
pub(crate) fn decode_page<R: DeserializeOwned, U>(
    body: &[u8],
    convert: impl Fn(R) -> U,
) -> Result<DecodedPage<Vec<U>>, serde_json::Error> {
    let page: Page<R> = serde_json::from_slice(body)?;
    Ok(DecodedPage {
        links: page.links,
        count: page.count,
        items: page.results.into_iter().map(convert).collect(),
    })
}

/// The `offset` query parameter of a page URL.
pub(crate) fn offset_of(url: &Url) -> Option<u64> {
    url.query_pairs()
        .find(|(name, _)| name == "offset")
        .and_then(|(_, value)| value.parse().ok())
}

/// `url` with its `offset` parameter set to `offset` (other parameters kept in
/// order); unchanged when it has no `offset`.
fn with_offset(url: &Url, offset: u64) -> Url {
    if offset_of(url).is_none() {
        return url.clone();
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(name, value)| {
            let value = if name == "offset" {
                offset.to_string()
            } else {
                value.into_owned()
            };
            (name.into_owned(), value)
        })
        .collect();
    let mut moved = url.clone();
    moved.query_pairs_mut().clear().extend_pairs(pairs);
    moved
}

/// A paged listing about to be streamed.
pub(crate) struct Pager {
    client: Client,
    first: Result<Url, ApiError>,
    company: Option<String>,
}

/// The next page, already requested while the caller works through the current one.
/// Dropping it cancels the request.
struct Prefetch {
    url: Url,
    body: tokio::task::JoinHandle<Result<bytes::Bytes, ApiError>>,
}

impl Prefetch {
    fn start(client: &Client, url: Url, endpoint: Endpoint) -> Self {
        let client = client.clone();
        let target = url.clone();
        let body = tokio::spawn(async move { client.get_bytes(&target, &endpoint).await });
        Self { url, body }
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.body.abort();
    }
}

struct State<F> {
    client: Client,
    /// Results each page re-reads from the end of the one before (0: follow
    /// `links.next` as sent).
    overlap: u64,
    next: Option<Url>,
    prefetch: Option<Prefetch>,
    pending_error: Option<ApiError>,
    company: Option<String>,
    /// Offset just past the last result delivered.
    position: u64,
    empty_retries: u32,
    decode: F,
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

    /// Streams the items of each page, as `decode(body, company)` reads them.
    pub(crate) fn stream<U, F>(
        self,
        decode: F,
    ) -> impl Stream<Item = Result<U, ApiError>> + Send + 'static
    where
        U: Send + 'static,
        F: Fn(bytes::Bytes, &str) -> Result<DecodedPage<Vec<U>>, serde_json::Error>
            + Send
            + 'static,
    {
        self.pages(decode, 0)
            .map_ok(|(items, _)| stream::iter(items.into_iter().map(Ok)))
            .try_flatten()
            .boxed()
    }

    /// Streams whole pages, as `decode(body, company)` reads them, each with its place.
    /// With an `overlap`, each page after the first is asked `overlap` results before
    /// the end of the one before (at least one result further on), at the offset of
    /// `links.next`; the next page is requested while the caller works on this one.
    pub(crate) fn pages<T, F>(
        self,
        decode: F,
        overlap: u64,
    ) -> impl Stream<Item = Result<(T, PagePlace), ApiError>> + Send + 'static
    where
        T: PageItems + Send + 'static,
        F: Fn(bytes::Bytes, &str) -> Result<DecodedPage<T>, serde_json::Error> + Send + 'static,
    {
        let (next, pending_error) = match self.first {
            Ok(url) => (Some(url), None),
            Err(error) => (None, Some(error)),
        };
        let state = State {
            overlap,
            position: next.as_ref().and_then(offset_of).unwrap_or(0),
            client: self.client,
            next,
            prefetch: None,
            pending_error,
            company: self.company,
            empty_retries: 0,
            decode,
        };
        stream::try_unfold(state, next_page::<T, F>)
    }
}

async fn next_page<T, F>(
    mut state: State<F>,
) -> Result<Option<((T, PagePlace), State<F>)>, ApiError>
where
    T: PageItems,
    F: Fn(bytes::Bytes, &str) -> Result<DecodedPage<T>, serde_json::Error>,
{
    if let Some(error) = state.pending_error.take() {
        return Err(error);
    }
    loop {
        let Some(url) = state.next.take() else {
            return Ok(None);
        };
        let endpoint = endpoint_of(&url, state.company.as_deref());
        let body = match state.prefetch.take() {
            Some(mut prefetch) if prefetch.url == url => match (&mut prefetch.body).await {
                Ok(body) => body?,
                // The task was cancelled or panicked: ask again in this task.
                Err(_) => state.client.get_bytes(&url, &endpoint).await?,
            },
            _ => state.client.get_bytes(&url, &endpoint).await?,
        };
        let company = state.company.as_deref().unwrap_or_default();
        let page = (state.decode)(body, company).map_err(|source| ApiError::Decode {
            endpoint: endpoint.clone(),
            source,
        })?;
        let next = match page.links.and_then(|links| links.next.or(links.next_url)) {
            Some(link) => Some(resolve_next(&state.client, &url, &link, &endpoint)?),
            None => None,
        };
        let page_offset = endpoint.offset.unwrap_or(state.position);
        let len = u64::try_from(page.items.item_count()).unwrap_or(u64::MAX);
        if len == 0 {
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
        state.position = page_offset.saturating_add(len);
        let next = if state.overlap > 0 {
            let step = len.saturating_sub(state.overlap).max(1);
            next.map(|next| with_offset(&next, page_offset.saturating_add(step)))
        } else {
            next
        };
        // A next link back to this very page would loop forever.
        state.next = next.filter(|next| *next != url);
        let place = PagePlace {
            offset: page_offset,
            next_offset: state.next.as_ref().and_then(offset_of),
        };
        // Ask for the next page now, so it travels while this one is consumed.
        state.prefetch = state.next.as_ref().map(|next| {
            let endpoint = endpoint_of(next, state.company.as_deref());
            Prefetch::start(&state.client, next.clone(), endpoint)
        });
        return Ok(Some(((page.items, place), state)));
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
