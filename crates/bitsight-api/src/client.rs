//! The HTTP client: auth, the shared in-flight limit, retries with backoff.

use std::sync::Arc;
use std::time::Duration;

use futures::Stream;
use rand::Rng;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, HeaderValue, RETRY_AFTER};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio::sync::Semaphore;
use url::Url;

use crate::config::ClientConfig;
use crate::error::{ApiError, ConfigError, Endpoint};
use crate::finding::{Finding, decode_findings_page};
use crate::models::{
    Alert, Companies, CompanyDetails, FindingsStatistics, FindingsSummary, PortfolioCompany,
};
use crate::page::{FindingsPage, decode_light_page};
use crate::paging::{Pager, decode_page, offset_of};
use crate::query::{AlertsQuery, FindingsQuery};

/// Portfolio page size; Bitsight's connectors use 500.
const PORTFOLIO_PAGE_SIZE: u16 = 500;

/// The longest piece of an error response body quoted in [`ApiError::Status`].
const MAX_MESSAGE_CHARS: usize = 300;

/// A Bitsight API client. Cheap to clone; clones share the connection pool and the
/// in-flight limit, so a whole portfolio fetched in parallel stays within it.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    config: ClientConfig,
    in_flight: Semaphore,
}

/// What one attempt at a request came to.
enum Attempt {
    Done(bytes::Bytes),
    Fatal(ApiError),
    /// Worth another try, after at least `wait` (a 429's `Retry-After`), with backoff.
    Retry {
        failure: String,
        wait: Duration,
    },
}

