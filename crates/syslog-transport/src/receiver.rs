//! A small loopback receiver for tests, benchmarks and demos: TCP, TLS, RELP (it acks),
//! UDP. It either collects every message (to compare with what was sent) or discards
//! them, reading large buffers so that it is never the bottleneck.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::{Bytes, BytesMut};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::config::Protocol;
use crate::frame::{Deframer, Framing};
use crate::relp;

/// Server-side TLS material (PEM files).
#[derive(Debug, Clone)]
pub struct ServerTls {
    /// The server's certificate chain.
    pub cert_file: PathBuf,
    /// The server's private key.
    pub key_file: PathBuf,
    /// When set, clients must present a certificate signed by one of these CAs.
    pub client_ca_file: Option<PathBuf>,
}

/// What the receiver does with messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Deframe and hand every message to [`Receiver::next_message`].
    Collect,
    /// Count bytes (and RELP messages, which it must parse to ack) and drop them.
    Discard,
}

/// How to run a [`Receiver`].
#[derive(Debug, Clone)]
pub struct ReceiverConfig {
    /// `Tcp`, `Tls`, `Relp`, `RelpTls` or `Udp`.
    pub protocol: Protocol,
    /// Stream framing for TCP and TLS.
    pub framing: Framing,
    /// TLS material for `Tls` and `RelpTls`.
    pub tls: Option<ServerTls>,
    /// Collect or discard.
    pub keep: Keep,
    /// Largest frame accepted.
    pub max_frame: usize,
}

/// The receiver cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ReceiverError {
    /// Binding the socket failed.
    #[error("cannot bind {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The TLS material is unusable.
    #[error("receiver TLS: {0}")]
    Tls(String),
    /// The protocol is not served here.
    #[error("the loopback receiver does not serve {0}")]
    Unsupported(Protocol),
}

#[derive(Debug, Default)]
struct Stats {
    bytes: AtomicU64,
    messages: AtomicU64,
    connections: AtomicU64,
}

