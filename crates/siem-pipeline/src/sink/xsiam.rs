//! The Cortex XSIAM HTTP log collector (`POST /logs/v1/event`).
//!
//! The body is newline-separated records (JSON objects or text/CEF lines, no array),
//! `Authorization` carries the raw API key, `Content-Type` says JSON or text, and
//! `Content-Encoding: gzip` is sent only when the collector was created with gzip (a
//! mismatch makes it answer 500). Batches are split into requests under the size limit.

use bytes::Bytes;
use url::Url;

use super::http::{self, Endpoint, HttpClient, HttpOptions};
use super::{Sink, SinkBuildError, SinkError, SinkFailure, reject_multiline};
use crate::config::{Compression, RecordFormat, Secret, XsiamLogFormat, XsiamOutput};

/// Default largest request body (before compression): under the collector's 10 MB limit
/// with room for headers and rounding.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 8 * 1024 * 1024;

const EVENT_PATH: &str = "/logs/v1/event";

/// Settings of an [`XsiamSink`].
#[derive(Debug, Clone)]
pub struct XsiamOptions {
    /// The collector's base URL; `/logs/v1/event` is appended unless already there.
    pub url: Url,
    /// The collector's API key.
    pub api_key: Secret,
    /// Must match the collector's setting.
    pub compression: Compression,
    /// Must match the collector's log format.
    pub log_format: XsiamLogFormat,
    /// Largest request body before compression.
    pub max_request_bytes: usize,
    /// Client settings.
    pub http: HttpOptions,
}

impl XsiamOptions {
    /// Options from `[output] kind = "xsiam"`; `default_format` is the binary's record
    /// format when the config names none (it decides JSON or text).
    pub fn from_config(
        config: &XsiamOutput,
        api_key: Secret,
        default_format: RecordFormat,
    ) -> Self {
        let record_format = config.format.unwrap_or(default_format);
        let log_format = config.log_format.unwrap_or(if record_format.is_json() {
            XsiamLogFormat::Json
        } else {
            XsiamLogFormat::Text
        });
        Self {
            url: config.url.clone(),
            api_key,
            compression: config.compression,
            log_format,
            max_request_bytes: usize::try_from(config.max_request_size.0).unwrap_or(usize::MAX),
            http: HttpOptions {
                allow_http: config.allow_http,
                ca_file: config.ca_file.clone(),
                ..HttpOptions::default()
            },
        }
    }
}

/// Sends batches to the XSIAM HTTP log collector; see the [module docs](self).
#[derive(Debug)]
pub struct XsiamSink {
    http: HttpClient,
    endpoint: Endpoint,
    max_request_bytes: usize,
}

impl XsiamSink {
    /// Builds the sink (no request is made until the first batch).
    pub fn new(options: &XsiamOptions) -> Result<Self, SinkBuildError> {
        let http = HttpClient::new(&options.http, &options.url)?;
        let content_type = match options.log_format {
            XsiamLogFormat::Json => "application/json",
            XsiamLogFormat::Text => "text/plain",
        };
        let endpoint = Endpoint::new(
            event_endpoint(&options.url),
            options.api_key.expose(),
            content_type,
            options.compression,
        )?;
        Ok(Self {
            http,
            endpoint,
            max_request_bytes: options.max_request_bytes.max(1),
        })
    }

    /// The URL requests go to.
    pub fn endpoint(&self) -> &Url {
        self.endpoint.url()
    }
}

fn event_endpoint(base: &Url) -> Url {
    if base.path().trim_end_matches('/').ends_with(EVENT_PATH) {
        return base.clone();
    }
    let mut endpoint = base.clone();
    let path = format!("{}{EVENT_PATH}", base.path().trim_end_matches('/'));
    endpoint.set_path(&path);
    endpoint
}

