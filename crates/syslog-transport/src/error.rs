//! What can go wrong while connecting and sending.

use std::time::Duration;

use bytes::Bytes;

use crate::format::FormatError;

/// Why a connection, a send or a connection test failed.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The host name does not resolve.
    #[error("cannot resolve {host}: {source}")]
    Resolve {
        /// The host as configured.
        host: String,
        /// The resolver's error.
        source: std::io::Error,
    },
    /// The host name resolves to no address.
    #[error("{host} resolves to no address")]
    NoAddress {
        /// The host as configured.
        host: String,
    },
    /// Nothing listens there.
    #[error("connection to {peer} refused (is the receiver running and listening on that port?)")]
    Refused {
        /// `address:port` or the socket path.
        peer: String,
    },
    /// The connect or handshake took longer than `connect_timeout_ms`.
    #[error("connecting to {peer} timed out after {after:?}")]
    ConnectTimeout {
        /// `address:port`.
        peer: String,
        /// The limit.
        after: Duration,
    },
    /// Connecting failed for another reason.
    #[error("cannot connect to {peer}: {source}")]
    Connect {
        /// `address:port` or the socket path.
        peer: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The server's certificate does not chain to a trusted CA.
    #[error("TLS: the certificate of {peer} is not trusted ({detail}); check ca_file")]
    CertificateUntrusted {
        /// `address:port`.
        peer: String,
        /// What rustls said.
        detail: String,
    },
    /// The server's certificate is not valid for the name we verify.
    #[error(
        "TLS: the certificate of {peer} is not valid for {server_name} ({detail}); set server_name to a name it holds"
    )]
    NameMismatch {
        /// `address:port`.
        peer: String,
        /// The name verified.
        server_name: String,
        /// What rustls said.
        detail: String,
    },
    /// Another TLS failure, such as the server refusing our (missing) client certificate.
    #[error("TLS with {peer} failed: {detail}")]
    Tls {
        /// `address:port`.
        peer: String,
        /// What rustls said.
        detail: String,
    },
    /// The receiver closed the connection.
    #[error("{peer} closed the connection")]
    PeerClosed {
        /// `address:port` or the socket path.
        peer: String,
    },
    /// Reading or writing failed.
    #[error("I/O error with {peer}: {source}")]
    Io {
        /// `address:port` or the socket path.
        peer: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The receiver did not answer in time (RELP acknowledgements).
    #[error("{peer} sent no acknowledgement for {after:?}")]
    AckTimeout {
        /// `address:port`.
        peer: String,
        /// How long we waited.
        after: Duration,
    },
    /// The RELP receiver answered with an error code.
    #[error("RELP receiver {peer} answered {code} {text}")]
    RelpRefused {
        /// `address:port`.
        peer: String,
        /// Its code (200 is success).
        code: u16,
        /// Its text.
        text: String,
    },
    /// The RELP receiver sent something that is not RELP.
    #[error("RELP protocol error from {peer}: {detail}")]
    RelpProtocol {
        /// `address:port`.
        peer: String,
        /// What was wrong.
        detail: String,
    },
    /// A message is over the configured limit and the policy is `reject`.
    #[error(
        "message {index} of the batch is {len} bytes formatted, over the {limit}-byte limit (oversize = \"reject\")"
    )]
    Oversize {
        /// Its position in the batch, from 0.
        index: usize,
        /// Its formatted length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// A message cannot be formatted.
    #[error("message {index} of the batch cannot be formatted: {source}")]
    Format {
        /// Its position in the batch, from 0.
        index: usize,
        /// Why.
        source: FormatError,
    },
    /// The [`crate::SendQueue`] was closed (or its worker stopped) before the batch was
    /// confirmed.
    #[error("the send queue is closed")]
    QueueClosed,
}

impl TransportError {
    /// Whether sending again later may succeed. `false` for messages that can never be
    /// sent as they are (over the limit, unformattable): retrying them loops forever;
    /// `false` too for a closed queue, which takes nothing more.
    pub fn is_retryable(&self) -> bool {
        !matches!(
            self,
            Self::Oversize { .. } | Self::Format { .. } | Self::QueueClosed
        )
    }
}

/// A batch that was not (entirely) delivered. Like tokio's channel errors, it hands the
/// payloads back: `unsent` holds every payload whose delivery was not confirmed, in
/// batch order; the others were delivered. Its `Debug` shows how many payloads are
/// unsent, not their bytes (a batch can hold thousands of records, some sensitive).
#[derive(thiserror::Error)]
#[error("{} of the batch's messages not confirmed: {cause}", unsent.len())]
pub struct SendError {
    /// The payloads not confirmed, to send again.
    pub unsent: Vec<Bytes>,
    /// Why.
    #[source]
    pub cause: TransportError,
}

impl std::fmt::Debug for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendError")
            .field("unsent", &format_args!("[{} payloads]", self.unsent.len()))
            .field("cause", &self.cause)
            .finish()
    }
}

impl SendError {
    /// The payloads not confirmed.
    pub fn into_unsent(self) -> Vec<Bytes> {
        self.unsent
    }
}

/// What a connection test could establish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionCheck {
    /// Connected (and, for TLS, handshaken; for RELP, the session opened): the receiver
    /// is there and accepts us.
    Confirmed {
        /// The peer reached (`address:port` or the socket path).
        peer: String,
    },
    /// Datagram transports cannot confirm anything: the address resolved and a socket
    /// was opened, but whether a receiver listens is unknown.
    Unconfirmable {
        /// The address datagrams go to.
        peer: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_error_debug_counts_payloads_without_showing_them() {
        let error = SendError {
            unsent: vec![Bytes::from_static(b"secret record"); 3],
            cause: TransportError::QueueClosed,
        };
        let shown = format!("{error:?}");
        assert_eq!(
            shown,
            "SendError { unsent: [3 payloads], cause: QueueClosed }"
        );
    }
}
