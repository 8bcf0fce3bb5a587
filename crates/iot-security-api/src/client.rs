//! The HTTP client: authentication, rate limiting, retries and paging.

use std::collections::HashSet;
use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use rand::Rng;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use time::OffsetDateTime;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use url::Url;

use crate::config::{Auth, ClientConfig, MAX_PAGE_SIZE, ScmCredentials};
use crate::error::{ApiError, ConfigError, Place};
use crate::model::{Alert, Device, Vulnerability};
use crate::page::{ListRecord, PageError};
use crate::query::{AlertQuery, DeviceQuery, MAX_OFFSET, Params, VulnerabilityQuery};
use crate::time_format::parse_http_date;

/// The endpoints below the API prefix.
#[derive(Debug, Clone, Copy)]
enum Endpoint {
    DeviceList,
    Device,
    DeviceByIp,
    AlertList,
    Alert,
    VulnerabilityList,
    Vulnerability,
    Status,
}

impl Endpoint {
    const ALL: [Self; 8] = [
        Self::DeviceList,
        Self::Device,
        Self::DeviceByIp,
        Self::AlertList,
        Self::Alert,
        Self::VulnerabilityList,
        Self::Vulnerability,
        Self::Status,
    ];

    fn path(self) -> &'static str {
        match self {
            Self::DeviceList => "device/list",
            Self::Device => "device",
            Self::DeviceByIp => "device/ip",
            Self::AlertList => "alert/list",
            Self::Alert => "alert",
            Self::VulnerabilityList => "vulnerability/list",
            Self::Vulnerability => "vulnerability",
            Self::Status => "xsoar/status",
        }
    }
}

/// A token is refreshed this long before it expires.
const TOKEN_REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// Strata Cloud Manager tokens live 15 minutes; a longer `expires_in` is not trusted.
const TOKEN_MAX_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// Error messages quote at most this much of a response body.
const MESSAGE_LIMIT: usize = 200;

/// A client for one IoT Security tenant. Cheap to clone (shared connection pool,
/// rate limiter and token).
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    api_base: Url,
    /// One URL per [`Endpoint`], in the order of `Endpoint::ALL`.
    urls: [Url; 8],
    customer_id: String,
    credentials: Credentials,
    page_size: u32,
    limiter: Option<DefaultDirectRateLimiter>,
    max_retries: u32,
    retry_base_delay: Duration,
    max_retry_delay: Duration,
}

enum Credentials {
    ApiKey {
        key_id: HeaderValue,
        access_key: HeaderValue,
    },
    Scm {
        token_url: Url,
        credentials: ScmCredentials,
        token: Mutex<Option<Token>>,
    },
}

struct Token {
    header: HeaderValue,
    refresh_at: Instant,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("api_base", &self.inner.api_base.as_str())
            .field("customer_id", &self.inner.customer_id)
            .field("page_size", &self.inner.page_size)
            .finish_non_exhaustive()
    }
}

/// What `xsoar/status` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportStatus {
    /// The export worked.
    Success,
    /// The export failed.
    Error,
    /// The export is disabled.
    Disabled,
}

/// A status report for `xsoar/status`, shown to the tenant's administrators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReport {
    /// `success`, `error` or `disabled`.
    pub status: ReportStatus,
    /// Free text.
    pub message: String,
    /// Which integration reports (`siem`).
    pub integration_name: String,
    /// Which job reports.
    pub playbook_name: String,
    /// `device`, `alert` or `vulnerability`.
    pub asset_type: String,
    /// When.
    pub timestamp: OffsetDateTime,
}

/// Retries of one request, with the place it is about.
struct Attempts {
    place: Place,
    made: u32,
}

