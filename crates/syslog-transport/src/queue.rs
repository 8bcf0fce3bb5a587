//! A bounded queue of batches in front of one [`Sender`], shared by any number of
//! producers: a producer waits while the queue is full (backpressure), and each batch
//! still ends `Ok` only once confirmed, or comes back whole in a [`SendError`].

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::error::{SendError, TransportError};
use crate::sender::{CounterHandle, Counters, Sender};

type Reply = oneshot::Sender<Result<(), SendError>>;

/// A queued batch. Dropped unanswered (the queue closed before the worker took it, or
/// the worker stopped while sending it), it hands its payloads back itself, so no
/// producer ever loses a batch silently.
struct Job {
    payloads: Vec<Bytes>,
    reply: Option<Reply>,
    /// The batch's room in the queue, given back when the batch leaves it.
    _room: OwnedSemaphorePermit,
    /// Its message count, taken off `queued` when it leaves.
    size: usize,
    queued: Arc<AtomicUsize>,
    /// Where a batch handed back by the queue itself counts as dropped.
    counters: CounterHandle,
}

impl Job {
    fn answer(mut self, result: Result<(), SendError>) {
        let reply = self.reply.take();
        // Leave the queue first, so that a producer told "confirmed" finds the room.
        drop(self);
        if let Some(reply) = reply {
            // A producer that stopped waiting no longer wants the answer.
            let _ = reply.send(result);
        }
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        self.queued.fetch_sub(self.size, Ordering::Relaxed);
        if let Some(reply) = self.reply.take() {
            let unsent = std::mem::take(&mut self.payloads);
            self.counters.add_dropped(unsent.len());
            let _ = reply.send(Err(SendError {
                unsent,
                cause: TransportError::QueueClosed,
            }));
        }
    }
}

enum Command {
    Send(Job),
    Close,
}

/// The producer side of a bounded send queue: cheap to clone, one per producer task.
///
/// The queue holds at most `capacity` messages (the sender's `queue_capacity`, default
/// 4 096), counting those being sent. [`SendQueue::enqueue`] waits while the batch does
/// not fit, which is the producers' backpressure; a batch larger than the whole queue
/// waits until the queue is empty and then has it to itself. One worker task owns the
/// [`Sender`] and sends the batches in the order they were queued, each with the
/// `send_batch` contract: confirmed, or handed back with the cause.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use bytes::Bytes;
/// use syslog_transport::{Protocol, SendQueue, Sender, TransportConfig};
/// use tokio::io::AsyncReadExt;
///
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let mut config = TransportConfig::new(Protocol::Tcp, "127.0.0.1");
/// config.port = Some(listener.local_addr()?.port());
/// config.queue_capacity = 2;
/// let (queue, worker) = SendQueue::start(Sender::new(config)?);
/// let receiver = tokio::spawn(async move {
///     let (mut stream, _) = listener.accept().await?;
///     let mut received = String::new();
///     stream.read_to_string(&mut received).await?;
///     Ok::<_, std::io::Error>(received)
/// });
/// // Queue two batches without waiting for either (two messages fill the queue)...
/// let first = queue.enqueue(vec![Bytes::from_static(b"one")]).await?;
/// let second = queue.enqueue(vec![Bytes::from_static(b"two")]).await?;
/// // ...then learn that each was confirmed.
/// first.confirmed().await?;
/// second.confirmed().await?;
/// queue.close();
/// worker.join().await?;
/// assert_eq!(receiver.await??.lines().count(), 2);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct SendQueue {
    commands: mpsc::UnboundedSender<Command>,
    room: Arc<Semaphore>,
    capacity: usize,
    queued: Arc<AtomicUsize>,
    counters: CounterHandle,
}

/// A queued batch's outcome, to await when the producer needs it.
#[derive(Debug)]
#[must_use = "a delivery says whether the batch was confirmed"]
pub struct Delivery(oneshot::Receiver<Result<(), SendError>>);

impl Delivery {
    /// Waits until the batch is confirmed (`Ok`) or given up (`Err` holding every
    /// payload not confirmed, as [`Sender::send_batch`] does).
    pub async fn confirmed(self) -> Result<(), SendError> {
        // Every queued batch is answered, by the worker or by its own drop.
        self.0.await.unwrap_or_else(|_| {
            Err(SendError {
                unsent: Vec::new(),
                cause: TransportError::QueueClosed,
            })
        })
    }
}

