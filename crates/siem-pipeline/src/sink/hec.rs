//! Splunk HTTP Event Collector (`POST /services/collector/event`).
//!
//! Each record becomes one event envelope (`{"host":..,"source":..,"sourcetype":..,
//! "index":..,"event":..}`), envelopes are concatenated back to back (no array) into
//! requests under the size limit, and `Authorization: Splunk TOKEN` authenticates. With
//! indexer acknowledgement on, every request carries the sink's channel
//! (`X-Splunk-Request-Channel`), and a batch is confirmed only once
//! `/services/collector/ack` reports every ack id as indexed.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use url::Url;

use super::http::{self, Endpoint, HttpClient, HttpOptions};
use super::{Sink, SinkBuildError, SinkError, SinkFailure};
use crate::config::{Compression, RecordFormat, Secret, SplunkHecOutput};

/// Default largest request body (before compression), Splunk's classic `max_content_length`.
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 1024 * 1024;

const CHANNEL_HEADER: &str = "x-splunk-request-channel";

/// How each record goes into the envelope's `event`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HecEventFormat {
    /// Records are JSON values and are embedded as they are.
    Json,
    /// Records are text (CEF lines) and are embedded as JSON strings.
    Text,
}

/// Settings of a [`HecSink`].
#[derive(Debug, Clone)]
pub struct HecOptions {
    /// HEC base URL; `/services/collector/event` is appended unless already there.
    pub url: Url,
    /// The HEC token.
    pub token: Secret,
    /// Envelope metadata.
    pub index: Option<String>,
    /// Envelope metadata.
    pub sourcetype: Option<String>,
    /// Envelope metadata.
    pub source: Option<String>,
    /// Envelope metadata.
    pub host: Option<String>,
    /// How records become events.
    pub event_format: HecEventFormat,
    /// Wait for indexer acknowledgement before confirming.
    pub acks: bool,
    /// Give up waiting for acknowledgement after this long (the batch is then re-sent).
    pub ack_timeout: Duration,
    /// How often to ask for acknowledgement.
    pub ack_poll_interval: Duration,
    /// gzip request bodies.
    pub compression: Compression,
    /// Largest request body before compression.
    pub max_request_bytes: usize,
    /// Client settings.
    pub http: HttpOptions,
}

impl HecOptions {
    /// Options from `[output] kind = "splunk-hec"`; `default_format` is the binary's record
    /// format when the config names none (JSON formats embed objects, CEF embeds strings).
    pub fn from_config(
        config: &SplunkHecOutput,
        token: Secret,
        default_format: RecordFormat,
    ) -> Self {
        let event_format = if config.format.unwrap_or(default_format).is_json() {
            HecEventFormat::Json
        } else {
            HecEventFormat::Text
        };
        Self {
            url: config.url.clone(),
            token,
            index: config.index.clone(),
            sourcetype: config.sourcetype.clone(),
            source: config.source.clone(),
            host: config.host.clone(),
            event_format,
            acks: config.acks,
            ack_timeout: config.ack_timeout.get(),
            ack_poll_interval: Duration::from_secs(1),
            compression: config.compression,
            max_request_bytes: usize::try_from(config.max_request_size.0).unwrap_or(usize::MAX),
            http: HttpOptions {
                allow_http: config.allow_http,
                ca_file: config.ca_file.clone(),
                ..HttpOptions::default()
            },
        }
    }
}

/// Sends batches to Splunk HEC; see the [module docs](self).
#[derive(Debug)]
pub struct HecSink {
    http: HttpClient,
    events: Endpoint,
    acks: Endpoint,
    envelope_prefix: Vec<u8>,
    options: HecOptions,
}

#[derive(Serialize)]
struct Metadata<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    host: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sourcetype: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<&'a str>,
}

#[derive(Deserialize)]
struct EventResponse {
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    text: Option<String>,
    #[serde(rename = "ackId", default)]
    ack_id: Option<u64>,
}

#[derive(Serialize)]
struct AckRequest<'a> {
    acks: &'a [u64],
}

#[derive(Deserialize)]
struct AckResponse {
    acks: BTreeMap<String, bool>,
}