impl Client {
    /// Validates `config` and builds the client (no request is made).
    pub fn new(config: ClientConfig) -> Result<Self, ConfigError> {
        if !(1..=MAX_PAGE_SIZE).contains(&config.page_size) {
            return Err(ConfigError::PageSize {
                page_size: config.page_size,
            });
        }
        if config.customer_id.trim().is_empty() {
            return Err(ConfigError::Empty {
                field: "customer_id",
            });
        }
        let base = parse_url("base_url", &config.base_url, config.allow_http)?;
        let api_base = api_base(base, config.auth.api_prefix());
        let urls = Endpoint::ALL.map(|endpoint| api_base.join(endpoint.path()));
        let urls = match urls {
            [Ok(a), Ok(b), Ok(c), Ok(d), Ok(e), Ok(f), Ok(g), Ok(h)] => [a, b, c, d, e, f, g, h],
            _ => {
                return Err(ConfigError::InvalidUrl {
                    what: "base_url",
                    url: config.base_url,
                    source: url::ParseError::RelativeUrlWithCannotBeABaseBase,
                });
            }
        };
        let credentials = match config.auth {
            Auth::ApiKey { key_id, access_key } => Credentials::ApiKey {
                key_id: secret_header("key_id", key_id.expose())?,
                access_key: secret_header("access_key", access_key.expose())?,
            },
            Auth::StrataCloudManager(credentials) => {
                if credentials.client_id.is_empty() {
                    return Err(ConfigError::Empty { field: "client_id" });
                }
                if credentials.client_secret.is_empty() {
                    return Err(ConfigError::Empty {
                        field: "client_secret",
                    });
                }
                Credentials::Scm {
                    token_url: parse_url("token_url", &credentials.token_url, config.allow_http)?,
                    credentials,
                    token: Mutex::new(None),
                }
            }
        };
        let limiter = NonZeroU32::new(config.requests_per_minute)
            .map(|per_minute| RateLimiter::direct(Quota::per_minute(per_minute)));
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(concat!(
                "siembridge-iot-security-api/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(ConfigError::HttpClient)?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                api_base,
                urls,
                customer_id: config.customer_id,
                credentials,
                page_size: config.page_size,
                limiter,
                max_retries: config.max_retries,
                retry_base_delay: config.retry_base_delay,
                max_retry_delay: config.max_retry_delay,
            }),
        })
    }

    /// Records asked for per list page (`pagelength`): a resumed export starts at a
    /// multiple of it, so its pages are the ones a run from the start would read.
    pub fn page_size(&self) -> u32 {
        self.inner.page_size
    }

    /// The API root every endpoint is joined to, such as
    /// `https://acme.iot.paloaltonetworks.com/pub/v4.0/`.
    pub fn api_base(&self) -> &Url {
        &self.inner.api_base
    }

    /// Every device, page by page (`device/list`), sorted by MAC address.
    /// [`Records::total`] gives the API's count for a progress display.
    pub fn devices(&self, query: &DeviceQuery) -> Records<Device> {
        self.list(Endpoint::DeviceList, query.params(), query.offset)
    }

    /// Every alert, page by page (`alert/list`), oldest first by default.
    /// [`Records::total`] gives the API's count for a progress display.
    pub fn alerts(&self, query: &AlertQuery) -> Records<Alert> {
        self.list(Endpoint::AlertList, query.params(), query.offset)
    }

    /// Every vulnerability instance, page by page (`vulnerability/list?groupby=device`).
    /// [`Records::total`] gives the API's count, when it sends one.
    pub fn vulnerabilities(&self, query: &VulnerabilityQuery) -> Records<Vulnerability> {
        self.list(Endpoint::VulnerabilityList, query.params(), query.offset)
    }

    /// One device by its id (MAC address, or IP for static-IP devices), with details.
    /// `Ok(None)` when the tenant does not know it.
    pub async fn device(&self, deviceid: &str) -> Result<Option<Device>, ApiError> {
        let params = vec![
            ("deviceid", deviceid.to_owned()),
            ("detail", "true".to_owned()),
        ];
        self.single(Endpoint::Device, params, &["device", "devices", "items"])
            .await
    }

    /// One device by its IP address (`device/ip`). `Ok(None)` when unknown.
    pub async fn device_by_ip(&self, ip: &str) -> Result<Option<Device>, ApiError> {
        let params = vec![("ip", ip.to_owned())];
        self.single(
            Endpoint::DeviceByIp,
            params,
            &["device", "devices", "items"],
        )
        .await
    }

    /// One alert by its `zb_ticketid`. `Ok(None)` when unknown.
    pub async fn alert(&self, zb_ticketid: &str) -> Result<Option<Alert>, ApiError> {
        let params = vec![("zb_ticketid", zb_ticketid.to_owned())];
        self.single(Endpoint::Alert, params, &["items", "alert"])
            .await
    }

    /// One vulnerability instance by its `zb_ticketid`. `Ok(None)` when unknown.
    pub async fn vulnerability(
        &self,
        zb_ticketid: &str,
    ) -> Result<Option<Vulnerability>, ApiError> {
        let params = vec![
            ("zb_ticketid", zb_ticketid.to_owned()),
            ("groupby", "device".to_owned()),
        ];
        self.single(Endpoint::Vulnerability, params, &["items", "vulnerability"])
            .await
    }

    /// Reports an export's status to the tenant (`POST xsoar/status`).
    pub async fn report_status(&self, report: &StatusReport) -> Result<(), ApiError> {
        let status = match report.status {
            ReportStatus::Success => "success",
            ReportStatus::Error => "error",
            ReportStatus::Disabled => "disabled",
        };
        let millis = report.timestamp.unix_timestamp_nanos() / 1_000_000;
        let body = serde_json::json!({
            "playbook_name": report.playbook_name,
            "integration_name": report.integration_name,
            "message": report.message,
            "status": status,
            "type": report.asset_type,
            "timestamp": i64::try_from(millis).unwrap_or(i64::MAX),
        });
        let body = Bytes::from(body.to_string());
        self.call(Method::POST, Endpoint::Status, None, Vec::new(), Some(body))
            .await
            .map(drop)
    }

    fn list<R>(&self, endpoint: Endpoint, params: Params, offset: u64) -> Records<R>
    where
        R: ListRecord + Send + 'static,
    {
        let total = Arc::new(AtomicU64::new(UNKNOWN_TOTAL));
        let invalid_offset = (offset > MAX_OFFSET).then_some(ApiError::InvalidOffset {
            place: Place {
                endpoint: endpoint.path(),
                offset: Some(offset),
            },
            max: MAX_OFFSET,
        });
        let pager = Pager {
            client: self.clone(),
            endpoint,
            params,
            offset,
            invalid_offset,
            done: false,
            seen: HashSet::new(),
            stale_pages: 0,
            full_page_bytes: None,
            prefetched: None,
            total: Arc::clone(&total),
        };
        Records {
            buffer: Vec::new().into_iter(),
            pager: Some(pager),
            fetch: fetch_page::<R>,
            fetching: None,
            total,
        }
    }

    async fn single<R: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        params: Params,
        wrappers: &[&str],
    ) -> Result<Option<R>, ApiError> {
        let place = Place {
            endpoint: endpoint.path(),
            offset: None,
        };
        let body = match self.call(Method::GET, endpoint, None, params, None).await {
            Ok(body) => body,
            Err(ApiError::Status { status: 404, .. }) => return Ok(None),
            Err(error) => return Err(error),
        };
        let value: Value =
            serde_json::from_slice(&body).map_err(|source| ApiError::Decode { place, source })?;
        let record = match value {
            Value::Object(mut map) => {
                let wrapped = wrappers.iter().find_map(|key| map.remove(*key));
                match wrapped {
                    Some(Value::Array(items)) => items.into_iter().next(),
                    Some(Value::Null) => None,
                    Some(other) => Some(other),
                    None if map.is_empty() => None,
                    None => Some(Value::Object(map)),
                }
            }
            Value::Array(items) => items.into_iter().next(),
            _ => None,
        };
        record
            .map(|record| {
                R::deserialize(record).map_err(|source| ApiError::Decode { place, source })
            })
            .transpose()
    }

    /// One request with rate limiting, authentication and retries; the body on success.
    async fn call(
        &self,
        method: Method,
        endpoint: Endpoint,
        offset: Option<u64>,
        params: Params,
        body: Option<Bytes>,
    ) -> Result<Bytes, ApiError> {
        let inner = &self.inner;
        let place = Place {
            endpoint: endpoint.path(),
            offset,
        };
        let url = &inner.urls[endpoint as usize];
        let mut attempts = Attempts { place, made: 0 };
        let mut token_renewed = false;
        loop {
            attempts.made += 1;
            if let Some(limiter) = &inner.limiter {
                limiter.until_ready().await;
            }
            let mut request = inner
                .http
                .request(method.clone(), url.clone())
                .query(&[("customerid", inner.customer_id.as_str())])
                .query(&params);
            request = request.headers(self.auth_headers().await?);
            if let Some(body) = &body {
                request = request
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            tracing::debug!(
                endpoint = place.endpoint,
                offset = place.offset,
                attempt = attempts.made,
                "request"
            );
            let outcome = match request.send().await {
                Ok(response) => {
                    let status = response.status();
                    if status.is_success() {
                        match response.bytes().await {
                            Ok(bytes) => return Ok(bytes),
                            Err(error) => Retry::Transport(error),
                        }
                    } else {
                        let retry_after = retry_after(response.headers());
                        let message =
                            error_message(response.bytes().await.unwrap_or_default().as_ref());
                        match status {
                            StatusCode::UNAUTHORIZED
                                if !token_renewed && self.forget_token().await =>
                            {
                                token_renewed = true;
                                attempts.made -= 1;
                                continue;
                            }
                            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                                return Err(ApiError::Unauthorized {
                                    place,
                                    status: status.as_u16(),
                                    message,
                                });
                            }
                            StatusCode::TOO_MANY_REQUESTS
                            | StatusCode::INTERNAL_SERVER_ERROR
                            | StatusCode::BAD_GATEWAY
                            | StatusCode::SERVICE_UNAVAILABLE
                            | StatusCode::GATEWAY_TIMEOUT => Retry::Status {
                                status: status.as_u16(),
                                message,
                                retry_after,
                            },
                            _ => {
                                return Err(ApiError::Status {
                                    place,
                                    status: status.as_u16(),
                                    attempts: attempts.made,
                                    message,
                                });
                            }
                        }
                    }
                }
                Err(error) if error.is_builder() => return Err(attempts.transport(error)),
                Err(error) => Retry::Transport(error),
            };
            if attempts.made > inner.max_retries {
                return Err(match outcome {
                    Retry::Status {
                        status, message, ..
                    } => ApiError::Status {
                        place,
                        status,
                        attempts: attempts.made,
                        message,
                    },
                    Retry::Transport(error) => attempts.transport(error),
                });
            }
            let delay = match &outcome {
                Retry::Status {
                    retry_after: Some(wait),
                    ..
                } => (*wait).min(inner.max_retry_delay),
                _ => self.backoff(attempts.made),
            };
            tracing::debug!(
                endpoint = place.endpoint,
                offset = place.offset,
                attempt = attempts.made,
                delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                "retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// Full jitter: a random delay up to `base * 2^(attempt-1)`, capped.
    fn backoff(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(20);
        let ceiling = self
            .inner
            .retry_base_delay
            .saturating_mul(1u32 << exponent)
            .min(self.inner.max_retry_delay);
        let ceiling_ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::rng().random_range(0..=ceiling_ms))
    }

    async fn auth_headers(&self) -> Result<HeaderMap, ApiError> {
        let mut headers = HeaderMap::new();
        match &self.inner.credentials {
            Credentials::ApiKey { key_id, access_key } => {
                headers.insert("X-Key-Id", key_id.clone());
                headers.insert("X-Access-Key", access_key.clone());
            }
            Credentials::Scm {
                token_url,
                credentials,
                token,
            } => {
                let mut token = token.lock().await;
                let fresh = token
                    .as_ref()
                    .is_some_and(|token| Instant::now() < token.refresh_at);
                if !fresh {
                    *token = Some(self.fetch_token(token_url, credentials).await?);
                }
                if let Some(token) = token.as_ref() {
                    headers.insert(AUTHORIZATION, token.header.clone());
                }
            }
        }
        Ok(headers)
    }

    /// Drops a cached bearer token so the next attempt fetches a new one; false when
    /// there is no token to renew (API keys).
    async fn forget_token(&self) -> bool {
        match &self.inner.credentials {
            Credentials::ApiKey { .. } => false,
            Credentials::Scm { token, .. } => {
                *token.lock().await = None;
                true
            }
        }
    }

    async fn fetch_token(
        &self,
        token_url: &Url,
        credentials: &ScmCredentials,
    ) -> Result<Token, ApiError> {
        #[derive(Deserialize)]
        struct TokenResponse {
            access_token: String,
            expires_in: Option<u64>,
        }
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("scope", &format!("tsg_id:{}", credentials.tsg_id))
            .finish();
        let requested = Instant::now();
        let response = self
            .inner
            .http
            .post(token_url.clone())
            .basic_auth(
                &credentials.client_id,
                Some(credentials.client_secret.expose()),
            )
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|error| ApiError::Token {
                message: error.without_url().to_string(),
            })?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|error| ApiError::Token {
            message: error.without_url().to_string(),
        })?;
        if !status.is_success() {
            return Err(ApiError::Token {
                message: format!("HTTP {}: {}", status.as_u16(), error_message(&bytes)),
            });
        }
        let parsed: TokenResponse =
            serde_json::from_slice(&bytes).map_err(|error| ApiError::Token {
                message: format!("the token response is not the expected JSON: {error}"),
            })?;
        let lifetime = parsed
            .expires_in
            .map_or(TOKEN_MAX_LIFETIME, Duration::from_secs)
            .min(TOKEN_MAX_LIFETIME);
        let mut header =
            HeaderValue::try_from(format!("Bearer {}", parsed.access_token)).map_err(|_| {
                ApiError::Token {
                    message: "the token has characters a header cannot carry".to_owned(),
                }
            })?;
        header.set_sensitive(true);
        Ok(Token {
            header,
            refresh_at: requested + lifetime.saturating_sub(TOKEN_REFRESH_MARGIN),
        })
    }
}

