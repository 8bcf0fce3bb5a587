//! The sender's configuration: one flat value a TOML `[siem]` section deserializes into.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::format::{FormatConfig, FormatError};
use crate::frame::{Framing, LineBreaks};

/// The transport that carries the messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// RFC 5426: one message per datagram; delivery cannot be confirmed.
    Udp,
    /// Plain TCP (RFC 6587).
    Tcp,
    /// TLS over TCP (RFC 5425), rustls.
    Tls,
    /// RELP over TCP: every message acknowledged by the receiver.
    Relp,
    /// RELP over TLS.
    #[serde(alias = "relp_tls")]
    RelpTls,
    /// A Unix datagram socket such as `/dev/log`.
    #[serde(alias = "unix_datagram", alias = "unix")]
    UnixDatagram,
    /// A Unix stream socket.
    #[serde(alias = "unix_stream")]
    UnixStream,
}

impl Protocol {
    /// The port used when none is configured: 514 (UDP, TCP), 6514 (TLS), 2514 (RELP).
    pub fn default_port(self) -> u16 {
        match self {
            Self::Tls => 6514,
            Self::Relp | Self::RelpTls => 2514,
            _ => 514,
        }
    }

    /// The framing used when none is configured: octet counting for TLS (RFC 5425),
    /// LF for TCP and Unix streams (what Splunk, QRadar and ArcSight raw inputs expect),
    /// none for datagrams. RELP carries its own framing and ignores this.
    pub fn default_framing(self) -> Framing {
        match self {
            Self::Tls | Self::Relp | Self::RelpTls => Framing::OctetCounting,
            Self::Tcp | Self::UnixStream => Framing::Lf,
            Self::Udp | Self::UnixDatagram => Framing::None,
        }
    }

    /// Whether the protocol runs over TLS.
    pub fn is_tls(self) -> bool {
        matches!(self, Self::Tls | Self::RelpTls)
    }

    /// Whether the receiver acknowledges each message.
    pub fn is_relp(self) -> bool {
        matches!(self, Self::Relp | Self::RelpTls)
    }

    /// The name used in the configuration.
    pub fn name(self) -> &'static str {
        match self {
            Self::Udp => "udp",
            Self::Tcp => "tcp",
            Self::Tls => "tls",
            Self::Relp => "relp",
            Self::RelpTls => "relp-tls",
            Self::UnixDatagram => "unix-datagram",
            Self::UnixStream => "unix-stream",
        }
    }
}

impl std::fmt::Display for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What to do with a message longer than the transport's limit (the UDP datagram limit,
/// or the RFC 3164 message limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OversizePolicy {
    /// Cut it to the limit (at a UTF-8 character boundary when the message is UTF-8),
    /// send it and count it as truncated (RFC 5426 §3.2 allows this).
    #[default]
    Truncate,
    /// Send nothing of the batch and fail with [`crate::TransportError::Oversize`] naming
    /// the message.
    Reject,
}

/// TLS settings (TLS and RELP over TLS). Certificates and keys are PEM files.
///
/// The client speaks TLS 1.3 and 1.2 (nothing older) and offers only AEAD cipher suites:
/// AES-128-GCM first, then AES-256-GCM, then ChaCha20-Poly1305, in each version. Both
/// AES-GCM sizes are safe; the 128-bit key takes 10 AES rounds per block instead of 14,
/// which makes bulk syslog cheaper on both ends (rustls and OpenSSL receivers follow the
/// client's order unless told otherwise).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct TlsConfig {
    /// Trust anchors (PEM, one or more CA certificates). `None`: the system store.
    pub ca_file: Option<PathBuf>,
    /// Client certificate chain for mutual TLS (PEM); needs `client_key_file`.
    pub client_cert_file: Option<PathBuf>,
    /// Client private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub client_key_file: Option<PathBuf>,
    /// The name to verify the server's certificate against (and send as SNI) when it
    /// differs from `host`.
    pub server_name: Option<String>,
    /// Verify the server's certificate (default). `false` accepts any certificate and
    /// logs one warning: for lab receivers only.
    pub verify: bool,
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self {
            ca_file: None,
            client_cert_file: None,
            client_key_file: None,
            server_name: None,
            verify: true,
        }
    }
}

