//! Records as syslog messages, through syslog-transport's [`Sender`] (UDP, TCP, TLS, RELP,
//! RELP over TLS, Unix sockets).
//!
//! The sender confirms a batch when it is written and flushed on a live connection
//! (TCP, TLS), acknowledged (RELP) or handed to the kernel (UDP, which cannot confirm
//! more), and hands back what it could not confirm. It may hand back records that are not
//! a suffix (RELP acknowledges each message); this sink widens that to the suffix from the
//! first unconfirmed record, so the delivery loop never commits past it.

use bytes::Bytes;
use syslog_transport::{
    ConnectionCheck, Facility, Framing, Protocol, Sender, TlsConfig, TransportConfig,
    TransportError,
};

use super::{Sink, SinkError, SinkFailure};
use crate::config::{SiemConfig, SyslogFormat, SyslogFraming, SyslogProtocol};

/// Sends records as syslog messages; see the [module docs](self).
#[derive(Debug)]
pub struct SyslogSink {
    /// `None` once closed.
    sender: Option<Sender>,
    counters: syslog_transport::CounterHandle,
    description: String,
}

impl SyslogSink {
    /// A sink over a configured sender (connects lazily, on the first batch).
    pub fn new(sender: Sender) -> Self {
        let config = sender.config();
        let description = match config.protocol {
            Protocol::UnixDatagram | Protocol::UnixStream => {
                format!(
                    "syslog {} {}",
                    config.protocol,
                    config.effective_path().display()
                )
            }
            protocol => format!(
                "syslog {protocol} {}:{}",
                config.host,
                config.effective_port()
            ),
        };
        Self {
            counters: sender.counter_handle(),
            sender: Some(sender),
            description,
        }
    }

    /// A sink for the receiver in `[siem]`; `app_name` fills APP-NAME when the config
    /// names none.
    pub fn from_config(config: &SiemConfig, app_name: &str) -> Result<Self, SyslogSinkError> {
        let sender = Sender::new(transport_config(config, app_name))?;
        Ok(Self::new(sender))
    }

    /// Checks that the receiver is there (connect, TLS handshake, RELP session); UDP
    /// cannot confirm anything and says so.
    pub async fn test_connection(&self) -> Result<ConnectionCheck, SinkFailure> {
        self.sender
            .as_ref()
            .ok_or(SinkFailure::Closed)?
            .test_connection()
            .await
            .map_err(transport_failure)
    }

    /// The sender's counters (sent, resent, dropped, truncated, reconnects).
    pub fn transport_counters(&self) -> syslog_transport::Counters {
        self.counters.get()
    }
}

/// A syslog sink could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyslogSinkError {
    /// The `[siem]` settings are not valid for the transport.
    #[error("invalid [siem] settings: {0}")]
    Config(#[from] syslog_transport::ConfigError),
}

/// Maps `[siem]` onto the transport's configuration.
pub fn transport_config(config: &SiemConfig, app_name: &str) -> TransportConfig {
    let protocol = match config.protocol {
        SyslogProtocol::Udp => Protocol::Udp,
        SyslogProtocol::Tcp => Protocol::Tcp,
        SyslogProtocol::Tls => Protocol::Tls,
        SyslogProtocol::Relp => Protocol::Relp,
        SyslogProtocol::RelpTls => Protocol::RelpTls,
        SyslogProtocol::UnixDatagram => Protocol::UnixDatagram,
        SyslogProtocol::UnixStream => Protocol::UnixStream,
    };
    let mut transport = TransportConfig::new(protocol, config.host.clone());
    transport.port = config.port;
    transport.path.clone_from(&config.path);
    transport.framing = config.framing.map(|framing| match framing {
        SyslogFraming::OctetCounting => Framing::OctetCounting,
        SyslogFraming::Lf => Framing::Lf,
        SyslogFraming::Nul => Framing::Nul,
    });
    transport.format.format = match config.format {
        SyslogFormat::Rfc5424 => syslog_transport::SyslogFormat::Rfc5424,
        SyslogFormat::Rfc3164 => syslog_transport::SyslogFormat::Rfc3164,
    };
    // The name was checked when the config was loaded; an unknown one (a config built
    // in code) falls back to the transport's default, `user`.
    transport.format.facility =
        <Facility as serde::Deserialize>::deserialize(serde::de::value::StrDeserializer::<
            serde::de::value::Error,
        >::new(&config.facility))
        .unwrap_or_default();
    transport.format.hostname.clone_from(&config.hostname);
    transport.format.app_name = Some(
        config
            .app_name
            .clone()
            .unwrap_or_else(|| app_name.to_owned()),
    );
    transport.tls = TlsConfig {
        ca_file: config.ca_file.clone(),
        client_cert_file: config.client_cert_file.clone(),
        client_key_file: config.client_key_file.clone(),
        server_name: config.server_name.clone(),
        verify: config.verify,
    };
    if let Some(timeout) = config.retry_timeout {
        transport.retry_timeout_ms = u64::try_from(timeout.get().as_millis()).unwrap_or(u64::MAX);
    }
    transport
}

fn transport_failure(cause: TransportError) -> SinkFailure {
    let retryable = cause.is_retryable();
    SinkFailure::Transport {
        source: Box::new(cause),
        retryable,
    }
}