/// The task that owns the [`Sender`] behind a [`SendQueue`].
#[derive(Debug)]
pub struct QueueWorker(JoinHandle<Result<(), TransportError>>);

impl QueueWorker {
    /// Waits until the queue is closed ([`SendQueue::close`], or every [`SendQueue`]
    /// dropped) and every queued batch answered, then shuts the sender down gracefully
    /// (RELP close, TLS close_notify) and returns how that went.
    pub async fn join(self) -> Result<(), TransportError> {
        self.0.await.unwrap_or(Err(TransportError::QueueClosed))
    }
}

impl SendQueue {
    /// Starts the worker task, which owns `sender`, on the current tokio runtime (call it
    /// from within one). The queue's capacity is the sender's `queue_capacity`.
    pub fn start(sender: Sender) -> (Self, QueueWorker) {
        let capacity = sender
            .config()
            .queue_capacity
            .clamp(1, Semaphore::MAX_PERMITS.min(u32::MAX as usize));
        let room = Arc::new(Semaphore::new(capacity));
        let (commands, receiver) = mpsc::unbounded_channel();
        let queue = Self {
            commands,
            room: Arc::clone(&room),
            capacity,
            queued: Arc::default(),
            counters: sender.counter_handle(),
        };
        let worker = tokio::spawn(work(sender, receiver, room));
        (queue, QueueWorker(worker))
    }

    /// Waits for room for the batch, queues it and returns its [`Delivery`]. Fails at
    /// once, handing the batch back, when the queue is closed.
    pub async fn enqueue(&self, payloads: Vec<Bytes>) -> Result<Delivery, SendError> {
        // At most `capacity`, which `start` keeps within u32.
        let wanted = u32::try_from(payloads.len().clamp(1, self.capacity)).unwrap_or(u32::MAX);
        let Ok(room) = Arc::clone(&self.room).acquire_many_owned(wanted).await else {
            self.counters.add_dropped(payloads.len());
            return Err(SendError {
                unsent: payloads,
                cause: TransportError::QueueClosed,
            });
        };
        let (reply, delivery) = oneshot::channel();
        let size = payloads.len();
        self.queued.fetch_add(size, Ordering::Relaxed);
        let job = Job {
            payloads,
            reply: Some(reply),
            _room: room,
            size,
            queued: Arc::clone(&self.queued),
            counters: self.counters.clone(),
        };
        // When the worker is gone the job comes back here and its drop answers the
        // delivery with the payloads.
        let _ = self.commands.send(Command::Send(job));
        Ok(Delivery(delivery))
    }

    /// Queues the batch (waiting for room) and waits for its outcome: `Ok` once every
    /// payload is confirmed, or a [`SendError`] holding every payload not confirmed.
    pub async fn send_batch(&self, payloads: Vec<Bytes>) -> Result<(), SendError> {
        self.enqueue(payloads).await?.confirmed().await
    }

    /// Closes the queue: batches already queued are still sent; new ones, and those
    /// waiting for room, are handed back with [`TransportError::QueueClosed`].
    pub fn close(&self) {
        if !self.room.is_closed() {
            self.room.close();
            let _ = self.commands.send(Command::Close);
        }
    }

    /// The most messages the queue holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Messages queued or being sent now (at most the capacity, or the size of the one
    /// batch larger than it).
    pub fn len(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// Whether no message is queued or being sent.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The sender's counts now.
    pub fn counters(&self) -> Counters {
        self.counters.get()
    }
}

async fn work(
    mut sender: Sender,
    mut commands: mpsc::UnboundedReceiver<Command>,
    room: Arc<Semaphore>,
) -> Result<(), TransportError> {
    while let Some(Command::Send(job)) = commands.recv().await {
        send_job(&mut sender, job).await;
    }
    // Closed, or every producer gone: send what was queued before the close. A batch
    // queued after this finds the channel gone and is handed back by its own drop.
    room.close();
    while let Ok(command) = commands.try_recv() {
        if let Command::Send(job) = command {
            send_job(&mut sender, job).await;
        }
    }
    drop(commands);
    sender.shutdown().await
}

async fn send_job(sender: &mut Sender, mut job: Job) {
    let result = match sender.deliver(&job.payloads).await {
        Ok(()) => Ok(()),
        Err(failure) => {
            let payloads = std::mem::take(&mut job.payloads);
            Err(sender.give_back(payloads, &failure.confirmed, failure.cause))
        }
    };
    job.answer(result);
}