#[async_trait::async_trait]
impl Sink for XsiamSink {
    async fn send(&mut self, mut batch: Vec<Bytes>) -> Result<(), SinkError> {
        if let Err(failure) = self.http.check_open() {
            return Err(SinkError::new(failure, batch));
        }
        batch = reject_multiline(batch)?;
        let ends = match http::request_ends(&batch, self.max_request_bytes, |r| r.len() + 1) {
            Ok(ends) => ends,
            Err(failure) => return Err(SinkError::new(failure, batch)),
        };
        let mut start = 0;
        for end in ends {
            let chunk = &batch[start..end];
            let mut raw = Vec::with_capacity(chunk.iter().map(|r| r.len() + 1).sum());
            for record in chunk {
                raw.extend_from_slice(record);
                raw.push(b'\n');
            }
            if let Err(failure) = self.http.post(&self.endpoint, raw).await {
                return Err(SinkError::new(failure, batch.split_off(start)));
            }
            start = end;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), SinkFailure> {
        self.http.check_open()
    }

    async fn close(&mut self) -> Result<(), SinkFailure> {
        self.http.close();
        Ok(())
    }

    fn describe(&self) -> String {
        format!("xsiam {}", self.endpoint.url())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use httpmock::prelude::*;

    use super::*;
    use crate::sink::http::testing::bounded;

    fn options(server: &MockServer) -> XsiamOptions {
        XsiamOptions {
            url: Url::parse(&server.base_url()).unwrap(),
            api_key: Secret::new("k3y"),
            compression: Compression::None,
            log_format: XsiamLogFormat::Json,
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
            http: http::testing::options(2),
        }
    }

    fn records(n: usize) -> Vec<Bytes> {
        (0..n)
            .map(|i| Bytes::from(format!("{{\"n\":{i}}}")))
            .collect()
    }

    #[tokio::test]
    async fn posts_json_lines_with_the_raw_key() {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method(POST)
                    .path("/logs/v1/event")
                    .header("authorization", "k3y")
                    .header("content-type", "application/json")
                    .body("{\"n\":0}\n{\"n\":1}\n");
                then.status(200).body("{\"ok\":\"true\"}");
            })
            .await;
        let mut sink = XsiamSink::new(&options(&server)).unwrap();
        bounded(sink.send(records(2))).await.unwrap();
        mock.assert_async().await;
        assert!(!format!("{sink:?}").contains("k3y"));
    }

    #[tokio::test]
    async fn gzips_text_and_splits_requests_under_the_limit() {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method(POST)
                    .path("/logs/v1/event")
                    .header("content-encoding", "gzip")
                    .header("content-type", "text/plain");
                then.status(200);
            })
            .await;
        let mut options = options(&server);
        options.compression = Compression::Gzip;
        options.log_format = XsiamLogFormat::Text;
        options.max_request_bytes = 20; // two 8-byte records (with their line feeds) per request
        let mut sink = XsiamSink::new(&options).unwrap();
        bounded(sink.send(records(5))).await.unwrap();
        assert_eq!(mock.calls_async().await, 3);

        let mut body = Vec::new();
        flate2::read::GzDecoder::new(
            &http::finish_body(b"a\n".to_vec(), Compression::Gzip).unwrap()[..],
        )
        .read_to_end(&mut body)
        .unwrap();
        assert_eq!(body, b"a\n");
    }

    #[tokio::test]
    async fn retries_429_then_hands_back_the_unsent_suffix() {
        let server = MockServer::start_async().await;
        let busy = server
            .mock_async(|when, then| {
                when.method(POST)
                    .path("/logs/v1/event")
                    .body_includes("\"n\":2");
                then.status(429)
                    .header("retry-after", "0")
                    .body("slow down");
            })
            .await;
        let ok = server
            .mock_async(|when, then| {
                when.method(POST).path("/logs/v1/event");
                then.status(200);
            })
            .await;
        let mut options = options(&server);
        options.max_request_bytes = 20;
        let mut sink = XsiamSink::new(&options).unwrap();
        let error = bounded(sink.send(records(4))).await.unwrap_err();
        assert_eq!(busy.calls_async().await, 3, "one try and two retries");
        assert_eq!(ok.calls_async().await, 1, "the first chunk went through");
        assert!(error.failure().is_retryable());
        assert_eq!(error.undelivered(), &records(4)[2..]);
        insta::assert_snapshot!(
            error.to_string().replace(&server.base_url(), "http://SERVER"),
            @"http://SERVER/logs/v1/event answered HTTP 429: slow down (2 record(s) not delivered)"
        );
    }

    #[tokio::test]
    async fn a_bad_key_is_not_retried() {
        let server = MockServer::start_async().await;
        let denied = server
            .mock_async(|when, then| {
                when.method(POST);
                then.status(401).body("unauthorized");
            })
            .await;
        let mut sink = XsiamSink::new(&options(&server)).unwrap();
        let error = bounded(sink.send(records(1))).await.unwrap_err();
        assert_eq!(denied.calls_async().await, 1);
        assert!(!error.failure().is_retryable());
    }

    #[test]
    fn plain_http_needs_an_explicit_opt_in() {
        let mut options = XsiamOptions {
            url: Url::parse("http://collector.example").unwrap(),
            api_key: Secret::new("k"),
            compression: Compression::None,
            log_format: XsiamLogFormat::Json,
            max_request_bytes: 100,
            http: HttpOptions::default(),
        };
        assert!(XsiamSink::new(&options).is_err());
        options.url = Url::parse("https://collector.example/base/logs/v1/event").unwrap();
        let sink = XsiamSink::new(&options).unwrap();
        assert_eq!(
            sink.endpoint().as_str(),
            "https://collector.example/base/logs/v1/event"
        );
    }
}