impl Client {
    /// Checks the configuration and sets up the HTTP stack.
    ///
    /// # Errors
    /// A non-https base URL (http only with `allow_http`), credentials in the URL, an
    /// empty token, `max_in_flight` 0, or an unusable user agent.
    pub fn new(config: ClientConfig) -> Result<Self, ConfigError> {
        let url = &config.base_url;
        match url.scheme() {
            "https" => {}
            "http" if config.allow_http => {}
            other => {
                return Err(ConfigError::Scheme {
                    scheme: other.to_owned(),
                });
            }
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ConfigError::CredentialsInUrl);
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(ConfigError::NoHost);
        }
        if config.max_in_flight == 0 {
            return Err(ConfigError::NoConcurrency);
        }
        if config.token.expose().is_empty() {
            return Err(ConfigError::EmptyToken);
        }
        let user_agent = HeaderValue::from_str(&config.user_agent)
            .map_err(|_| ConfigError::BadHeader { what: "user agent" })?;
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let http = reqwest::Client::builder()
            .user_agent(user_agent)
            .default_headers(headers)
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            // A redirect could carry the token elsewhere: never follow one.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(ConfigError::Http)?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                in_flight: Semaphore::new(config.max_in_flight),
                config,
            }),
        })
    }

    /// The settings this client runs with.
    #[must_use]
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// `/ratings/v1/companies`: every company the token sees, and its own (`my_company`).
    ///
    /// # Errors
    /// See [`ApiError`].
    pub async fn companies(&self) -> Result<Companies, ApiError> {
        let url = self.url(&["ratings", "v1", "companies"])?;
        let fields: Map<String, Value> = self.get_json(&url, None).await?;
        Ok(Companies::from_fields(fields))
    }

    /// `/ratings/v1/companies/{guid}`: one company's details.
    ///
    /// # Errors
    /// See [`ApiError`]; a GUID the token cannot see is [`ApiError::NotFound`] or
    /// [`ApiError::Forbidden`].
    pub async fn company(&self, guid: &str) -> Result<CompanyDetails, ApiError> {
        check_guid(guid)?;
        let url = self.url(&["ratings", "v1", "companies", guid])?;
        let fields: Map<String, Value> = self.get_json(&url, Some(guid)).await?;
        Ok(CompanyDetails::from_fields(fields))
    }

    /// `/ratings/v2/portfolio`, page by page.
    pub fn portfolio(
        &self,
    ) -> impl Stream<Item = Result<PortfolioCompany, ApiError>> + Send + 'static {
        let first = self.url(&["ratings", "v2", "portfolio"]).map(|mut url| {
            url.query_pairs_mut()
                .append_pair("limit", &PORTFOLIO_PAGE_SIZE.to_string())
                .append_pair("offset", "0");
            url
        });
        Pager::new(self.clone(), first, None)
            .stream(|body, _| decode_page(&body, PortfolioCompany::from_fields))
    }

    /// `/ratings/v1/companies/{guid}/findings` with `query`'s filters, page by page in
    /// `query.sort` order, following `links.next` on the configured host only.
    pub fn findings(
        &self,
        guid: &str,
        query: &FindingsQuery,
    ) -> impl Stream<Item = Result<Finding, ApiError>> + Send + 'static {
        let first = check_guid(guid)
            .and_then(|()| self.url(&["ratings", "v1", "companies", guid, "findings"]))
            .map(|mut url| {
                url.query_pairs_mut().extend_pairs(query.query_pairs());
                url
            });
        Pager::new(self.clone(), first, Some(guid.to_owned()))
            .stream(|body, company| decode_findings_page(&body, company))
    }

    /// The findings of [`Client::findings`], a page at a time and decoded light: each
    /// [`FindingsPage`] gives every finding's exact text, identity, `temporary_id` and
    /// dates without a copy, and the typed fields on demand
    /// ([`LightFinding::to_finding`](crate::LightFinding::to_finding)). The next page
    /// is requested while the caller works on this one.
    ///
    /// ```
    /// # #[cfg(feature = "synthetic")]
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use bitsight_api::synthetic::{PortfolioSpec, SyntheticPortfolio, serve};
    /// use bitsight_api::{Client, FindingsQuery};
    /// use futures::TryStreamExt;
    /// use time::macros::date;
    ///
    /// let portfolio = SyntheticPortfolio::generate(PortfolioSpec {
    ///     seed: 7,
    ///     companies: 1,
    ///     findings_per_company: 250,
    ///     first_date: date!(2024 - 01 - 01),
    ///     last_date: date!(2024 - 06 - 30),
    /// });
    /// let guid = portfolio.company_guids()[0].clone();
    /// let server = serve(portfolio).await?;
    /// let client = Client::new(server.client_config())?;
    /// let query = FindingsQuery { page_size: 100, ..FindingsQuery::default() };
    /// let mut pages = std::pin::pin!(client.findings_pages(&guid, &query));
    /// let mut seen = 0;
    /// while let Some(page) = pages.try_next().await? {
    ///     assert_eq!(page.offset(), seen);
    ///     for finding in page.iter() {
    ///         let key = finding.identity(); // borrowed from the page
    ///         assert_eq!(key.company_guid, guid);
    ///         assert!(finding.raw_json().starts_with('{'));
    ///         assert!(finding.first_seen().is_some());
    ///     }
    ///     // Typed fields on demand:
    ///     let typed = page.get(0).unwrap().to_finding()?;
    ///     assert!(typed.severity().is_some());
    ///     seen += page.len() as u64;
    /// }
    /// assert_eq!(seen, 250);
    /// # Ok(())
    /// # }
    /// # #[cfg(not(feature = "synthetic"))]
    /// # fn main() {}
    /// ```
    pub fn findings_pages(
        &self,
        guid: &str,
        query: &FindingsQuery,
    ) -> impl Stream<Item = Result<FindingsPage, ApiError>> + Send + 'static {
        self.findings_pages_with_overlap(guid, query, 0)
    }

    /// As [`Client::findings_pages`], but each page after the first starts `overlap`
    /// findings before the end of the one before (the `offset` of `links.next` moved
    /// back; always at least one finding further on). A caller that re-reads the tail
    /// of each page, to notice a result set that shrank between pages, gets exactly the
    /// pages it wants, and the next one is still requested ahead.
    pub fn findings_pages_with_overlap(
        &self,
        guid: &str,
        query: &FindingsQuery,
        overlap: u16,
    ) -> impl Stream<Item = Result<FindingsPage, ApiError>> + Send + 'static {
        use futures::TryStreamExt as _;
        let first = check_guid(guid)
            .and_then(|()| self.url(&["ratings", "v1", "companies", guid, "findings"]))
            .map(|mut url| {
                url.query_pairs_mut().extend_pairs(query.query_pairs());
                url
            });
        Pager::new(self.clone(), first, Some(guid.to_owned()))
            .pages(decode_light_page, u64::from(overlap))
            .map_ok(|(mut page, place)| {
                page.place(place.offset, place.next_offset);
                page
            })
    }

    /// `/ratings/v1/companies/{guid}/findings/summary` with `query`'s filters.
    ///
    /// # Errors
    /// See [`ApiError`].
    pub async fn findings_summary(
        &self,
        guid: &str,
        query: &FindingsQuery,
    ) -> Result<FindingsSummary, ApiError> {
        check_guid(guid)?;
        let mut url = self.url(&["ratings", "v1", "companies", guid, "findings", "summary"])?;
        url.query_pairs_mut().extend_pairs(query.filter_pairs());
        self.get_json(&url, Some(guid)).await.map(FindingsSummary)
    }

    /// `/ratings/v1/companies/{guid}/findings/statistics` with `query`'s filters.
    ///
    /// # Errors
    /// See [`ApiError`].
    pub async fn findings_statistics(
        &self,
        guid: &str,
        query: &FindingsQuery,
    ) -> Result<FindingsStatistics, ApiError> {
        check_guid(guid)?;
        let mut url = self.url(&["ratings", "v1", "companies", guid, "findings", "statistics"])?;
        url.query_pairs_mut().extend_pairs(query.filter_pairs());
        self.get_json(&url, Some(guid))
            .await
            .map(FindingsStatistics)
    }

    /// `/ratings/v2/alerts` with `query`'s filters, page by page.
    pub fn alerts(
        &self,
        query: &AlertsQuery,
    ) -> impl Stream<Item = Result<Alert, ApiError>> + Send + 'static {
        let first = self.url(&["ratings", "v2", "alerts"]).map(|mut url| {
            url.query_pairs_mut().extend_pairs(query.query_pairs());
            url
        });
        Pager::new(self.clone(), first, query.company_guid.clone())
            .stream(|body, _| decode_page(&body, Alert::from_fields))
    }

    /// The base URL with `segments` appended (each percent-encoded).
    fn url(&self, segments: &[&str]) -> Result<Url, ApiError> {
        let mut url = self.inner.config.base_url.clone();
        url.set_query(None);
        url.set_fragment(None);
        url.path_segments_mut()
            .map_err(|()| ApiError::InvalidArgument {
                name: "base_url",
                reason: "cannot carry a path".to_owned(),
            })?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// True when `url` goes to the configured scheme, host and port.
    pub(crate) fn is_own_origin(&self, url: &Url) -> bool {
        let base = &self.inner.config.base_url;
        url.scheme() == base.scheme()
            && url.host_str() == base.host_str()
            && url.port_or_known_default() == base.port_or_known_default()
            && url.username().is_empty()
            && url.password().is_none()
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        url: &Url,
        company: Option<&str>,
    ) -> Result<T, ApiError> {
        let endpoint = endpoint_of(url, company);
        let body = self.get_bytes(url, &endpoint).await?;
        serde_json::from_slice(&body).map_err(|source| ApiError::Decode { endpoint, source })
    }

    /// GET with retries: 429 (after `Retry-After` or the configured wait), 408, 5xx,
    /// timeouts and resets, up to `max_retries`, with jittered exponential backoff.
    pub(crate) async fn get_bytes(
        &self,
        url: &Url,
        endpoint: &Endpoint,
    ) -> Result<bytes::Bytes, ApiError> {
        let mut retries = 0;
        loop {
            let (failure, wait) = match self.attempt(url, endpoint).await {
                Attempt::Done(body) => return Ok(body),
                Attempt::Fatal(error) => return Err(error),
                Attempt::Retry { failure, wait } => (failure, wait),
            };
            if retries >= self.inner.config.max_retries {
                return Err(ApiError::RetriesExhausted {
                    endpoint: endpoint.clone(),
                    attempts: retries + 1,
                    last_failure: failure,
                });
            }
            let delay = wait.max(self.backoff(retries));
            tracing::warn!(%endpoint, %failure, retry = retries + 1, delay_ms = delay.as_millis(), "retrying Bitsight request");
            tokio::time::sleep(delay).await;
            retries += 1;
        }
    }

    /// Jittered exponential backoff: a random delay in [d/2, d], d = base * 2^retry, capped.
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let config = &self.inner.config;
        let full = config
            .backoff_base
            .saturating_mul(2_u32.saturating_pow(retry.min(30)))
            .min(config.backoff_max);
        full.mul_f64(rand::rng().random_range(0.5..=1.0))
    }

    async fn attempt(&self, url: &Url, endpoint: &Endpoint) -> Attempt {
        // The semaphore is never closed, so this always holds a permit.
        let _permit = self.inner.in_flight.acquire().await.ok();
        tracing::debug!(%endpoint, "GET");
        let sent = self
            .inner
            .http
            .get(url.clone())
            .basic_auth(self.inner.config.token.expose(), Some(""))
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(error) if error.is_builder() => {
                return Attempt::Fatal(ApiError::Transport {
                    endpoint: endpoint.clone(),
                    source: error,
                });
            }
            Err(error) => {
                return Attempt::Retry {
                    failure: describe(&error),
                    wait: Duration::ZERO,
                };
            }
        };
        let status = response.status();
        if status.is_success() {
            return match response.bytes().await {
                Ok(body) => Attempt::Done(body),
                Err(error) => Attempt::Retry {
                    failure: format!("reading the body: {}", describe(&error)),
                    wait: Duration::ZERO,
                },
            };
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(parse_retry_after);
            let wait = retry_after
                .unwrap_or(self.inner.config.rate_limit_wait)
                .min(self.inner.config.backoff_max);
            return Attempt::Retry {
                failure: "429 Too Many Requests".to_owned(),
                wait,
            };
        }
        if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
            return Attempt::Retry {
                failure: format!("HTTP {}", status.as_u16()),
                wait: Duration::ZERO,
            };
        }
        let endpoint = endpoint.clone();
        Attempt::Fatal(match status {
            StatusCode::UNAUTHORIZED => ApiError::Unauthorized { endpoint },
            StatusCode::FORBIDDEN => ApiError::Forbidden { endpoint },
            StatusCode::NOT_FOUND => ApiError::NotFound { endpoint },
            _ => {
                let body = response.bytes().await.unwrap_or_default();
                let message: String = String::from_utf8_lossy(&body)
                    .chars()
                    .take(MAX_MESSAGE_CHARS)
                    .collect();
                ApiError::Status {
                    endpoint,
                    status: status.as_u16(),
                    message,
                }
            }
        })
    }
}