enum Retry {
    Status {
        status: u16,
        message: String,
        retry_after: Option<Duration>,
    },
    Transport(reqwest::Error),
}

impl Attempts {
    fn transport(&self, error: reqwest::Error) -> ApiError {
        let kind = if error.is_timeout() {
            "timeout"
        } else if error.is_connect() {
            "connection failed"
        } else {
            "transport error"
        };
        ApiError::Transport {
            place: self.place,
            kind,
            attempts: self.made,
            source: error.without_url(),
        }
    }
}

/// `Records::total` before a page reported one.
const UNKNOWN_TOTAL: u64 = u64::MAX;

/// The records of one list (devices, alerts or vulnerabilities), fetched page by page as
/// the stream is polled. Ends on a short page (never on the reported total), after the
/// first error, and never yields a record id twice.
#[must_use = "a stream does nothing unless polled"]
pub struct Records<R> {
    /// The records of the latest page not handed out yet: each is handed straight from
    /// here to the caller (a record is large; every move is a copy).
    buffer: std::vec::IntoIter<R>,
    /// The paging state, between pages (`None` while a page is fetched).
    pager: Option<Pager>,
    /// Starts fetching the next page: chosen where the record type is known, so the
    /// `Stream` impl needs no bound on `R` (code generic over records can poll it).
    fetch: fn(Pager) -> FetchPage<R>,
    /// The page being fetched and decoded; it holds the pager meanwhile.
    fetching: Option<FetchPage<R>>,
    total: Arc<AtomicU64>,
}