fn default_udp_max() -> usize {
    2048
}
fn default_rfc3164_max() -> usize {
    1024
}
fn default_first_delay() -> u64 {
    500
}
fn default_max_delay() -> u64 {
    30_000
}
fn default_connect_timeout() -> u64 {
    10_000
}
fn default_retry_timeout() -> u64 {
    60_000
}
fn default_queue() -> usize {
    4096
}
fn default_window() -> usize {
    1024
}

/// Everything the [`crate::Sender`] needs, as flat keys so it can be embedded in a TOML
/// section:
///
/// ```toml
/// protocol = "tls"            # udp | tcp | tls | relp | relp-tls | unix-datagram | unix-stream
/// host = "siem.example.net"
/// port = 6514                 # default per protocol: 514, 6514 (tls), 2514 (relp)
/// framing = "octet-counting"  # octet-counting | lf | nul | none; default per protocol
/// format = "rfc5424"          # rfc5424 | rfc3164
/// facility = "local4"
/// ca_file = "/etc/siembridge/ca.pem"
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TransportConfig {
    /// The transport.
    pub protocol: Protocol,
    /// Receiver host name or IP address (IPv4 or IPv6); unused for Unix sockets.
    #[serde(default)]
    pub host: String,
    /// Receiver port; `None` takes [`Protocol::default_port`].
    #[serde(default)]
    pub port: Option<u16>,
    /// Socket path for Unix sockets (default `/dev/log`).
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// Stream framing; `None` takes [`Protocol::default_framing`].
    #[serde(default)]
    pub framing: Option<Framing>,
    /// How LF/NUL framing rewrites a line break inside a message.
    #[serde(default)]
    pub line_breaks: LineBreaks,
    /// Syslog header: format, facility, severity, hostname, app_name, procid, msgid, bom.
    #[serde(flatten)]
    pub format: FormatConfig,
    /// TLS: ca_file, client_cert_file, client_key_file, server_name, verify.
    #[serde(flatten)]
    pub tls: TlsConfig,
    /// Largest UDP or Unix datagram, in bytes (default 2048; at most 65507).
    #[serde(default = "default_udp_max")]
    pub udp_max_message: usize,
    /// Largest RFC 3164 message, in bytes (default 1024, the RFC's; raise it for
    /// receivers that take more).
    #[serde(default = "default_rfc3164_max")]
    pub rfc3164_max_message: usize,
    /// What happens to a message over those limits.
    #[serde(default)]
    pub oversize: OversizePolicy,
    /// First reconnect delay in milliseconds (default 500); it doubles, with full
    /// jitter, up to `reconnect_max_delay_ms`.
    #[serde(default = "default_first_delay")]
    pub reconnect_first_delay_ms: u64,
    /// Cap of the reconnect delay in milliseconds (default 30 000).
    #[serde(default = "default_max_delay")]
    pub reconnect_max_delay_ms: u64,
    /// Time allowed for one connect and handshake, in milliseconds (default 10 000).
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_ms: u64,
    /// How long `send_batch` keeps reconnecting and re-sending before it gives the
    /// batch back, in milliseconds (default 60 000).
    #[serde(default = "default_retry_timeout")]
    pub retry_timeout_ms: u64,
    /// Messages a [`crate::SendQueue`] holds, queued or being sent, before producers wait
    /// for room (default 4096): the bounded queue in front of the connection.
    #[serde(default = "default_queue")]
    pub queue_capacity: usize,
    /// RELP: messages sent but not yet acknowledged, at most (default 1024).
    #[serde(default = "default_window")]
    pub relp_window: usize,
}

