//! The sender: owns one connection, reconnects with jittered exponential backoff, and
//! confirms every batch before it says `Ok`.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use time::OffsetDateTime;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpStream, UdpSocket, UnixDatagram, UnixStream};
use tokio::time::{Instant, timeout};

use crate::config::{ConfigError, Protocol, TransportConfig};
use crate::encode::{EncodeError, Encoded, Encoder};
use crate::error::{ConnectionCheck, SendError, TransportError};
use crate::relp::{self, RelpFrame};
use crate::tls::{self, TlsClient, TlsFailure};

/// Bytes gathered before one write to a stream.
const WRITE_CHUNK: usize = 256 * 1024;
/// How long a TLS 1.3 connection whose server asked for a client certificate waits after
/// the handshake for the server to object (it refuses a certificate, or its absence,
/// only after the client finished).
const TLS_SETTLE: Duration = Duration::from_millis(200);

trait Io: AsyncRead + AsyncWrite + Unpin + Send + Sync {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync> Io for T {}

enum Link {
    Stream(Box<dyn Io>),
    Relp {
        io: Box<dyn Io>,
        txnr: u32,
        incoming: BytesMut,
    },
    Udp(UdpSocket),
    UnixDatagram(UnixDatagram),
}

struct Connection {
    link: Link,
    peer: String,
}

/// Why a batch was not wholly delivered, and which of its messages were.
pub(crate) struct Undelivered {
    /// Per message, whether it was confirmed (shorter than the batch: the rest were not).
    pub(crate) confirmed: Vec<bool>,
    pub(crate) cause: TransportError,
}

/// Counts since the sender was built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    /// Messages confirmed (see [`Sender::send_batch`] for what confirmed means per
    /// transport).
    pub sent: u64,
    /// Messages sent again after a connection failed before they were confirmed
    /// (each counted once per extra attempt).
    pub resent: u64,
    /// Messages handed back unsent in a [`SendError`].
    pub dropped: u64,
    /// Messages cut to the size limit (`oversize = "truncate"`).
    pub truncated: u64,
    /// Connections established after an earlier one failed.
    pub reconnects: u64,
}

#[derive(Debug, Default)]
struct AtomicCounters {
    sent: AtomicU64,
    resent: AtomicU64,
    dropped: AtomicU64,
    truncated: AtomicU64,
    reconnects: AtomicU64,
}

impl AtomicCounters {
    fn add(counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// A cheap, cloneable view of a sender's [`Counters`], readable from another task.
#[derive(Debug, Clone)]
pub struct CounterHandle(Arc<AtomicCounters>);

impl CounterHandle {
    /// Counts messages handed back by a [`crate::SendQueue`] that never reached the sender.
    pub(crate) fn add_dropped(&self, n: usize) {
        AtomicCounters::add(&self.0.dropped, n);
    }

    /// The counts now.
    pub fn get(&self) -> Counters {
        let c = &self.0;
        Counters {
            sent: c.sent.load(Ordering::Relaxed),
            resent: c.resent.load(Ordering::Relaxed),
            dropped: c.dropped.load(Ordering::Relaxed),
            truncated: c.truncated.load(Ordering::Relaxed),
            reconnects: c.reconnects.load(Ordering::Relaxed),
        }
    }
}

/// Sends syslog messages over one connection. See the crate documentation.
pub struct Sender {
    config: TransportConfig,
    encoder: Encoder,
    tls: Option<TlsClient>,
    connection: Option<Connection>,
    /// Whether a connection existed before, so the next one counts as a reconnect.
    had_connection: bool,
    counters: Arc<AtomicCounters>,
    out: Vec<u8>,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("protocol", &self.config.protocol)
            .field("peer", &self.connection.as_ref().map(|c| &c.peer))
            .field("counters", &self.counters())
            .finish_non_exhaustive()
    }
}

impl Sender {
    /// Validates `config` and loads the TLS material. Connects lazily, on the first
    /// batch (use [`Sender::test_connection`] to check the receiver first).
    pub fn new(config: TransportConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let encoder = Encoder::from_config(&config)?;
        let tls = if config.protocol.is_tls() {
            Some(tls::client(&config.tls, &config.host)?)
        } else {
            None
        };
        Ok(Self {
            config,
            encoder,
            tls,
            connection: None,
            had_connection: false,
            counters: Arc::default(),
            out: Vec::with_capacity(WRITE_CHUNK + 8192),
        })
    }

