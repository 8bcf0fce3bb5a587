//! Compile-time checks that a `Sender` can be shared between threads and driven from
//! a multi-threaded runtime (`tokio::spawn` needs `Send` futures).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use syslog_transport::{Protocol, Sender, TransportConfig};

fn assert_send_sync<T: Send + Sync>() {}
fn assert_send<T: Send>(_: &T) {}

#[test]
fn sender_is_send_and_sync() {
    assert_send_sync::<Sender>();
}

#[test]
fn sender_futures_are_send() {
    for protocol in [Protocol::Tcp, Protocol::Tls, Protocol::Relp, Protocol::Udp] {
        let mut sender = Sender::new(TransportConfig::new(protocol, "127.0.0.1")).unwrap();
        // The futures are only built, never polled: this checks their types.
        assert_send(&sender.test_connection());
        assert_send(&sender.send_batch(vec![Bytes::from_static(b"x")]));
        assert_send(&sender.shutdown());
    }
}

#[test]
fn send_queue_is_send_and_sync() {
    assert_send_sync::<syslog_transport::SendQueue>();
    assert_send_sync::<syslog_transport::Delivery>();
    assert_send_sync::<syslog_transport::QueueWorker>();
}