impl HecSink {
    /// Builds the sink (no request is made until the first batch). With acks on, a fresh
    /// random channel id is chosen.
    pub fn new(options: HecOptions) -> Result<Self, SinkBuildError> {
        let http = HttpClient::new(&options.http, &options.url)?;
        let authorization = format!("Splunk {}", options.token.expose());
        let mut events = Endpoint::new(
            collector_endpoint(&options.url, "/services/collector/event"),
            &authorization,
            "application/json",
            options.compression,
        )?;
        let mut ack_url = collector_endpoint(&options.url, "/services/collector/ack");
        let channel = if options.acks {
            let channel = random_channel_id();
            ack_url.query_pairs_mut().append_pair("channel", &channel);
            let value = HeaderValue::from_str(&channel).map_err(|_| SinkBuildError::Invalid {
                what: "channel id",
                reason: "it is not a header value".to_owned(),
            })?;
            Some(value)
        } else {
            None
        };
        // Ack requests are small JSON, never compressed.
        let mut acks = Endpoint::new(
            ack_url,
            &authorization,
            "application/json",
            Compression::None,
        )?;
        if let Some(channel) = channel {
            let name = HeaderName::from_static(CHANNEL_HEADER);
            events.insert_header(name.clone(), channel.clone());
            acks.insert_header(name, channel);
        }
        let mut envelope_prefix = serde_json::to_vec(&Metadata {
            host: options.host.as_deref(),
            source: options.source.as_deref(),
            sourcetype: options.sourcetype.as_deref(),
            index: options.index.as_deref(),
        })
        .map_err(|error| SinkBuildError::Invalid {
            what: "event metadata",
            reason: error.to_string(),
        })?;
        // `{...}` becomes `{...,"event":` (or `{"event":` without metadata).
        envelope_prefix.pop();
        if envelope_prefix.len() > 1 {
            envelope_prefix.push(b',');
        }
        envelope_prefix.extend_from_slice(b"\"event\":");
        Ok(Self {
            http,
            events,
            acks,
            envelope_prefix,
            options,
        })
    }

    /// The URL events go to.
    pub fn endpoint(&self) -> &Url {
        self.events.url()
    }

    /// Appends the envelope of `record` to `body`.
    fn encode_event(
        &self,
        index: usize,
        record: &Bytes,
        body: &mut Vec<u8>,
    ) -> Result<(), SinkFailure> {
        let invalid = |reason: String| SinkFailure::InvalidRecord { index, reason };
        body.extend_from_slice(&self.envelope_prefix);
        match self.options.event_format {
            HecEventFormat::Json => {
                serde_json::from_slice::<serde::de::IgnoredAny>(record)
                    .map_err(|error| invalid(format!("it is not JSON: {error}")))?;
                body.extend_from_slice(record);
            }
            HecEventFormat::Text => {
                let text = std::str::from_utf8(record)
                    .map_err(|error| invalid(format!("it is not UTF-8: {error}")))?;
                serde_json::to_writer(&mut *body, text)
                    .map_err(|error| invalid(format!("cannot encode it: {error}")))?;
            }
        }
        body.push(b'}');
        Ok(())
    }

    fn envelope_cost(&self, record: &Bytes) -> usize {
        // Text may grow when escaped; a sixth extra is a fair bound for log lines and the
        // limit itself has slack below Splunk's.
        let event = match self.options.event_format {
            HecEventFormat::Json => record.len(),
            HecEventFormat::Text => record.len() + record.len() / 6 + 2,
        };
        self.envelope_prefix.len() + event + 1
    }

    async fn post(&self, body: Vec<u8>) -> Result<Option<u64>, SinkFailure> {
        let response = self.http.post(&self.events, body).await?;
        let parsed: EventResponse = parse_response(&self.events, &response, "response")?;
        if parsed.code.unwrap_or(0) != 0 {
            return Err(SinkFailure::Rejected {
                url: self.events.url().to_string(),
                detail: format!(
                    "code {}: {}",
                    parsed.code.unwrap_or_default(),
                    parsed.text.unwrap_or_default()
                ),
            });
        }
        Ok(parsed.ack_id)
    }

    /// Polls until every id in `pending` is acknowledged or the timeout passes; returns
    /// the ids still pending.
    async fn await_acks(&self, mut pending: Vec<u64>) -> Result<Vec<u64>, SinkFailure> {
        let deadline = tokio::time::Instant::now() + self.options.ack_timeout;
        while !pending.is_empty() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(self.options.ack_poll_interval).await;
            let body = serde_json::to_vec(&AckRequest { acks: &pending }).map_err(|error| {
                SinkFailure::Rejected {
                    url: self.acks.url().to_string(),
                    detail: error.to_string(),
                }
            })?;
            let response = match self.http.post(&self.acks, body).await {
                Ok(response) => response,
                Err(failure) if failure.is_retryable() => continue,
                Err(failure) => return Err(failure),
            };
            let statuses: AckResponse = parse_response(&self.acks, &response, "ack response")?;
            pending.retain(|id| !statuses.acks.get(&id.to_string()).copied().unwrap_or(false));
        }
        Ok(pending)
    }
}

