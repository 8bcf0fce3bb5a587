//! The bounded send queue: producers wait while it is full, batches keep the
//! `send_batch` contract (confirmed, or handed back whole with the cause), and closing
//! hands back what can no longer be sent.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use syslog_transport::receiver::{Keep, Receiver, ReceiverConfig};
use syslog_transport::{Framing, Protocol, SendQueue, Sender, TransportConfig, TransportError};
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(30);

fn config(port: u16, capacity: usize) -> TransportConfig {
    let mut config = TransportConfig::new(Protocol::Tcp, "127.0.0.1");
    config.port = Some(port);
    config.framing = Some(Framing::OctetCounting);
    config.queue_capacity = capacity;
    config.reconnect_first_delay_ms = 20;
    config.reconnect_max_delay_ms = 100;
    config.connect_timeout_ms = 5_000;
    config.retry_timeout_ms = 20_000;
    config
}

async fn collecting_receiver(port: u16) -> Receiver {
    Receiver::start(
        ReceiverConfig {
            protocol: Protocol::Tcp,
            framing: Framing::OctetCounting,
            tls: None,
            keep: Keep::Collect,
            max_frame: 1 << 20,
        },
        SocketAddr::from(([127, 0, 0, 1], port)),
    )
    .await
    .unwrap()
}

fn batch(tag: &str, count: usize) -> Vec<Bytes> {
    (0..count)
        .map(|i| Bytes::from(format!("{tag}-{i}")))
        .collect()
}

async fn receive_bodies(receiver: &mut Receiver, count: usize) -> Vec<String> {
    let mut bodies = Vec::with_capacity(count);
    for _ in 0..count {
        let message = timeout(LIMIT, receiver.next_message())
            .await
            .unwrap()
            .unwrap();
        let (_, body) = common::split_rfc5424(&message);
        bodies.push(String::from_utf8(body.to_vec()).unwrap());
    }
    bodies
}

#[tokio::test]
async fn a_full_queue_makes_the_producer_wait_until_batches_are_confirmed() {
    // Nothing listens yet: the first batch stays in the queue, retried, unconfirmed.
    let port = common::free_port();
    let (queue, worker) = SendQueue::start(Sender::new(config(port, 4)).unwrap());
    assert_eq!(queue.capacity(), 4);
    let first = timeout(LIMIT, queue.enqueue(batch("a", 3)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(queue.len(), 3);

    // 3 + 2 > 4: the next producer waits for room.
    let second = queue.enqueue(batch("b", 2));
    tokio::pin!(second);
    assert!(
        timeout(Duration::from_millis(300), &mut second)
            .await
            .is_err(),
        "a full queue took another batch"
    );
    assert_eq!(queue.len(), 3);

    // The receiver appears: the first batch is confirmed, which makes room.
    let mut receiver = collecting_receiver(port).await;
    let second = timeout(LIMIT, second).await.unwrap().unwrap();
    timeout(LIMIT, first.confirmed()).await.unwrap().unwrap();
    timeout(LIMIT, second.confirmed()).await.unwrap().unwrap();
    assert_eq!(
        receive_bodies(&mut receiver, 5).await,
        ["a-0", "a-1", "a-2", "b-0", "b-1"]
    );
    assert!(queue.is_empty());
    assert_eq!(queue.counters().sent, 5);

    queue.close();
    timeout(LIMIT, worker.join()).await.unwrap().unwrap();
    let late = batch("late", 2);
    let err = queue.send_batch(late.clone()).await.unwrap_err();
    assert!(matches!(err.cause, TransportError::QueueClosed), "{err}");
    assert_eq!(err.unsent, late);
    assert_eq!(queue.counters().dropped, 2);
}

#[tokio::test]
async fn a_batch_that_cannot_be_delivered_comes_back_whole() {
    let port = common::free_port();
    let mut config = config(port, 16);
    config.retry_timeout_ms = 300;
    let (queue, worker) = SendQueue::start(Sender::new(config).unwrap());
    let payloads = batch("lost", 5);
    let err = timeout(LIMIT, queue.send_batch(payloads.clone()))
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err.cause, TransportError::Refused { .. }), "{err}");
    assert_eq!(err.unsent, payloads);
    assert_eq!(queue.counters().dropped, 5);
    assert!(queue.is_empty(), "a failed batch must leave the queue");
    drop(queue);
    timeout(LIMIT, worker.join()).await.unwrap().unwrap();
}

#[tokio::test]
async fn closing_hands_back_a_waiting_batch_and_still_sends_the_queued_one() {
    let port = common::free_port();
    let (queue, worker) = SendQueue::start(Sender::new(config(port, 2)).unwrap());
    let queued = timeout(LIMIT, queue.enqueue(batch("queued", 2)))
        .await
        .unwrap()
        .unwrap();
    let waiting = {
        let queue = queue.clone();
        tokio::spawn(async move { queue.enqueue(batch("waiting", 1)).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    queue.close();
    let err = timeout(LIMIT, waiting).await.unwrap().unwrap().unwrap_err();
    assert!(matches!(err.cause, TransportError::QueueClosed), "{err}");
    assert_eq!(err.unsent, batch("waiting", 1));

    let mut receiver = collecting_receiver(port).await;
    timeout(LIMIT, queued.confirmed()).await.unwrap().unwrap();
    timeout(LIMIT, worker.join()).await.unwrap().unwrap();
    assert_eq!(
        receive_bodies(&mut receiver, 2).await,
        ["queued-0", "queued-1"]
    );
}

#[tokio::test]
async fn many_producers_share_the_queue_without_losing_a_message() {
    let port = common::free_port();
    let mut receiver = collecting_receiver(port).await;
    let (queue, worker) = SendQueue::start(Sender::new(config(port, 64)).unwrap());
    let producers: Vec<_> = (0..4)
        .map(|p| {
            let queue = queue.clone();
            tokio::spawn(async move {
                for b in 0..50 {
                    // Some batches are larger than the whole queue: they go alone.
                    let size = if b % 10 == 0 { 100 } else { 20 };
                    queue
                        .send_batch(batch(&format!("p{p}-b{b}"), size))
                        .await
                        .unwrap();
                    assert!(queue.len() <= 100, "the queue outgrew its bound");
                }
            })
        })
        .collect();
    let expected: usize = 4 * (5 * 100 + 45 * 20);
    let mut bodies = timeout(LIMIT, receive_bodies(&mut receiver, expected))
        .await
        .unwrap();
    for producer in producers {
        timeout(LIMIT, producer).await.unwrap().unwrap();
    }
    drop(queue);
    timeout(LIMIT, worker.join()).await.unwrap().unwrap();
    bodies.sort();
    bodies.dedup();
    assert_eq!(bodies.len(), expected, "messages lost or duplicated");
}
