//! What the HTTP sinks share: the client, request bodies, retries on 429/5xx.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

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
    pub(super) fn client(&self) -> Result<reqwest::Client, SinkBuildError> {
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

    pub(super) fn check_scheme(&self, url: &url::Url) -> Result<(), SinkBuildError> {
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
pub(super) fn chunk_ends(
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

/// Posts one body, retrying on network errors, 408, 429 and 5xx. Returns the successful
/// response's body.
pub(super) async fn post_with_retries(
    client: &reqwest::Client,
    url: &url::Url,
    headers: &HeaderMap,
    body: &Bytes,
    retry: &RetryPolicy,
) -> Result<Bytes, SinkFailure> {
    let mut retries = 0;
    loop {
        let failure = match post_once(client, url, headers, body).await {
            Ok(response) => return Ok(response),
            Err(failure) => failure,
        };
        if !failure.is_retryable() || retries >= retry.max_retries {
            return Err(failure);
        }
        let delay = retry.delay(retries, failure.retry_after());
        tracing::warn!(url = %url, error = %failure, retry_in = ?delay, "Request failed, retrying.");
        tokio::time::sleep(delay).await;
        retries += 1;
    }
}

async fn post_once(
    client: &reqwest::Client,
    url: &url::Url,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Bytes, SinkFailure> {
    let request_failed = |source| SinkFailure::Request {
        url: url.to_string(),
        source,
    };
    let response = client
        .post(url.clone())
        .headers(headers.clone())
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
            url: url.to_string(),
            status: status.as_u16(),
            body: body_excerpt(&body),
            retry_after,
        })
    }
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
pub(super) fn sensitive_header(value: &str) -> Result<HeaderValue, SinkBuildError> {
    let mut header = HeaderValue::from_str(value).map_err(|_| SinkBuildError::Invalid {
        what: "credential",
        reason: "it holds characters that cannot go in an HTTP header".to_owned(),
    })?;
    header.set_sensitive(true);
    Ok(header)
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
