//! Syslog (RFC 5424 / 3164) formatting, framing and UDP / TCP / TLS / RELP / Unix senders
//! with delivery acknowledgements.
//!
//! Three layers, each usable alone:
//!
//! - [`Formatter`] (the serializer) writes one syslog message around a payload: RFC 5424
//!   (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`) or RFC 3164
//!   (`<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG`). The payload is bytes: a CEF line, JSON,
//!   anything. Header fields are validated once, when the formatter is built.
//! - [`Framer`] delimits messages on a stream: octet counting (RFC 5425 / RFC 6587),
//!   LF or NUL (non-transparent: a line break inside a message is escaped or replaced, so
//!   it can never end a frame early), or none (datagrams). [`Deframer`] reads them back.
//!   [`Encoder`] joins the two with the size limit, for file sinks and benchmarks.
//! - [`Sender`] carries messages over UDP, TCP, TLS (rustls), RELP, RELP over TLS and
//!   Unix sockets, reconnecting by itself.
//!
//! # The sender's contract
//!
//! ```text
//! Sender::new(TransportConfig) -> Result<Sender, ConfigError>            // validates, loads TLS files
//! Sender::send_batch(&mut self, Vec<Bytes>) -> Result<(), SendError>     // SendError { unsent, cause }
//! Sender::test_connection(&self) -> Result<ConnectionCheck, TransportError>
//! Sender::shutdown(self) -> Result<(), TransportError>                  // RELP close, TLS close_notify
//! Sender::counters(&self) -> Counters                                   // sent, resent, dropped, truncated, reconnects
//! ```
//!
//! `send_batch` returns `Ok` only when every payload is confirmed: written and flushed
//! on a live connection (TCP, TLS, Unix stream: the peer had not closed before or after
//! the write), acknowledged with `200 OK` (RELP), or handed to the kernel (UDP, which
//! cannot confirm more). On a broken connection it reconnects with jittered exponential
//! backoff (`reconnect_first_delay_ms` doubling up to `reconnect_max_delay_ms`) and
//! re-sends what was not confirmed, for up to `retry_timeout_ms`; then it returns a
//! [`SendError`] whose `unsent` holds exactly the payloads not confirmed, as tokio's
//! channels hand a value back. A batch is encoded into a 256 KiB write buffer at a time,
//! and `send_batch` waits for the socket between writes. RELP keeps at most
//! `relp_window` messages unacknowledged.
//!
//! # The bounded queue
//!
//! For several producers, or one that wants to queue its next batch before the last is
//! confirmed, [`SendQueue`] puts a bounded queue in front of the connection:
//!
//! ```text
//! SendQueue::start(Sender) -> (SendQueue, QueueWorker)       // one task owns the Sender
//! SendQueue::enqueue(&self, Vec<Bytes>) -> Result<Delivery, SendError>  // waits for room
//! Delivery::confirmed(self) -> Result<(), SendError>         // the send_batch contract
//! SendQueue::send_batch(&self, Vec<Bytes>) -> Result<(), SendError>     // both in one
//! SendQueue::close(&self); QueueWorker::join(self) -> Result<(), TransportError>
//! ```
//!
//! It holds at most `queue_capacity` messages (default 4 096), queued or being sent;
//! `enqueue` waits, in arrival order, while a batch does not fit: that is the producers'
//! backpressure. Batches are sent one at a time in queue order, each confirmed or handed
//! back whole with its cause; after `close`, queued batches are still sent and new ones
//! come back with [`TransportError::QueueClosed`].
//!
//! # What "delivered" means per transport
//!
//! - RELP: the receiver acknowledged the message. A receiver killed at any instant loses
//!   nothing: unacknowledged messages are re-sent on the next connection (so a message
//!   may arrive twice, never zero times).
//! - TCP and TLS: the bytes reached our kernel's send buffer on a connection that looked
//!   alive. When the receiver dies, what it had accepted but not yet stored (its socket
//!   buffers, its memory queue) is lost, and no TCP sender can know. The batch whose write
//!   or liveness check fails is re-sent whole on a new connection, so the loss is
//!   confined to messages sent before the crash. Measured (`tests/interop_rsyslog.rs`,
//!   `outage_over_tcp...` and `outage_over_tls...`: 6 000 messages in batches of 200,
//!   rsyslogd killed with SIGKILL after 2 000 and restarted on the same port), messages
//!   lost per run, all of them sent before the kill and none after the restart:
//!   - TCP (`imtcp`): 200, 800, 1 200, 1 600, 600, 2 000, 1 488, 2 000, 2 000;
//!   - TLS (`imtcp` with gtls): 2 000, 800, 2 000, 600, 1 744.
//!
//!   The window is what rsyslogd had read (its socket buffer and in-memory queue) but
//!   not yet written out, up to everything since the previous flush of its output file
//!   (here the whole 2 000 before the kill); TLS adds nothing measurable to it. The
//!   same test over RELP lost 0 of 6 000 every run. Use RELP where loss is not acceptable.
//! - UDP: nothing can be confirmed; [`Sender::test_connection`] says
//!   [`ConnectionCheck::Unconfirmable`].
//!
//! # Example
//!
//! Formatting and framing without a socket:
//!
//! ```
//! use syslog_transport::{Encoder, Facility, FormatConfig, Formatter, Framer, Framing, LineBreaks, Severity};
//! use time::macros::datetime;
//!
//! let config = FormatConfig {
//!     facility: Facility::Local4,
//!     severity: Severity::Notice,
//!     hostname: Some("collector-1".into()),
//!     ..FormatConfig::default()
//! };
//! let formatter = Formatter::new(&config)?;
//! let mut encoder = Encoder::new(formatter, Framer::new(Framing::OctetCounting, LineBreaks::Escape));
//! let mut wire = Vec::new();
//! encoder.encode(b"CEF:0|Vendor|Product|1.0|100|Test|5|", datetime!(2026-11-24 04:11:05.123456 UTC), &mut wire)?;
//! assert_eq!(
//!     String::from_utf8(wire)?,
//!     "100 <165>1 2026-11-24T04:11:05.123456Z collector-1 siembridge - - - CEF:0|Vendor|Product|1.0|100|Test|5|"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Sending a batch over TCP to a loopback receiver:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use bytes::Bytes;
//! use syslog_transport::{Protocol, Sender, TransportConfig};
//! use tokio::io::AsyncReadExt;
//!
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let mut config = TransportConfig::new(Protocol::Tcp, "127.0.0.1");
//! config.port = Some(listener.local_addr()?.port());
//! let mut sender = Sender::new(config)?;
//! let receiver = tokio::spawn(async move {
//!     let (mut stream, _) = listener.accept().await?;
//!     let mut received = String::new();
//!     stream.read_to_string(&mut received).await?;
//!     Ok::<_, std::io::Error>(received)
//! });
//! sender.send_batch(vec![Bytes::from_static(b"first"), Bytes::from_static(b"line\nbreak")]).await?;
//! assert_eq!(sender.counters().sent, 2);
//! sender.shutdown().await?;
//! let received = receiver.await??;
//! let lines: Vec<&str> = received.lines().collect();
//! assert_eq!(lines.len(), 2);
//! assert!(lines[0].starts_with("<14>1 ") && lines[0].ends_with(" siembridge - - - first"));
//! assert!(lines[1].ends_with(" siembridge - - - line\\nbreak"));
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod config;
mod encode;
mod error;
mod format;
mod frame;
mod queue;
pub mod receiver;
pub mod relp;
mod sender;
mod tls;

pub use config::{ConfigError, OversizePolicy, Protocol, TlsConfig, TransportConfig};
pub use encode::{EncodeError, Encoded, Encoder};
pub use error::{ConnectionCheck, SendError, TransportError};
pub use format::{
    Facility, FormatConfig, FormatError, Formatter, Record, SdElement, Severity, StructuredData,
    SyslogFormat, priority,
};
pub use frame::{DeframeError, Deframer, Framer, Framing, LineBreaks};
pub use queue::{Delivery, QueueWorker, SendQueue};
pub use sender::{CounterHandle, Counters, Sender};
pub use tls::TlsError;