/// A running receiver; dropping it stops it.
#[derive(Debug)]
pub struct Receiver {
    local_addr: SocketAddr,
    messages: mpsc::Receiver<Bytes>,
    stats: Arc<Stats>,
    task: JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send + Sync {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync> Io for T {}

impl Receiver {
    /// Binds `addr` (use port 0 for a free port) and starts serving.
    pub async fn start(config: ReceiverConfig, addr: SocketAddr) -> Result<Self, ReceiverError> {
        let (tx, messages) = mpsc::channel(64 * 1024);
        let stats = Arc::new(Stats::default());
        let bind_error = |source| ReceiverError::Bind { addr, source };
        let (local_addr, task) = match config.protocol {
            Protocol::Udp => {
                let socket = UdpSocket::bind(addr).await.map_err(bind_error)?;
                let local = socket.local_addr().map_err(bind_error)?;
                let task = tokio::spawn(serve_udp(socket, config, tx, Arc::clone(&stats)));
                (local, task)
            }
            Protocol::Tcp | Protocol::Tls | Protocol::Relp | Protocol::RelpTls => {
                let acceptor = match (&config.tls, config.protocol.is_tls()) {
                    (Some(tls), true) => Some(server_config(tls)?),
                    (None, true) => {
                        return Err(ReceiverError::Tls("no certificate configured".to_owned()));
                    }
                    _ => None,
                };
                let listener = TcpListener::bind(addr).await.map_err(bind_error)?;
                let local = listener.local_addr().map_err(bind_error)?;
                let task = tokio::spawn(serve_tcp(
                    listener,
                    acceptor,
                    config,
                    tx,
                    Arc::clone(&stats),
                ));
                (local, task)
            }
            other => return Err(ReceiverError::Unsupported(other)),
        };
        Ok(Self {
            local_addr,
            messages,
            stats,
            task,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The next collected message, in arrival order (per connection).
    pub async fn next_message(&mut self) -> Option<Bytes> {
        self.messages.recv().await
    }

    /// Bytes read so far.
    pub fn bytes_received(&self) -> u64 {
        self.stats.bytes.load(Ordering::Relaxed)
    }

    /// Messages deframed (collect mode) or acknowledged (RELP) so far.
    pub fn messages_received(&self) -> u64 {
        self.stats.messages.load(Ordering::Relaxed)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.stats.connections.load(Ordering::Relaxed)
    }
}

fn server_config(tls: &ServerTls) -> Result<Arc<rustls::ServerConfig>, ReceiverError> {
    let err = |what: &str, e: &dyn std::fmt::Display| ReceiverError::Tls(format!("{what}: {e}"));
    let certs = CertificateDer::pem_file_iter(&tls.cert_file)
        .map_err(|e| err("certificate", &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| err("certificate", &e))?;
    let key = PrivateKeyDer::from_pem_file(&tls.key_file).map_err(|e| err("key", &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| err("versions", &e))?;
    let builder = match &tls.client_ca_file {
        Some(path) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_file_iter(path).map_err(|e| err("client CA", &e))? {
                roots
                    .add(cert.map_err(|e| err("client CA", &e))?)
                    .map_err(|e| err("client CA", &e))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .map_err(|e| err("client verifier", &e))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let config = builder
        .with_single_cert(certs, key)
        .map_err(|e| err("certificate and key", &e))?;
    Ok(Arc::new(config))
}

async fn serve_udp(
    socket: UdpSocket,
    config: ReceiverConfig,
    tx: mpsc::Sender<Bytes>,
    stats: Arc<Stats>,
) {
    let mut buf = vec![0u8; 65_536];
    while let Ok(n) = socket.recv(&mut buf).await {
        stats.bytes.fetch_add(n as u64, Ordering::Relaxed);
        stats.messages.fetch_add(1, Ordering::Relaxed);
        if config.keep == Keep::Collect && tx.send(Bytes::copy_from_slice(&buf[..n])).await.is_err()
        {
            return;
        }
    }
}

async fn serve_tcp(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    config: ReceiverConfig,
    tx: mpsc::Sender<Bytes>,
    stats: Arc<Stats>,
) {
    // Connections live in this set, so stopping the receiver closes them all.
    let mut connections = tokio::task::JoinSet::new();
    while let Ok((stream, _)) = listener.accept().await {
        stats.connections.fetch_add(1, Ordering::Relaxed);
        while connections.try_join_next().is_some() {}
        let tls = tls.clone();
        let config = config.clone();
        let tx = tx.clone();
        let stats = Arc::clone(&stats);
        connections.spawn(async move {
            if let Err(e) = serve_connection(stream, tls, &config, &tx, &stats).await {
                tracing::debug!(error = %e, "loopback receiver connection ended");
            }
        });
    }
}

async fn serve_connection(
    stream: TcpStream,
    tls: Option<Arc<rustls::ServerConfig>>,
    config: &ReceiverConfig,
    tx: &mpsc::Sender<Bytes>,
    stats: &Stats,
) -> std::io::Result<()> {
    let _ = stream.set_nodelay(true);
    let io: Box<dyn Io> = match tls {
        Some(tls) if config.keep == Keep::Discard && !config.protocol.is_relp() => {
            return discard_tls(stream, tls, stats).await;
        }
        // rustls asks the socket for at most a few KiB per read; a large buffer below it
        // turns that into one system call per MiB.
        Some(tls) => Box::new(
            tokio_rustls::TlsAcceptor::from(tls)
                .accept(tokio::io::BufReader::with_capacity(1 << 20, stream))
                .await?,
        ),
        None => Box::new(stream),
    };
    if config.protocol.is_relp() {
        serve_relp(io, config, tx, stats).await
    } else {
        serve_stream(io, config, tx, stats).await
    }
}

async fn serve_stream(
    mut io: Box<dyn Io>,
    config: &ReceiverConfig,
    tx: &mpsc::Sender<Bytes>,
    stats: &Stats,
) -> std::io::Result<()> {
    let mut buf = BytesMut::with_capacity(1 << 20);
    let mut deframer = Deframer::new(config.framing, config.max_frame);
    loop {
        if config.keep == Keep::Discard {
            buf.clear();
        }
        buf.reserve(1 << 20);
        let n = io.read_buf(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        stats.bytes.fetch_add(n as u64, Ordering::Relaxed);
        if config.keep == Keep::Discard {
            continue;
        }
        while let Some(message) = deframer
            .next_message(&mut buf)
            .map_err(std::io::Error::other)?
        {
            stats.messages.fetch_add(1, Ordering::Relaxed);
            if tx.send(message).await.is_err() {
                return Ok(());
            }
        }
    }
}

async fn serve_relp(
    mut io: Box<dyn Io>,
    config: &ReceiverConfig,
    tx: &mpsc::Sender<Bytes>,
    stats: &Stats,
) -> std::io::Result<()> {
    let mut buf = BytesMut::with_capacity(1 << 20);
    let mut acks = Vec::with_capacity(64 * 1024);
    loop {
        buf.reserve(1 << 20);
        let n = io.read_buf(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        stats.bytes.fetch_add(n as u64, Ordering::Relaxed);
        acks.clear();
        let mut closing = false;
        while let Some(frame) = relp::parse_frame(&mut buf).map_err(std::io::Error::other)? {
            match &frame.command[..] {
                b"open" => {
                    let mut offer = b"200 OK\n".to_vec();
                    offer.extend_from_slice(relp::OPEN_OFFERS);
                    relp::write_frame(&mut acks, frame.txnr, b"rsp", &offer);
                }
                b"syslog" => {
                    stats.messages.fetch_add(1, Ordering::Relaxed);
                    if config.keep == Keep::Collect && tx.send(frame.data).await.is_err() {
                        return Ok(());
                    }
                    relp::write_frame(&mut acks, frame.txnr, b"rsp", b"200 OK");
                }
                b"close" => {
                    relp::write_frame(&mut acks, frame.txnr, b"rsp", b"");
                    relp::write_frame(&mut acks, 0, b"serverclose", b"");
                    closing = true;
                }
                _ => relp::write_frame(&mut acks, frame.txnr, b"rsp", b"500 unknown command"),
            }
        }
        if !acks.is_empty() {
            io.write_all(&acks).await?;
            io.flush().await?;
        }
        if closing {
            return io.shutdown().await;
        }
    }
}

/// TLS to discard, as cheaply as a TLS receiver can: whole socket reads of up to 1 MiB,
/// records decrypted where they lie (rustls's unbuffered API), plaintext counted and
/// dropped. The buffered API would copy every byte twice more (into its record buffer,
/// then out to the reader), which made this receiver, not the sender, the limit of the
/// TLS benchmark.
async fn discard_tls(
    mut stream: TcpStream,
    tls: Arc<rustls::ServerConfig>,
    stats: &Stats,
) -> std::io::Result<()> {
    use rustls::unbuffered::{ConnectionState, EncodeError, InsufficientSizeError};

    let mut session =
        rustls::server::UnbufferedServerConnection::new(tls).map_err(std::io::Error::other)?;
    let mut incoming = vec![0u8; 1 << 20];
    // Unprocessed bytes are `incoming[start..end]`.
    let (mut start, mut end) = (0, 0);
    let mut outgoing = vec![0u8; 16 * 1024];
    let mut outgoing_len = 0;
    loop {
        let status = session.process_tls_records(&mut incoming[start..end]);
        let mut wants_input = false;
        match status.state.map_err(std::io::Error::other)? {
            ConnectionState::ReadTraffic(mut traffic) => {
                while let Some(record) = traffic.next_record() {
                    let record = record.map_err(std::io::Error::other)?;
                    stats
                        .bytes
                        .fetch_add(record.payload.len() as u64, Ordering::Relaxed);
                }
            }
            ConnectionState::ReadEarlyData(mut early) => {
                while let Some(record) = early.next_record() {
                    let record = record.map_err(std::io::Error::other)?;
                    stats
                        .bytes
                        .fetch_add(record.payload.len() as u64, Ordering::Relaxed);
                }
            }
            ConnectionState::EncodeTlsData(mut handshake) => loop {
                match handshake.encode(&mut outgoing[outgoing_len..]) {
                    Ok(n) => {
                        outgoing_len += n;
                        break;
                    }
                    Err(EncodeError::InsufficientSize(InsufficientSizeError { required_size })) => {
                        outgoing.resize(outgoing_len + required_size, 0);
                    }
                    Err(e) => return Err(std::io::Error::other(e)),
                }
            },
            ConnectionState::TransmitTlsData(handshake) => {
                handshake.done();
                stream.write_all(&outgoing[..outgoing_len]).await?;
                outgoing_len = 0;
            }
            ConnectionState::BlockedHandshake | ConnectionState::WriteTraffic(_) => {
                wants_input = true;
            }
            ConnectionState::PeerClosed | ConnectionState::Closed => return Ok(()),
            other => {
                return Err(std::io::Error::other(format!(
                    "unexpected TLS state {other:?}"
                )));
            }
        }
        start += status.discard;
        if !wants_input {
            continue;
        }
        // The unprocessed tail is less than one record: move it to the front, then read.
        incoming.copy_within(start..end, 0);
        end -= start;
        start = 0;
        if end == incoming.len() {
            return Err(std::io::Error::other("TLS message larger than 1 MiB"));
        }
        let n = stream.read(&mut incoming[end..]).await?;
        if n == 0 {
            return Ok(());
        }
        end += n;
    }
}