impl TransportConfig {
    /// A configuration with every default, for `protocol` to `host`.
    pub fn new(protocol: Protocol, host: impl Into<String>) -> Self {
        Self {
            protocol,
            host: host.into(),
            port: None,
            path: None,
            framing: None,
            line_breaks: LineBreaks::default(),
            format: FormatConfig::default(),
            tls: TlsConfig::default(),
            udp_max_message: default_udp_max(),
            rfc3164_max_message: default_rfc3164_max(),
            oversize: OversizePolicy::default(),
            reconnect_first_delay_ms: default_first_delay(),
            reconnect_max_delay_ms: default_max_delay(),
            connect_timeout_ms: default_connect_timeout(),
            retry_timeout_ms: default_retry_timeout(),
            queue_capacity: default_queue(),
            relp_window: default_window(),
        }
    }

    /// The port in effect.
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or_else(|| self.protocol.default_port())
    }

    /// The framing in effect.
    pub fn effective_framing(&self) -> Framing {
        self.framing
            .unwrap_or_else(|| self.protocol.default_framing())
    }

    /// The Unix socket path in effect.
    pub fn effective_path(&self) -> PathBuf {
        self.path
            .clone()
            .unwrap_or_else(|| PathBuf::from("/dev/log"))
    }

    pub(crate) fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_timeout_ms)
    }

    /// The largest message this configuration sends, if any limit applies.
    pub(crate) fn message_limit(&self) -> Option<usize> {
        let datagram = matches!(self.protocol, Protocol::Udp | Protocol::UnixDatagram)
            .then_some(self.udp_max_message);
        let bsd = (self.format.format == crate::SyslogFormat::Rfc3164)
            .then_some(self.rfc3164_max_message);
        match (datagram, bsd) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Checks the values that do not need the file system or the network.
    pub fn validate(&self) -> Result<(), ConfigError> {
        crate::format::Formatter::new(&self.format)?;
        let framing = self.effective_framing();
        match self.protocol {
            Protocol::Udp | Protocol::UnixDatagram if framing != Framing::None => {
                return Err(ConfigError::FramingNotAllowed {
                    protocol: self.protocol,
                    framing,
                });
            }
            Protocol::Tcp | Protocol::Tls | Protocol::UnixStream if framing == Framing::None => {
                return Err(ConfigError::FramingNotAllowed {
                    protocol: self.protocol,
                    framing,
                });
            }
            _ => {}
        }
        let needs_host = !matches!(self.protocol, Protocol::UnixDatagram | Protocol::UnixStream);
        if needs_host && self.host.trim().is_empty() {
            return Err(ConfigError::MissingHost {
                protocol: self.protocol,
            });
        }
        if self.udp_max_message == 0 || self.udp_max_message > 65_507 {
            return Err(ConfigError::OutOfRange {
                field: "udp_max_message",
                value: self.udp_max_message as u64,
                range: "1..=65507",
            });
        }
        for (field, value) in [
            ("rfc3164_max_message", self.rfc3164_max_message),
            ("queue_capacity", self.queue_capacity),
            ("relp_window", self.relp_window),
        ] {
            if value == 0 {
                return Err(ConfigError::OutOfRange {
                    field,
                    value: 0,
                    range: "at least 1",
                });
            }
        }
        if self.reconnect_first_delay_ms > self.reconnect_max_delay_ms {
            return Err(ConfigError::OutOfRange {
                field: "reconnect_first_delay_ms",
                value: self.reconnect_first_delay_ms,
                range: "at most reconnect_max_delay_ms",
            });
        }
        Ok(())
    }
}

/// A configuration that cannot work, found before any connection.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A syslog header field breaks the RFC.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// The TLS material cannot be loaded.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// A network protocol without a host.
    #[error("protocol {protocol} needs a host")]
    MissingHost {
        /// The protocol.
        protocol: Protocol,
    },
    /// A framing the protocol cannot carry (datagrams take none; streams need one).
    #[error("protocol {protocol} cannot use framing {framing}")]
    FramingNotAllowed {
        /// The protocol.
        protocol: Protocol,
        /// The framing asked for.
        framing: Framing,
    },
    /// A number outside its range.
    #[error("{field} = {value} is out of range ({range})")]
    OutOfRange {
        /// The key.
        field: &'static str,
        /// Its value.
        value: u64,
        /// What it may be.
        range: &'static str,
    },
}
