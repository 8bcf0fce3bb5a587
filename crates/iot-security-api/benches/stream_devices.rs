//! Streams 200,000 devices from a synthetic tenant over loopback in pages of 1000, rate
//! limit lifted: the client's end-to-end throughput (request, body, parse, dedupe), with
//! the pages rendered once beforehand and then served from the server's page cache, by a
//! runtime of its own (one thread), so the server's tasks never queue on the client's
//! workers.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::StreamExt;
use iot_security_api::synthetic::{TenantSpec, serve};
use iot_security_api::{Client, Device, DeviceQuery, Page};

const DEVICES: u64 = 200_000;

fn stream_devices(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = server_runtime
        .block_on(serve(TenantSpec {
            seed: 42,
            devices: DEVICES,
            alerts: 0,
            vulnerabilities: 0,
        }))
        .unwrap();
    let client = Client::new(server.client_config()).unwrap();
    // Render every page once, before measuring: the server then answers from memory, so
    // the figure is the client's (request, body, parse, dedupe), not the generator's.
    server.cache_pages();
    runtime.block_on(count_devices(&client));
    let mut group = c.benchmark_group("iot_devices");
    group.sample_size(10);
    group.throughput(Throughput::Elements(DEVICES));
    group.bench_function("stream_200k", |b| {
        b.iter(|| {
            runtime.block_on(count_devices(&client));
        });
    });
    group.finish();

    // The parse alone, as the client decodes each page, on one page already in memory.
    let page = runtime.block_on(async {
        let url = format!(
            "{}/pub/v4.0/device/list?customerid=synthetic&offset=0&pagelength=1000&detail=true",
            server.base_url()
        );
        reqwest::Client::new()
            .get(url)
            .header("X-Key-Id", iot_security_api::synthetic::KEY_ID)
            .header("X-Access-Key", iot_security_api::synthetic::ACCESS_KEY)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
    });
    let mut group = c.benchmark_group("iot_devices");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("parse_page_1000", |b| {
        b.iter(|| {
            let page = Page::<Device>::from_json(&page).unwrap();
            assert_eq!(page.records.len(), 1000);
            page
        });
    });
    group.finish();
    drop(server);
    drop(server_runtime);
}

/// Streams every device and checks that all arrived.
async fn count_devices(client: &Client) {
    let mut stream = std::pin::pin!(client.devices(&DeviceQuery::default()));
    let mut count = 0u64;
    while let Some(device) = stream.next().await {
        let device: Device = device.unwrap();
        std::hint::black_box(&device);
        count += 1;
    }
    assert_eq!(count, DEVICES);
}

criterion_group!(benches, stream_devices);
criterion_main!(benches);
