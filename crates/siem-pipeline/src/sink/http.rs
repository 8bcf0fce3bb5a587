//! What the HTTP sinks share: the client, endpoints with their headers, request bodies
//! split under a size limit and gzipped when asked, retries on 408/429/5xx honouring
//! `Retry-After`, and status codes classified into [`SinkFailure`]s.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{
    AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER,
};
use url::Url;

use super::{SinkBuildError, SinkFailure};
use crate::config::Compression;
use crate::retry::RetryPolicy;

/// Connection settings shared by the HTTP sinks.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Timeout of one request, response included.
    pub timeout: Duration,
    /// Retries of one request on network errors, 408, 429 and 5xx (honouring `Retry-After`).
    pub retry: RetryPolicy,
    /// Extra PEM trust anchors (a Splunk with its own CA), added to the system's.
    pub ca_file: Option<PathBuf>,
    /// Lets `http://` URLs through (loopback test servers); `https://` is required otherwise.
    pub allow_http: bool,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            ca_file: None,
            allow_http: false,
        }
    }
}

impl HttpOptions {
    fn client(&self) -> Result<reqwest::Client, SinkBuildError> {
        let mut builder = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.timeout.min(Duration::from_secs(10)))
            .https_only(!self.allow_http)
            // Our endpoints answer small JSON; never follow a redirect with the auth header.
            .redirect(reqwest::redirect::Policy::none());
        if let Some(path) = &self.ca_file {
            let pem = std::fs::read(path).map_err(|source| SinkBuildError::Io {
                path: path.clone(),
                source,
            })?;
            let certs =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(SinkBuildError::Client)?;
            builder = builder.tls_certs_merge(certs);
        }
        builder.build().map_err(SinkBuildError::Client)
    }

    fn check_scheme(&self, url: &Url) -> Result<(), SinkBuildError> {
        match url.scheme() {
            "https" => Ok(()),
            "http" if self.allow_http => Ok(()),
            "http" => Err(SinkBuildError::Url {
                url: url.to_string(),
                reason: "plain http sends the credentials in clear; use https (allow_http = true only for loopback tests)".to_owned(),
            }),
            other => Err(SinkBuildError::Url {
                url: url.to_string(),
                reason: format!("scheme {other:?} is not http(s)"),
            }),
        }
    }
}

/// The client an HTTP sink posts with, its retries, and whether the sink was closed.
#[derive(Debug)]
pub(super) struct HttpClient {
    client: reqwest::Client,
    retry: RetryPolicy,
    closed: bool,
}

impl HttpClient {
    /// A client for a sink configured with `url` (checked against the allowed schemes).
    pub(super) fn new(options: &HttpOptions, url: &Url) -> Result<Self, SinkBuildError> {
        options.check_scheme(url)?;
        Ok(Self {
            client: options.client()?,
            retry: options.retry,
            closed: false,
        })
    }

    /// Posts `raw` (compressed as `endpoint` says), retrying on network errors, 408, 429
    /// and 5xx. Returns the successful response's body.
    pub(super) async fn post(
        &self,
        endpoint: &Endpoint,
        raw: Vec<u8>,
    ) -> Result<Bytes, SinkFailure> {
        let body = finish_body(raw, endpoint.compression).map_err(|source| SinkFailure::Io {
            target: "gzip".to_owned(),
            source,
        })?;
        let mut retries = 0;
        loop {
            let failure = match self.post_once(endpoint, &body).await {
                Ok(response) => return Ok(response),
                Err(failure) => failure,
            };
            if !failure.is_retryable() || retries >= self.retry.max_retries {
                return Err(failure);
            }
            let delay = self.retry.delay(retries, failure.retry_after());
            tracing::warn!(url = %endpoint.url, error = %failure, retry_in = ?delay, "Request failed, retrying.");
            tokio::time::sleep(delay).await;
            retries += 1;
        }
    }

    async fn post_once(&self, endpoint: &Endpoint, body: &Bytes) -> Result<Bytes, SinkFailure> {
        let request_failed = |source| SinkFailure::Request {
            url: endpoint.url.to_string(),
            source,
        };
        let response = self
            .client
            .post(endpoint.url.clone())
            .headers(endpoint.headers.clone())
            .body(body.clone())
            .send()
            .await
            .map_err(request_failed)?;
        let status = response.status();
        let retry_after = parse_retry_after(response.headers());
        let body = response.bytes().await.map_err(request_failed)?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(SinkFailure::HttpStatus {
                url: endpoint.url.to_string(),
                status: status.as_u16(),
                body: body_excerpt(&body),
                retry_after,
            })
        }
    }

    /// [`SinkFailure::Closed`] once the sink was closed.
    pub(super) fn check_open(&self) -> Result<(), SinkFailure> {
        if self.closed {
            Err(SinkFailure::Closed)
        } else {
            Ok(())
        }
    }

    /// Marks the sink closed; nothing is held open between requests.
    pub(super) fn close(&mut self) {
        self.closed = true;
    }
}

/// Where one kind of request goes and the headers it carries.
#[derive(Debug)]
pub(super) struct Endpoint {
    url: Url,
    headers: HeaderMap,
    compression: Compression,
}