    /// The configuration in effect.
    pub fn config(&self) -> &TransportConfig {
        &self.config
    }

    /// The counts now.
    pub fn counters(&self) -> Counters {
        self.counter_handle().get()
    }

    /// A handle that reads the counts from anywhere, also after the sender is gone.
    pub fn counter_handle(&self) -> CounterHandle {
        CounterHandle(Arc::clone(&self.counters))
    }

    /// Sends every payload of the batch, formatted with the configured header and
    /// framed. Returns `Ok` only once each one is confirmed:
    /// - TCP, TLS, Unix stream: written and flushed on a connection that had not been
    ///   closed by the peer before or after the write;
    /// - RELP: acknowledged by the receiver with `200`;
    /// - UDP, Unix datagram: handed to the kernel (UDP cannot confirm more).
    ///
    /// On a connection failure it reconnects with jittered exponential backoff and
    /// re-sends what was not confirmed, for up to `retry_timeout_ms`. Then, or at once for
    /// a message that can never be sent (over the limit with `oversize = "reject"`), it
    /// returns [`SendError`] holding every payload not confirmed.
    pub async fn send_batch(&mut self, payloads: Vec<Bytes>) -> Result<(), SendError> {
        match self.deliver(&payloads).await {
            Ok(()) => Ok(()),
            Err(failure) => Err(self.give_back(payloads, &failure.confirmed, failure.cause)),
        }
    }

    /// `send_batch` without taking the payloads, so that a caller that must survive being
    /// cancelled (the queue's worker) still holds them.
    pub(crate) async fn deliver(&mut self, payloads: &[Bytes]) -> Result<(), Undelivered> {
        if payloads.is_empty() {
            return Ok(());
        }
        if let Err(cause) = self.check_limits(payloads) {
            return Err(Undelivered {
                confirmed: Vec::new(),
                cause,
            });
        }
        let mut confirmed = vec![false; payloads.len()];
        let started = Instant::now();
        let budget = Duration::from_millis(self.config.retry_timeout_ms);
        let mut failures: u32 = 0;
        loop {
            let before = confirmed.iter().filter(|c| !**c).count();
            if failures > 0 {
                AtomicCounters::add(&self.counters.resent, before);
            }
            let result = self.attempt(payloads, &mut confirmed).await;
            let after = confirmed.iter().filter(|c| !**c).count();
            AtomicCounters::add(&self.counters.sent, before - after);
            let cause = match result {
                Ok(()) => return Ok(()),
                Err(cause) => cause,
            };
            self.connection = None;
            let delay = self.backoff(failures);
            if !cause.is_retryable() || started.elapsed() + delay > budget {
                return Err(Undelivered { confirmed, cause });
            }
            tracing::debug!(error = %cause, ?delay, "syslog send failed; reconnecting");
            tokio::time::sleep(delay).await;
            failures = failures.saturating_add(1);
        }
    }

    /// Checks that the receiver is there: connects (TCP), handshakes (TLS) and opens a
    /// session (RELP), then closes again. UDP cannot confirm anything and says so.
    pub async fn test_connection(&self) -> Result<ConnectionCheck, TransportError> {
        let connection = self.connect().await?;
        let peer = connection.peer.clone();
        match &connection.link {
            Link::Udp(_) => return Ok(ConnectionCheck::Unconfirmable { peer }),
            Link::UnixDatagram(_) => return Ok(ConnectionCheck::Confirmed { peer }),
            Link::Stream(_) | Link::Relp { .. } => {}
        }
        self.close(connection).await?;
        Ok(ConnectionCheck::Confirmed { peer })
    }

    /// Closes the connection gracefully: RELP `close` (awaiting its answer), TLS
    /// close_notify, TCP FIN. Every batch was already confirmed when `send_batch`
    /// returned, so nothing is left to flush but the close itself.
    pub async fn shutdown(mut self) -> Result<(), TransportError> {
        match self.connection.take() {
            Some(connection) => self.close(connection).await,
            None => Ok(()),
        }
    }

    pub(crate) fn give_back(
        &self,
        payloads: Vec<Bytes>,
        confirmed: &[bool],
        cause: TransportError,
    ) -> SendError {
        let unsent: Vec<Bytes> = payloads
            .into_iter()
            .enumerate()
            .filter(|(i, _)| !confirmed.get(*i).copied().unwrap_or(false))
            .map(|(_, p)| p)
            .collect();
        AtomicCounters::add(&self.counters.dropped, unsent.len());
        SendError { unsent, cause }
    }