/// A transport error's kind and cause, without its URL (kept short for logs).
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "connection failed"
    };
    let mut text = kind.to_owned();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `Retry-After` in seconds, or an HTTP date (RFC 7231 IMF-fixdate).
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when =
        time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    let ahead = when - time::OffsetDateTime::now_utc();
    Some(Duration::try_from(ahead).unwrap_or(Duration::ZERO))
}

pub(crate) fn endpoint_of(url: &Url, company: Option<&str>) -> Endpoint {
    Endpoint {
        path: url.path().to_owned(),
        company: company.map(str::to_owned),
        offset: offset_of(url),
    }
}

fn check_guid(guid: &str) -> Result<(), ApiError> {
    if guid.is_empty() || guid == "." || guid == ".." {
        return Err(ApiError::InvalidArgument {
            name: "company GUID",
            reason: format!("{guid:?} is not a company GUID"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let mut config = ClientConfig::new(crate::Secret::new("t"));
        config.backoff_base = Duration::from_millis(100);
        config.backoff_max = Duration::from_secs(1);
        let client = Client::new(config).unwrap();
        for retry in 0..40 {
            let delay = client.backoff(retry);
            let full = Duration::from_millis(100)
                .saturating_mul(2_u32.saturating_pow(retry.min(30)))
                .min(Duration::from_secs(1));
            assert!(
                delay >= full / 2 && delay <= full,
                "retry {retry}: {delay:?}"
            );
        }
    }

    #[test]
    fn rejects_bad_configs() {
        let token = crate::Secret::new("t");
        let http = ClientConfig::new(token.clone())
            .with_base_url(Url::parse("http://127.0.0.1:1").unwrap());
        assert!(matches!(
            Client::new(http.clone()),
            Err(ConfigError::Scheme { .. })
        ));
        assert!(
            Client::new(ClientConfig {
                allow_http: true,
                ..http
            })
            .is_ok()
        );
        let creds =
            ClientConfig::new(token.clone()).with_base_url(Url::parse("https://u:p@h").unwrap());
        assert!(matches!(
            Client::new(creds),
            Err(ConfigError::CredentialsInUrl)
        ));
        let empty = ClientConfig::new(crate::Secret::new(""));
        assert!(matches!(Client::new(empty), Err(ConfigError::EmptyToken)));
        let none = ClientConfig {
            max_in_flight: 0,
            ..ClientConfig::new(token)
        };
        assert!(matches!(Client::new(none), Err(ConfigError::NoConcurrency)));
    }

    #[test]
    fn guid_segments_are_encoded() {
        let client = Client::new(ClientConfig::new(crate::Secret::new("t"))).unwrap();
        let url = client
            .url(&["ratings", "v1", "companies", "a/../b?x#y", "findings"])
            .unwrap();
        assert_eq!(
            url.path(),
            "/ratings/v1/companies/a%2F..%2Fb%3Fx%23y/findings"
        );
        assert!(check_guid("..").is_err());
        assert!(check_guid("").is_err());
    }
}