/// A page being fetched: its records, with the pager back.
type FetchPage<R> = Pin<Box<dyn Future<Output = (Pager, Result<Vec<R>, ApiError>)> + Send>>;

fn fetch_page<R: ListRecord + Send + 'static>(mut pager: Pager) -> FetchPage<R> {
    Box::pin(async move {
        let records = pager.fetch().await;
        (pager, records)
    })
}

// No field is ever pinned: the fetch is boxed.
impl<R> Unpin for Records<R> {}

impl<R> Records<R> {
    /// How many records the list holds by the API's own count (its `total`), as reported
    /// with the latest page fetched: `None` until the first page has arrived (so after the
    /// first `next()` returns) or when the API sends no total.
    ///
    /// An estimate for a progress display or ETA only: the set grows and shrinks while it
    /// is paged, records already seen are not repeated, and paging never stops on it.
    pub fn total(&self) -> Option<u64> {
        match self.total.load(Ordering::Relaxed) {
            UNKNOWN_TOTAL => None,
            total => Some(total),
        }
    }
}

impl<R> Stream for Records<R> {
    type Item = Result<R, ApiError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(record) = this.buffer.next() {
                return Poll::Ready(Some(Ok(record)));
            }
            if this.fetching.is_none() {
                let Some(mut pager) = this.pager.take() else {
                    return Poll::Ready(None);
                };
                if pager.done {
                    this.pager = Some(pager);
                    return Poll::Ready(None);
                }
                if let Some(error) = pager.invalid_offset.take() {
                    pager.done = true;
                    this.pager = Some(pager);
                    return Poll::Ready(Some(Err(error)));
                }
                this.fetching = Some((this.fetch)(pager));
            }
            let Some(fetching) = this.fetching.as_mut() else {
                return Poll::Ready(None);
            };
            let (mut pager, records) = std::task::ready!(fetching.as_mut().poll(cx));
            this.fetching = None;
            match records {
                Ok(records) => this.buffer = records.into_iter(),
                Err(error) => {
                    pager.done = true;
                    this.pager = Some(pager);
                    return Poll::Ready(Some(Err(error)));
                }
            }
            this.pager = Some(pager);
        }
    }
}