    /// With `oversize = "reject"`, finds a message over the limit before anything is
    /// sent, so a batch is never half sent for that reason.
    fn check_limits(&self, payloads: &[Bytes]) -> Result<(), TransportError> {
        let now = OffsetDateTime::now_utc();
        let mut scratch = Vec::new();
        for (index, payload) in payloads.iter().enumerate() {
            scratch.clear();
            match self.encoder.message(payload, now, &mut scratch) {
                Ok(Encoded::Whole) => {}
                Ok(Encoded::Truncated { .. }) => AtomicCounters::add(&self.counters.truncated, 1),
                Err(EncodeError::Oversize { len, limit }) => {
                    return Err(TransportError::Oversize { index, len, limit });
                }
                Err(EncodeError::Format(source)) => {
                    return Err(TransportError::Format { index, source });
                }
            }
            if self.config.message_limit().is_none() {
                // Only a limit can reject; one formatting pass proves the header is fine.
                break;
            }
        }
        Ok(())
    }

    /// The delay before attempt `failures + 1`: exponential from the first delay up to
    /// the cap, then "equal jitter" (half fixed, half random) so that many senders do not
    /// reconnect in step.
    fn backoff(&self, failures: u32) -> Duration {
        let first = self.config.reconnect_first_delay_ms;
        let cap = self.config.reconnect_max_delay_ms;
        let exp = first.saturating_mul(1u64 << failures.min(32)).min(cap);
        let half = exp / 2;
        let jitter = if half > 0 {
            rand::random_range(0..=half)
        } else {
            0
        };
        Duration::from_millis(half + jitter)
    }

    async fn attempt(
        &mut self,
        payloads: &[Bytes],
        confirmed: &mut [bool],
    ) -> Result<(), TransportError> {
        if self.connection.is_none() {
            let connection = self.connect().await?;
            if self.had_connection {
                AtomicCounters::add(&self.counters.reconnects, 1);
            }
            self.had_connection = true;
            self.connection = Some(connection);
        }
        let Some(mut connection) = self.connection.take() else {
            return Ok(());
        };
        let result = match &mut connection.link {
            Link::Stream(io) => {
                self.send_stream(io, &connection.peer, payloads, confirmed)
                    .await
            }
            Link::Relp { io, txnr, incoming } => {
                self.send_relp(io, txnr, incoming, &connection.peer, payloads, confirmed)
                    .await
            }
            Link::Udp(socket) => {
                let socket = Datagram::Udp(socket);
                self.send_datagrams(&socket, &connection.peer, payloads, confirmed)
                    .await
            }
            Link::UnixDatagram(socket) => {
                let socket = Datagram::Unix(socket);
                self.send_datagrams(&socket, &connection.peer, payloads, confirmed)
                    .await
            }
        };
        if result.is_ok() {
            self.connection = Some(connection);
        }
        result
    }
}

enum Datagram<'a> {
    Udp(&'a UdpSocket),
    Unix(&'a UnixDatagram),
}

impl Datagram<'_> {
    async fn send(&self, datagram: &[u8]) -> std::io::Result<usize> {
        match self {
            Self::Udp(socket) => socket.send(datagram).await,
            Self::Unix(socket) => socket.send(datagram).await,
        }
    }
}

/// Polls the read side once without waiting: `Ok(false)` when the peer has closed
/// (EOF). Stray bytes from a syslog receiver mean nothing and are discarded.
fn still_open(io: &mut dyn Io) -> std::io::Result<bool> {
    let mut scratch = [0u8; 512];
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        let mut buf = ReadBuf::new(&mut scratch);
        match Pin::new(&mut *io).poll_read(&mut cx, &mut buf) {
            Poll::Pending => return Ok(true),
            Poll::Ready(Ok(())) if buf.filled().is_empty() => return Ok(false),
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => return Err(e),
        }
    }
}

/// Reads whatever is already there into `incoming` without waiting; `Ok(false)` on EOF.
fn read_ready(io: &mut dyn Io, incoming: &mut BytesMut) -> std::io::Result<bool> {
    let mut scratch = [0u8; 16 * 1024];
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        let mut buf = ReadBuf::new(&mut scratch);
        match Pin::new(&mut *io).poll_read(&mut cx, &mut buf) {
            Poll::Pending => return Ok(true),
            Poll::Ready(Ok(())) if buf.filled().is_empty() => return Ok(false),
            Poll::Ready(Ok(())) => incoming.extend_from_slice(buf.filled()),
            Poll::Ready(Err(e)) => return Err(e),
        }
    }
}

