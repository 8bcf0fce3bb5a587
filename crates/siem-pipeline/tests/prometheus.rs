//! The Prometheus endpoint serves the delivery loop's metrics (its own process: the
//! recorder is global).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use siem_pipeline::delivery::{DeliveryOptions, Record, deliver};
use siem_pipeline::sink::WriterSink;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn serves_record_counters_on_the_listen_address() {
    // A free loopback port: bind, learn it, release it for the exporter.
    let listen = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    siem_pipeline::metrics::install_prometheus(listen).unwrap();

    let records =
        (0..5).map(|i| Ok::<_, Infallible>(Record::new("alerts", Bytes::from_static(b"x"), i)));
    let mut sink = WriterSink::new(tokio::io::sink(), "null");
    let options = DeliveryOptions {
        pipeline: "tenant-b".into(),
        ..DeliveryOptions::default()
    };
    deliver(
        futures::stream::iter(records),
        &mut sink,
        |_: &i32| Ok::<_, Infallible>(()),
        &options,
        &CancellationToken::new(),
    )
    .await
    .unwrap();

    let scrape = async {
        loop {
            // The listener starts in the background; retry until it answers.
            if let Ok(mut stream) = tokio::net::TcpStream::connect(listen).await {
                stream
                    .write_all(
                        b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                    )
                    .await
                    .unwrap();
                let mut response = String::new();
                stream.read_to_string(&mut response).await.unwrap();
                return response;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let response = tokio::time::timeout(Duration::from_secs(20), scrape)
        .await
        .unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.contains("siembridge_records_sent_total{pipeline=\"tenant-b\",type=\"alerts\"} 5"),
        "{response}"
    );
    assert!(
        response.contains("# HELP siembridge_records_fetched_total"),
        "{response}"
    );
}