impl<R> fmt::Debug for Records<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Records")
            .field("total", &self.total())
            .finish_non_exhaustive()
    }
}

/// Paging state of one list stream.
struct Pager {
    client: Client,
    endpoint: Endpoint,
    params: Params,
    /// The offset of the next page to fetch.
    offset: u64,
    /// The error of a start offset past [`MAX_OFFSET`], yielded instead of any page.
    invalid_offset: Option<ApiError>,
    done: bool,
    /// Hashes of the identities already yielded: 8 bytes a record, so a record set that
    /// shifts while it is paged never repeats a record to the caller.
    seen: HashSet<u64>,
    /// Consecutive full pages that brought nothing new (a server ignoring `offset`).
    stale_pages: u32,
    /// The body size of the last full page.
    full_page_bytes: Option<usize>,
    /// The request for the page at `offset`, started while the previous page was decoded.
    prefetched: Option<JoinHandle<Result<Bytes, ApiError>>>,
    /// The `total` of the latest page, shared with [`Records::total`].
    total: Arc<AtomicU64>,
}

impl Drop for Pager {
    fn drop(&mut self) {
        if let Some(request) = self.prefetched.take() {
            request.abort();
        }
    }
}

impl Pager {
    /// Fetches the page at `offset`: its records not yielded before.
    async fn fetch<R: ListRecord>(&mut self) -> Result<Vec<R>, ApiError> {
        let page_size = self.client.inner.page_size;
        let place = Place {
            endpoint: self.endpoint.path(),
            offset: Some(self.offset),
        };
        let body = match self.prefetched.take() {
            Some(request) => match request.await {
                Ok(body) => body?,
                Err(failure) if failure.is_panic() => {
                    std::panic::resume_unwind(failure.into_panic())
                }
                // Cancelled (the runtime is shutting down): ask again in this task.
                Err(_) => self.clone_request(self.offset).await?,
            },
            None => self.clone_request(self.offset).await?,
        };
        // A body about as large as the last full page is most likely full too: ask for
        // the next page now, so the server works on it while this one is decoded. Should
        // this page turn out short after all, the extra request is dropped.
        if self
            .full_page_bytes
            .is_some_and(|full| body.len() >= full / 10 * 9)
        {
            let next = self.offset.saturating_add(u64::from(page_size));
            self.prefetched = Some(tokio::spawn(self.clone_request(next)));
        }
        let page = R::decode_page(&body).map_err(|error| match error {
            PageError::Json(source) => ApiError::Decode { place, source },
            PageError::MissingList { key } => ApiError::MissingList { place, key },
        })?;
        if let Some(total) = page.total {
            self.total
                .store(total.min(UNKNOWN_TOTAL - 1), Ordering::Relaxed);
        }
        let mut fresh = page.records;
        let received = fresh.len();
        // In place: records stay where they are unless an earlier one is dropped.
        fresh.retain(|record| match record.id() {
            Some(id) => self.seen.insert(identity_hash(id)),
            None => true,
        });
        // Stop on a short page, never on a total: the total moves while we page.
        let full = u64::try_from(received).is_ok_and(|received| received >= u64::from(page_size));
        if fresh.is_empty() && full {
            self.stale_pages += 1;
        } else {
            self.stale_pages = 0;
        }
        if full {
            self.full_page_bytes = Some(body.len());
        }
        self.done = !full || self.stale_pages >= 2;
        if self.done
            && let Some(request) = self.prefetched.take()
        {
            request.abort();
        }
        self.offset = self.offset.saturating_add(u64::from(page_size));
        Ok(fresh)
    }