/// The suffix of `batch` starting at the first record in `unsent` (matched by identity,
/// since the sender hands back the very buffers it was given).
fn unsent_suffix(mut batch: Vec<Bytes>, unsent: &[Bytes]) -> Vec<Bytes> {
    let Some(first) = unsent.first() else {
        return Vec::new();
    };
    let start = batch
        .iter()
        .position(|record| record.as_ptr() == first.as_ptr() && record.len() == first.len())
        .or_else(|| batch.iter().position(|record| record == first))
        .unwrap_or(0);
    batch.split_off(start)
}

#[async_trait::async_trait]
impl Sink for SyslogSink {
    async fn send(&mut self, batch: Vec<Bytes>) -> Result<(), SinkError> {
        let Some(sender) = self.sender.as_mut() else {
            return Err(SinkError::new(SinkFailure::Closed, batch));
        };
        // Cheap: clones share the buffers.
        let kept = batch.clone();
        sender.send_batch(batch).await.map_err(|error| {
            let suffix = unsent_suffix(kept, &error.unsent);
            SinkError::new(transport_failure(error.cause), suffix)
        })
    }

    async fn flush(&mut self) -> Result<(), SinkFailure> {
        // Each confirmed batch is already flushed or acknowledged.
        if self.sender.is_some() {
            Ok(())
        } else {
            Err(SinkFailure::Closed)
        }
    }

    async fn close(&mut self) -> Result<(), SinkFailure> {
        match self.sender.take() {
            Some(sender) => sender.shutdown().await.map_err(transport_failure),
            None => Ok(()),
        }
    }

    fn describe(&self) -> String {
        self.description.clone()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::AsyncReadExt;

    use super::*;

    #[test]
    fn the_unsent_suffix_starts_at_the_first_unconfirmed_record() {
        let batch: Vec<Bytes> = (0..5).map(|i| Bytes::from(format!("r{i}"))).collect();
        let unsent = vec![batch[1].clone(), batch[3].clone()];
        assert_eq!(unsent_suffix(batch.clone(), &unsent), batch[1..].to_vec());
        assert!(unsent_suffix(batch, &[]).is_empty());
    }

    #[test]
    fn siem_config_maps_onto_the_transport() {
        let config: SiemConfig = toml::from_str(
            "host = \"siem.example\"\nprotocol = \"relp-tls\"\nfacility = \"local4\"\nca_file = \"/ca.pem\"\nretry_timeout = \"2m\"\n",
        )
        .unwrap();
        let transport = transport_config(&config, "iot-siem-exporter");
        assert_eq!(transport.protocol, Protocol::RelpTls);
        assert_eq!(transport.effective_port(), 2514);
        assert_eq!(transport.format.facility, Facility::Local4);
        assert_eq!(
            transport.format.app_name.as_deref(),
            Some("iot-siem-exporter")
        );
        assert_eq!(
            transport.tls.ca_file.as_deref(),
            Some(std::path::Path::new("/ca.pem"))
        );
        assert_eq!(transport.retry_timeout_ms, 120_000);
        transport.validate().unwrap();
    }

    #[tokio::test]
    async fn sends_over_tcp_to_a_loopback_receiver() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let receiver = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut received = String::new();
            stream.read_to_string(&mut received).await.unwrap();
            received
        });
        let config: SiemConfig = toml::from_str(&format!(
            "host = \"127.0.0.1\"\nport = {port}\nprotocol = \"tcp\"\nhostname = \"collector\"\n"
        ))
        .unwrap();
        let mut sink = SyslogSink::from_config(&config, "siem-pipeline-test").unwrap();
        assert_eq!(sink.describe(), format!("syslog tcp 127.0.0.1:{port}"));
        let work = async {
            sink.send(vec![
                Bytes::from_static(b"CEF:0|a|b|1|x|y|5|"),
                Bytes::from_static(b"{\"j\":1}"),
            ])
            .await
            .unwrap();
            sink.close().await.unwrap();
            receiver.await.unwrap()
        };
        let received = tokio::time::timeout(Duration::from_secs(20), work)
            .await
            .unwrap();
        let lines: Vec<&str> = received.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(
            lines[0].ends_with(" collector siem-pipeline-test - - - CEF:0|a|b|1|x|y|5|"),
            "{received}"
        );
        assert!(lines[1].ends_with(" - - - {\"j\":1}"), "{received}");
    }

    #[tokio::test]
    async fn a_dead_receiver_hands_the_batch_back() {
        // A port nobody listens on: bind, learn it, close.
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let config: SiemConfig = toml::from_str(&format!(
            "host = \"127.0.0.1\"\nport = {port}\nprotocol = \"tcp\"\nretry_timeout = \"100ms\"\n"
        ))
        .unwrap();
        let mut sink = SyslogSink::from_config(&config, "test").unwrap();
        let batch = vec![Bytes::from_static(b"a"), Bytes::from_static(b"b")];
        let error = tokio::time::timeout(Duration::from_secs(20), sink.send(batch.clone()))
            .await
            .unwrap()
            .unwrap_err();
        assert_eq!(error.undelivered(), &batch[..]);
        assert!(error.failure().is_retryable());
    }
}