impl Sender {
    fn peer_label(&self) -> String {
        match self.config.protocol {
            Protocol::UnixDatagram | Protocol::UnixStream => {
                self.config.effective_path().display().to_string()
            }
            _ => format!("{}:{}", self.config.host, self.config.effective_port()),
        }
    }

    fn io_error(&self, peer: &str, e: &std::io::Error) -> TransportError {
        let peer = peer.to_owned();
        if let Some(failure) = tls::classify(e) {
            return match failure {
                TlsFailure::Untrusted(detail) => {
                    TransportError::CertificateUntrusted { peer, detail }
                }
                TlsFailure::NameMismatch(detail) => TransportError::NameMismatch {
                    peer,
                    server_name: self
                        .tls
                        .as_ref()
                        .map(|t| t.server_name.to_str().into_owned())
                        .unwrap_or_default(),
                    detail,
                },
                TlsFailure::Other(detail) => TransportError::Tls { peer, detail },
            };
        }
        match e.kind() {
            std::io::ErrorKind::BrokenPipe
            | std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::UnexpectedEof => TransportError::PeerClosed { peer },
            kind => TransportError::Io {
                peer,
                source: std::io::Error::new(kind, e.to_string()),
            },
        }
    }

    async fn resolve(&self) -> Result<Vec<std::net::SocketAddr>, TransportError> {
        let host = self.config.host.trim();
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<_> = tokio::net::lookup_host((bare, self.config.effective_port()))
            .await
            .map_err(|source| TransportError::Resolve {
                host: host.to_owned(),
                source,
            })?
            .collect();
        if addrs.is_empty() {
            return Err(TransportError::NoAddress {
                host: host.to_owned(),
            });
        }
        Ok(addrs)
    }