    /// A request for the page at `offset` that owns what it needs (so it can be spawned).
    fn clone_request(
        &self,
        offset: u64,
    ) -> impl Future<Output = Result<Bytes, ApiError>> + Send + 'static {
        let client = self.client.clone();
        let endpoint = self.endpoint;
        let mut params = self.params.clone();
        params.push(("offset", offset.to_string()));
        params.push(("pagelength", client.inner.page_size.to_string()));
        async move {
            client
                .call(Method::GET, endpoint, Some(offset), params, None)
                .await
        }
    }
}

fn identity_hash(id: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    id.hash(&mut hasher);
    hasher.finish()
}

fn parse_url(what: &'static str, text: &str, allow_http: bool) -> Result<Url, ConfigError> {
    let url = Url::parse(text.trim()).map_err(|source| ConfigError::InvalidUrl {
        what,
        url: text.to_owned(),
        source,
    })?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if allow_http => Ok(url),
        _ => Err(ConfigError::NotHttps {
            what,
            url: text.to_owned(),
        }),
    }
}

/// The base URL with a trailing slash and the API prefix (unless it is already there).
fn api_base(mut base: Url, prefix: &str) -> Url {
    base.set_query(None);
    base.set_fragment(None);
    let mut path = base.path().trim_end_matches('/').to_owned();
    path.push('/');
    if !path.ends_with(prefix) {
        path.push_str(prefix);
    }
    base.set_path(&path);
    base
}