/// A 2xx body that is not the JSON expected is a rejection.
fn parse_response<T: DeserializeOwned>(
    endpoint: &Endpoint,
    response: &[u8],
    what: &str,
) -> Result<T, SinkFailure> {
    serde_json::from_slice(response).map_err(|error| SinkFailure::Rejected {
        url: endpoint.url().to_string(),
        detail: format!(
            "unexpected {what} {:?}: {error}",
            http::body_excerpt(response)
        ),
    })
}

fn collector_endpoint(base: &Url, path: &str) -> Url {
    let mut endpoint = base.clone();
    let base_path = base.path().trim_end_matches('/');
    let base_path = base_path
        .strip_suffix("/services/collector/event")
        .or_else(|| base_path.strip_suffix("/services/collector"))
        .unwrap_or(base_path);
    endpoint.set_path(&format!("{base_path}{path}"));
    endpoint.set_query(None);
    endpoint
}

/// A random RFC 4122 version 4 UUID, Splunk's channel id format.
fn random_channel_id() -> String {
    let mut bytes: [u8; 16] = rand::random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[async_trait::async_trait]
impl Sink for HecSink {
    async fn send(&mut self, mut batch: Vec<Bytes>) -> Result<(), SinkError> {
        if let Err(failure) = self.http.check_open() {
            return Err(SinkError::new(failure, batch));
        }
        let ends = match http::request_ends(&batch, self.options.max_request_bytes, |r| {
            self.envelope_cost(r)
        }) {
            Ok(ends) => ends,
            Err(failure) => return Err(SinkError::new(failure, batch)),
        };
        // (first record of the request, its ack id)
        let mut acked_requests: Vec<(usize, u64)> = Vec::new();
        let mut start = 0;
        for end in ends {
            let mut body = Vec::new();
            let mut posted = Ok(None);
            for (index, record) in batch[start..end].iter().enumerate() {
                if let Err(failure) = self.encode_event(start + index, record, &mut body) {
                    posted = Err(failure);
                    break;
                }
            }
            if posted.is_ok() {
                posted = self.post(body).await;
            }
            match posted {
                Ok(Some(ack_id)) if self.options.acks => acked_requests.push((start, ack_id)),
                Ok(_) => {}
                Err(failure) => {
                    // Records of requests still awaiting acknowledgement are not confirmed.
                    let first_unconfirmed =
                        acked_requests.first().map_or(start, |(first, _)| *first);
                    return Err(SinkError::new(failure, batch.split_off(first_unconfirmed)));
                }
            }
            start = end;
        }
        if acked_requests.is_empty() {
            return Ok(());
        }
        let ids = acked_requests.iter().map(|(_, id)| *id).collect();
        let pending = match self.await_acks(ids).await {
            Ok(pending) => pending,
            Err(failure) => {
                let first = acked_requests.first().map_or(0, |(first, _)| *first);
                return Err(SinkError::new(failure, batch.split_off(first)));
            }
        };
        match acked_requests.iter().find(|(_, id)| pending.contains(id)) {
            None => Ok(()),
            Some((first_unacked, _)) => Err(SinkError::new(
                SinkFailure::AckTimeout {
                    url: self.acks.url().to_string(),
                    pending,
                    waited: self.options.ack_timeout,
                },
                batch.split_off(*first_unacked),
            )),
        }
    }

    async fn flush(&mut self) -> Result<(), SinkFailure> {
        self.http.check_open()
    }

    async fn close(&mut self) -> Result<(), SinkFailure> {
        self.http.close();
        Ok(())
    }

    fn describe(&self) -> String {
        format!("splunk-hec {}", self.events.url())
    }
}

#[cfg(test)]
mod tests {
    use httpmock::prelude::*;

    use super::*;
    use crate::sink::http::testing::bounded;

    fn options(server: &MockServer) -> HecOptions {
        HecOptions {
            url: Url::parse(&server.base_url()).unwrap(),
            token: Secret::new("t0ken"),
            index: Some("security".into()),
            sourcetype: Some("cef".into()),
            source: None,
            host: None,
            event_format: HecEventFormat::Text,
            acks: false,
            ack_timeout: Duration::from_secs(2),
            ack_poll_interval: Duration::from_millis(10),
            compression: Compression::None,
            max_request_bytes: DEFAULT_MAX_REQUEST_BYTES,
            http: http::testing::options(1),
        }
    }

    #[tokio::test]
    async fn posts_concatenated_envelopes_with_the_splunk_token() {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method(POST)
                    .path("/services/collector/event")
                    .header("authorization", "Splunk t0ken");
                then.status(200).body("{\"text\":\"Success\",\"code\":0}");
            })
            .await;
        let mut sink = HecSink::new(options(&server)).unwrap();
        let cef =
            Bytes::from_static(b"CEF:0|PaloAltoNetworks|PANWIOT|1.0|asset|a \"quoted\" \\ name|1|");
        bounded(sink.send(vec![cef.clone(), cef])).await.unwrap();
        mock.assert_async().await;
        let mut body = Vec::new();
        sink.encode_event(0, &Bytes::from_static(b"x\"y"), &mut body)
            .unwrap();
        insta::assert_snapshot!(String::from_utf8(body).unwrap(), @r#"{"sourcetype":"cef","index":"security","event":"x\"y"}"#);
        assert!(!format!("{sink:?}").contains("t0ken"));
    }

    #[tokio::test]
    async fn json_records_are_embedded_and_checked() {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method(POST)
                    .path("/services/collector/event")
                    .body("{\"event\":{\"a\":1}}{\"event\":[2]}");
                then.status(200).body("{\"text\":\"Success\",\"code\":0}");
            })
            .await;
        let mut options = options(&server);
        options.event_format = HecEventFormat::Json;
        options.index = None;
        options.sourcetype = None;
        let mut sink = HecSink::new(options).unwrap();
        bounded(sink.send(vec![
            Bytes::from_static(b"{\"a\":1}"),
            Bytes::from_static(b"[2]"),
        ]))
        .await
        .unwrap();
        mock.assert_async().await;
        let error = bounded(sink.send(vec![Bytes::from_static(b"{broken")]))
            .await
            .unwrap_err();
        assert!(matches!(
            error.failure(),
            SinkFailure::InvalidRecord { index: 0, .. }
        ));
    }

    #[tokio::test]
    async fn waits_for_indexer_acknowledgement_on_its_channel() {
        let server = MockServer::start_async().await;
        let events = server
            .mock_async(|when, then| {
                when.method(POST)
                    .path("/services/collector/event")
                    .header_exists("x-splunk-request-channel");
                then.status(200)
                    .body("{\"text\":\"Success\",\"code\":0,\"ackId\":7}");
            })
            .await;
        let acks = server
            .mock_async(|when, then| {
                when.method(POST)
                    .path("/services/collector/ack")
                    .query_param_exists("channel")
                    .header_exists("x-splunk-request-channel")
                    .body("{\"acks\":[7]}");
                then.status(200).body("{\"acks\":{\"7\":true}}");
            })
            .await;
        let mut options = options(&server);
        options.acks = true;
        let mut sink = HecSink::new(options).unwrap();
        bounded(sink.send(vec![Bytes::from_static(b"one")]))
            .await
            .unwrap();
        events.assert_async().await;
        acks.assert_async().await;
    }

    #[tokio::test]
    async fn an_ack_that_never_comes_hands_the_batch_back() {
        let server = MockServer::start_async().await;
        server
            .mock_async(|when, then| {
                when.method(POST).path("/services/collector/event");
                then.status(200)
                    .body("{\"text\":\"Success\",\"code\":0,\"ackId\":1}");
            })
            .await;
        server
            .mock_async(|when, then| {
                when.method(POST).path("/services/collector/ack");
                then.status(200).body("{\"acks\":{\"1\":false}}");
            })
            .await;
        let mut options = options(&server);
        options.acks = true;
        options.ack_timeout = Duration::from_millis(100);
        let mut sink = HecSink::new(options).unwrap();
        let batch = vec![Bytes::from_static(b"a"), Bytes::from_static(b"b")];
        let error = bounded(sink.send(batch.clone())).await.unwrap_err();
        assert!(error.failure().is_retryable());
        assert_eq!(error.undelivered(), &batch[..]);
    }

    #[tokio::test]
    async fn a_bad_token_is_not_retried() {
        let server = MockServer::start_async().await;
        let denied = server
            .mock_async(|when, then| {
                when.method(POST);
                then.status(403)
                    .body("{\"text\":\"Invalid token\",\"code\":4}");
            })
            .await;
        let mut sink = HecSink::new(options(&server)).unwrap();
        let error = bounded(sink.send(vec![Bytes::from_static(b"a")]))
            .await
            .unwrap_err();
        assert_eq!(denied.calls_async().await, 1);
        assert!(!error.failure().is_retryable());
    }

    #[test]
    fn channel_ids_are_v4_uuids() {
        let id = random_channel_id();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
    }
}