    async fn connect(&self) -> Result<Connection, TransportError> {
        let limit = self.config.connect_timeout();
        let timed_out = || TransportError::ConnectTimeout {
            peer: self.peer_label(),
            after: limit,
        };
        match self.config.protocol {
            Protocol::UnixDatagram => {
                let path = self.config.effective_path();
                let peer = path.display().to_string();
                let socket = UnixDatagram::unbound().map_err(|source| TransportError::Connect {
                    peer: peer.clone(),
                    source,
                })?;
                socket
                    .connect(&path)
                    .map_err(|e| connect_error(peer.clone(), e))?;
                Ok(Connection {
                    link: Link::UnixDatagram(socket),
                    peer,
                })
            }
            Protocol::UnixStream => {
                let path = self.config.effective_path();
                let peer = path.display().to_string();
                let stream = timeout(limit, UnixStream::connect(&path))
                    .await
                    .map_err(|_| timed_out())?
                    .map_err(|e| connect_error(peer.clone(), e))?;
                Ok(Connection {
                    link: Link::Stream(Box::new(stream)),
                    peer,
                })
            }
            Protocol::Udp => {
                let addr = self.resolve().await?[0];
                let peer = addr.to_string();
                let local: std::net::SocketAddr = if addr.is_ipv4() {
                    (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
                } else {
                    (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
                };
                let socket = UdpSocket::bind(local)
                    .await
                    .map_err(|e| connect_error(peer.clone(), e))?;
                socket
                    .connect(addr)
                    .await
                    .map_err(|e| connect_error(peer.clone(), e))?;
                Ok(Connection {
                    link: Link::Udp(socket),
                    peer,
                })
            }
            Protocol::Tcp | Protocol::Tls | Protocol::Relp | Protocol::RelpTls => {
                timeout(limit, self.connect_stream())
                    .await
                    .map_err(|_| timed_out())?
            }
        }
    }

    async fn connect_stream(&self) -> Result<Connection, TransportError> {
        let mut last_error = None;
        let mut connected = None;
        for addr in self.resolve().await? {
            match TcpStream::connect(addr).await {
                Ok(stream) => {
                    connected = Some((stream, addr.to_string()));
                    break;
                }
                Err(e) => last_error = Some(connect_error(addr.to_string(), e)),
            }
        }
        let Some((tcp, peer)) = connected else {
            return Err(last_error.unwrap_or_else(|| TransportError::NoAddress {
                host: self.config.host.clone(),
            }));
        };
        // Batches are written in large chunks; Nagle would only delay the last one.
        tcp.set_nodelay(true)
            .map_err(|e| self.io_error(&peer, &e))?;
        let mut certificate_asked = false;
        let mut io: Box<dyn Io> = match &self.tls {
            Some(tls) => {
                let requests_before = tls.identity.requests();
                let mut stream = tls
                    .connector
                    .connect(tls.server_name.clone(), tcp)
                    .await
                    .map_err(|e| self.io_error(&peer, &e))?;
                // Let rustls hold a whole write chunk of records (default 64 KiB), so a
                // chunk leaves in one vectored write instead of four.
                stream
                    .get_mut()
                    .1
                    .set_buffer_limit(Some(WRITE_CHUNK + 64 * 1024));
                certificate_asked = tls.identity.requests() != requests_before
                    && stream.get_ref().1.protocol_version()
                        == Some(rustls::ProtocolVersion::TLSv1_3);
                Box::new(stream)
            }
            None => Box::new(tcp),
        };
        if !self.config.protocol.is_relp() {
            if certificate_asked {
                self.settle_tls(&mut io, &peer).await?;
            }
            return Ok(Connection {
                link: Link::Stream(io),
                peer,
            });
        }
        let mut out = Vec::with_capacity(128);
        relp::write_frame(&mut out, 1, b"open", relp::OPEN_OFFERS);
        io.write_all(&out)
            .await
            .map_err(|e| self.io_error(&peer, &e))?;
        io.flush().await.map_err(|e| self.io_error(&peer, &e))?;
        let mut incoming = BytesMut::with_capacity(64 * 1024);
        // The connect timeout around this call bounds the wait, and names it.
        let patience = self.config.connect_timeout().saturating_mul(2);
        let answer = self
            .read_frame(&mut io, &mut incoming, &peer, patience)
            .await?;
        match (answer.txnr, &answer.command[..], answer.response()) {
            (1, b"rsp", Some((200, _))) => Ok(Connection {
                link: Link::Relp {
                    io,
                    txnr: 1,
                    incoming,
                },
                peer,
            }),
            (_, _, Some((code, text))) => Err(TransportError::RelpRefused {
                peer,
                code,
                text: String::from_utf8_lossy(text).into_owned(),
            }),
            _ => Err(TransportError::RelpProtocol {
                peer,
                detail: "the answer to `open` is not a response".to_owned(),
            }),
        }
    }

    /// A TLS 1.3 server that asked for a client certificate refuses it (or its absence)
    /// only after the client finished the handshake, so wait briefly for that refusal
    /// before calling the connection good. (RELP needs no wait: the `open` answer proves
    /// acceptance.)
    async fn settle_tls(&self, io: &mut Box<dyn Io>, peer: &str) -> Result<(), TransportError> {
        let mut byte = [0u8; 1];
        match timeout(TLS_SETTLE, io.read(&mut byte)).await {
            Err(_) | Ok(Ok(1..)) => Ok(()),
            Ok(Ok(0)) => Err(TransportError::PeerClosed {
                peer: peer.to_owned(),
            }),
            Ok(Err(e)) => Err(self.io_error(peer, &e)),
        }
    }

    /// Waits up to `limit` for one whole RELP frame.
    async fn read_frame(
        &self,
        io: &mut Box<dyn Io>,
        incoming: &mut BytesMut,
        peer: &str,
        limit: Duration,
    ) -> Result<RelpFrame, TransportError> {
        loop {
            match relp::parse_frame(incoming) {
                Ok(Some(frame)) => return Ok(frame),
                Ok(None) => {}
                Err(e) => {
                    return Err(TransportError::RelpProtocol {
                        peer: peer.to_owned(),
                        detail: e.to_string(),
                    });
                }
            }
            incoming.reserve(16 * 1024);
            let n = timeout(limit, io.read_buf(incoming))
                .await
                .map_err(|_| TransportError::AckTimeout {
                    peer: peer.to_owned(),
                    after: limit,
                })?
                .map_err(|e| self.io_error(peer, &e))?;
            if n == 0 {
                return Err(TransportError::PeerClosed {
                    peer: peer.to_owned(),
                });
            }
        }
    }

    async fn send_stream(
        &mut self,
        io: &mut Box<dyn Io>,
        peer: &str,
        payloads: &[Bytes],
        confirmed: &mut [bool],
    ) -> Result<(), TransportError> {
        // The liveness checks read tokio's cached readiness, which only the I/O driver
        // updates; a sender that never waits would not see a FIN that arrived since its
        // last wait and would write into a dead connection. Yielding lets the driver run.
        tokio::task::yield_now().await;
        match still_open(io.as_mut()) {
            Ok(true) => {}
            Ok(false) => {
                return Err(TransportError::PeerClosed {
                    peer: peer.to_owned(),
                });
            }
            Err(e) => return Err(self.io_error(peer, &e)),
        }
        let mut out = std::mem::take(&mut self.out);
        let result = self.write_all_framed(io, peer, payloads, &mut out).await;
        out.clear();
        self.out = out;
        result?;
        io.flush().await.map_err(|e| self.io_error(peer, &e))?;
        // A peer that died during the write may already have answered with RST or FIN.
        tokio::task::yield_now().await;
        match still_open(io.as_mut()) {
            Ok(true) => {}
            Ok(false) => {
                return Err(TransportError::PeerClosed {
                    peer: peer.to_owned(),
                });
            }
            Err(e) => return Err(self.io_error(peer, &e)),
        }
        confirmed.fill(true);
        Ok(())
    }

    async fn write_all_framed(
        &mut self,
        io: &mut Box<dyn Io>,
        peer: &str,
        payloads: &[Bytes],
        out: &mut Vec<u8>,
    ) -> Result<(), TransportError> {
        out.clear();
        for (index, payload) in payloads.iter().enumerate() {
            self.encoder
                .encode_now(payload, out)
                .map_err(|e| encode_error(index, e))?;
            if out.len() >= WRITE_CHUNK {
                io.write_all(out)
                    .await
                    .map_err(|e| self.io_error(peer, &e))?;
                out.clear();
            }
        }
        if !out.is_empty() {
            io.write_all(out)
                .await
                .map_err(|e| self.io_error(peer, &e))?;
        }
        Ok(())
    }

    async fn send_datagrams(
        &mut self,
        socket: &Datagram<'_>,
        peer: &str,
        payloads: &[Bytes],
        confirmed: &mut [bool],
    ) -> Result<(), TransportError> {
        let mut message = Vec::with_capacity(self.config.udp_max_message);
        for (index, payload) in payloads.iter().enumerate() {
            if confirmed[index] {
                continue;
            }
            message.clear();
            self.encoder
                .message_now(payload, &mut message)
                .map_err(|e| encode_error(index, e))?;
            socket
                .send(&message)
                .await
                .map_err(|e| self.io_error(peer, &e))?;
            confirmed[index] = true;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)] // the RELP session state travels as parts of `Link`
    async fn send_relp(
        &mut self,
        io: &mut Box<dyn Io>,
        txnr: &mut u32,
        incoming: &mut BytesMut,
        peer: &str,
        payloads: &[Bytes],
        confirmed: &mut [bool],
    ) -> Result<(), TransportError> {
        let pending: Vec<usize> = (0..payloads.len()).filter(|&i| !confirmed[i]).collect();
        let window_size = self.config.relp_window;
        let mut window: VecDeque<(u32, usize)> = VecDeque::with_capacity(window_size);
        let mut next = 0;
        let mut out = std::mem::take(&mut self.out);
        let mut message = Vec::with_capacity(1024);
        let result = loop {
            out.clear();
            let mut failed = None;
            while next < pending.len() && window.len() < window_size && out.len() < WRITE_CHUNK {
                let index = pending[next];
                message.clear();
                if let Err(e) = self.encoder.message_now(&payloads[index], &mut message) {
                    failed = Some(encode_error(index, e));
                    break;
                }
                *txnr = relp::next_txnr(*txnr);
                relp::write_frame(&mut out, *txnr, b"syslog", &message);
                window.push_back((*txnr, index));
                next += 1;
            }
            if let Some(e) = failed {
                break Err(e);
            }
            if !out.is_empty() {
                if let Err(e) = io.write_all(&out).await {
                    break Err(self.io_error(peer, &e));
                }
                if let Err(e) = io.flush().await {
                    break Err(self.io_error(peer, &e));
                }
            }
            if window.is_empty() {
                if next == pending.len() {
                    break Ok(());
                }
                continue;
            }
            let must_wait = window.len() >= window_size || next == pending.len();
            if must_wait {
                let limit = self.config.connect_timeout();
                incoming.reserve(64 * 1024);
                match timeout(limit, io.read_buf(incoming)).await {
                    Err(_) => {
                        break Err(TransportError::AckTimeout {
                            peer: peer.to_owned(),
                            after: limit,
                        });
                    }
                    Ok(Ok(0)) => {
                        break Err(TransportError::PeerClosed {
                            peer: peer.to_owned(),
                        });
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => break Err(self.io_error(peer, &e)),
                }
            } else {
                match read_ready(io.as_mut(), incoming) {
                    Ok(true) => {}
                    Ok(false) => {
                        break Err(TransportError::PeerClosed {
                            peer: peer.to_owned(),
                        });
                    }
                    Err(e) => break Err(self.io_error(peer, &e)),
                }
            }
            if let Err(e) = settle_acks(incoming, &mut window, confirmed, peer) {
                break Err(e);
            }
        };
        out.clear();
        self.out = out;
        result
    }

    async fn close(&self, connection: Connection) -> Result<(), TransportError> {
        let peer = connection.peer;
        match connection.link {
            Link::Stream(mut io) => io.shutdown().await.map_err(|e| self.io_error(&peer, &e)),
            Link::Relp {
                mut io,
                txnr,
                mut incoming,
            } => {
                let close_txnr = relp::next_txnr(txnr);
                let mut out = Vec::with_capacity(16);
                relp::write_frame(&mut out, close_txnr, b"close", b"");
                io.write_all(&out)
                    .await
                    .map_err(|e| self.io_error(&peer, &e))?;
                io.flush().await.map_err(|e| self.io_error(&peer, &e))?;
                loop {
                    let frame = self
                        .read_frame(&mut io, &mut incoming, &peer, self.config.connect_timeout())
                        .await?;
                    if frame.txnr == close_txnr && &frame.command[..] == b"rsp" {
                        break;
                    }
                }
                // The session is closed; a failing TCP shutdown now loses nothing.
                let _ = io.shutdown().await;
                Ok(())
            }
            Link::Udp(_) | Link::UnixDatagram(_) => Ok(()),
        }
    }
}

/// Applies every complete `rsp` in `incoming` to the window.
fn settle_acks(
    incoming: &mut BytesMut,
    window: &mut VecDeque<(u32, usize)>,
    confirmed: &mut [bool],
    peer: &str,
) -> Result<(), TransportError> {
    let protocol = |detail: String| TransportError::RelpProtocol {
        peer: peer.to_owned(),
        detail,
    };
    loop {
        let frame = match relp::parse_frame(incoming) {
            Ok(Some(frame)) => frame,
            Ok(None) => return Ok(()),
            Err(e) => return Err(protocol(e.to_string())),
        };
        match &frame.command[..] {
            b"rsp" => {
                // Receivers answer in order, so the match is almost always at the front.
                let Some(at) = window.iter().position(|(t, _)| *t == frame.txnr) else {
                    return Err(protocol(format!(
                        "response to unknown transaction {}",
                        frame.txnr
                    )));
                };
                let Some((_, index)) = window.remove(at) else {
                    return Err(protocol("window out of step".to_owned()));
                };
                match frame.response() {
                    Some((200, _)) => confirmed[index] = true,
                    Some((code, text)) => {
                        return Err(TransportError::RelpRefused {
                            peer: peer.to_owned(),
                            code,
                            text: String::from_utf8_lossy(text).into_owned(),
                        });
                    }
                    None => return Err(protocol("response without a code".to_owned())),
                }
            }
            b"serverclose" => {
                return Err(TransportError::PeerClosed {
                    peer: peer.to_owned(),
                });
            }
            other => {
                return Err(protocol(format!(
                    "unexpected command {:?}",
                    String::from_utf8_lossy(other)
                )));
            }
        }
    }
}

fn connect_error(peer: String, source: std::io::Error) -> TransportError {
    if source.kind() == std::io::ErrorKind::ConnectionRefused {
        TransportError::Refused { peer }
    } else {
        TransportError::Connect { peer, source }
    }
}

fn encode_error(index: usize, e: EncodeError) -> TransportError {
    match e {
        EncodeError::Format(source) => TransportError::Format { index, source },
        EncodeError::Oversize { len, limit } => TransportError::Oversize { index, len, limit },
    }
}