fn secret_header(field: &'static str, value: &str) -> Result<HeaderValue, ConfigError> {
    if value.is_empty() {
        return Err(ConfigError::Empty { field });
    }
    let mut header = HeaderValue::from_str(value).map_err(|_| ConfigError::Credential { field })?;
    header.set_sensitive(true);
    Ok(header)
}

/// How long `Retry-After` asks to wait.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    retry_after_delay(
        headers.get(RETRY_AFTER)?.to_str().ok()?,
        OffsetDateTime::now_utc(),
    )
}

/// A `Retry-After` value at `now`: delta-seconds, or an HTTP-date (one already past
/// means at once). Anything else is no advice.
fn retry_after_delay(value: &str, now: OffsetDateTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = parse_http_date(value)?;
    Some(Duration::try_from(at - now).unwrap_or(Duration::ZERO))
}

/// The API's `{"code", "msg"}` message, or the start of the body.
fn error_message(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct ErrorBody {
        msg: Option<String>,
        message: Option<String>,
    }
    if let Ok(ErrorBody { msg, message }) = serde_json::from_slice::<ErrorBody>(body)
        && let Some(text) = msg.or(message)
    {
        return text;
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".to_owned();
    }
    let end = text
        .char_indices()
        .nth(MESSAGE_LIMIT)
        .map_or(text.len(), |(index, _)| index);
    text[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn retry_after_takes_delta_seconds_and_all_three_http_date_forms() {
        let now = datetime!(1994-11-06 08:49:30 UTC);
        let wait = |value| retry_after_delay(value, now);
        assert_eq!(wait("120"), Some(Duration::from_secs(120)));
        assert_eq!(wait(" 0 "), Some(Duration::ZERO));
        let seven = Some(Duration::from_secs(7));
        assert_eq!(wait("Sun, 06 Nov 1994 08:49:37 GMT"), seven);
        assert_eq!(wait("Sunday, 06-Nov-94 08:49:37 GMT"), seven);
        assert_eq!(wait("Sun Nov  6 08:49:37 1994"), seven);
        // A date already past: retry at once.
        assert_eq!(wait("Sun, 06 Nov 1994 08:00:00 GMT"), Some(Duration::ZERO));
        for garbage in [
            "",
            "-5",
            "1.5",
            "soon",
            "Sun, 06 Nov 1994 08:49:37 CET",
            "Sun, 31 Feb 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 8:49:37 GMT",
        ] {
            assert_eq!(wait(garbage), None, "{garbage:?}");
        }
    }
}