impl Endpoint {
    /// `authorization` is the whole `Authorization` value (kept out of Debug output);
    /// with gzip the requests say `Content-Encoding: gzip`.
    pub(super) fn new(
        url: Url,
        authorization: &str,
        content_type: &'static str,
        compression: Compression,
    ) -> Result<Self, SinkBuildError> {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, sensitive_header(authorization)?);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        if compression == Compression::Gzip {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        Ok(Self {
            url,
            headers,
            compression,
        })
    }

    /// Adds a header to every request.
    pub(super) fn insert_header(&mut self, name: HeaderName, value: HeaderValue) {
        self.headers.insert(name, value);
    }

    /// The URL requests go to.
    pub(super) fn url(&self) -> &Url {
        &self.url
    }
}

/// The end index (exclusive) of each request `batch` is split into so that the records'
/// encoded sizes, as measured by `cost`, stay within `limit`; fails naming a record that
/// alone exceeds it.
pub(super) fn request_ends(
    batch: &[Bytes],
    limit: usize,
    cost: impl Fn(&Bytes) -> usize,
) -> Result<Vec<usize>, SinkFailure> {
    chunk_ends(batch, limit, cost).map_err(|index| SinkFailure::InvalidRecord {
        index,
        reason: format!("it is larger than the request limit of {limit} bytes"),
    })
}

/// A request body built from records, compressed when asked.
pub(super) fn finish_body(raw: Vec<u8>, compression: Compression) -> Result<Bytes, std::io::Error> {
    match compression {
        Compression::None => Ok(Bytes::from(raw)),
        Compression::Gzip => {
            let mut encoder = flate2::write::GzEncoder::new(
                Vec::with_capacity(raw.len() / 4),
                flate2::Compression::fast(),
            );
            encoder.write_all(&raw)?;
            encoder.finish().map(Bytes::from)
        }
    }
}

/// Splits `records` into consecutive runs whose encoded size, as measured by `cost`, stays
/// within `limit`. Returns the end index (exclusive) of each run, or the index of a record
/// that alone exceeds the limit.
fn chunk_ends(
    records: &[Bytes],
    limit: usize,
    cost: impl Fn(&Bytes) -> usize,
) -> Result<Vec<usize>, usize> {
    let mut ends = Vec::new();
    let mut size = 0usize;
    for (index, record) in records.iter().enumerate() {
        let record_cost = cost(record);
        if record_cost > limit {
            return Err(index);
        }
        if size + record_cost > limit {
            ends.push(index);
            size = 0;
        }
        size += record_cost;
    }
    if !records.is_empty() {
        ends.push(records.len());
    }
    Ok(ends)
}

/// `Retry-After` in seconds (the HTTP-date form is rare from these APIs and ignored).
fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// The first 512 characters of a response body, for an error message.
pub(super) fn body_excerpt(body: &[u8]) -> String {
    const LIMIT: usize = 512;
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_owned(),
    }
}

/// A header value that must never show up in Debug output or logs.
fn sensitive_header(value: &str) -> Result<HeaderValue, SinkBuildError> {
    let mut header = HeaderValue::from_str(value).map_err(|_| SinkBuildError::Invalid {
        what: "credential",
        reason: "it holds characters that cannot go in an HTTP header".to_owned(),
    })?;
    header.set_sensitive(true);
    Ok(header)
}

/// What the HTTP sinks' tests share.
#[cfg(test)]
pub(super) mod testing {
    use std::time::Duration;

    use super::HttpOptions;
    use crate::retry::RetryPolicy;

    /// Settings for a loopback mock server: plain http, short timeout, quick retries.
    pub(in crate::sink) fn options(max_retries: u32) -> HttpOptions {
        HttpOptions {
            timeout: Duration::from_secs(5),
            retry: RetryPolicy {
                max_retries,
                initial_backoff: Duration::from_millis(1),
                max_backoff: Duration::from_millis(5),
            },
            ca_file: None,
            allow_http: true,
        }
    }

    /// Fails the test instead of hanging when `future` takes over 20 s.
    pub(in crate::sink) async fn bounded<T>(future: impl std::future::Future<Output = T>) -> T {
        tokio::time::timeout(Duration::from_secs(20), future)
            .await
            .unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(sizes: &[usize]) -> Vec<Bytes> {
        sizes.iter().map(|n| Bytes::from(vec![b'x'; *n])).collect()
    }

    #[test]
    fn chunks_respect_the_limit() {
        let batch = records(&[4, 4, 4, 9, 1]);
        assert_eq!(
            chunk_ends(&batch, 10, |r| r.len() + 1),
            Ok(vec![2, 3, 4, 5])
        );
        assert_eq!(chunk_ends(&batch, 9, |r| r.len() + 1), Err(3));
        assert_eq!(chunk_ends(&[], 10, |r| r.len() + 1), Ok(vec![]));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        #[test]
        fn chunks_cover_every_record_once(sizes in proptest::collection::vec(0usize..40, 0..60), limit in 1usize..100) {
            let batch = records(&sizes);
            let cost = |r: &Bytes| r.len() + 1;
            match chunk_ends(&batch, limit, cost) {
                Ok(ends) => {
                    let mut start = 0;
                    for end in &ends {
                        proptest::prop_assert!(*end > start);
                        let size: usize = batch[start..*end].iter().map(cost).sum();
                        proptest::prop_assert!(size <= limit);
                        start = *end;
                    }
                    proptest::prop_assert_eq!(start, batch.len());
                }
                Err(index) => proptest::prop_assert!(cost(&batch[index]) > limit),
            }
        }
    }
}
