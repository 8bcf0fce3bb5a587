//! Streams every device of a synthetic tenant over loopback HTTP and prints how many
//! arrived and how fast: `cargo run --release --features synthetic --example
//! stream_devices -- [DEVICES] [cached]` (200,000 by default). `scripts/bench` measures its
//! peak memory. With `cached`, the server renders every page once (a first, untimed
//! pass) and then serves them from memory, as the criterion bench does, so the timed
//! pass (`stream_all`, for `callgrind --toggle-collect`) is the client's work.
#![allow(clippy::print_stdout)]

use std::time::Instant;

use futures::StreamExt;
use iot_security_api::synthetic::{TenantSpec, serve};
use iot_security_api::{ApiError, Client, DeviceQuery};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let devices = match std::env::args().nth(1) {
        Some(count) => count.parse()?,
        None => 200_000,
    };
    let cached = std::env::args().nth(2).as_deref() == Some("cached");
    let server = serve(TenantSpec {
        seed: 42,
        devices,
        alerts: 0,
        vulnerabilities: 0,
    })
    .await?;
    let client = Client::new(server.client_config())?;
    if cached {
        server.cache_pages();
        stream_all(&client).await?;
    }
    let started = Instant::now();
    let received = stream_all(&client).await?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{received} devices in {seconds:.3} s: {:.0} records/s",
        received as f64 / seconds
    );
    server.shutdown().await;
    if received != devices {
        return Err(format!("expected {devices} devices, got {received}").into());
    }
    Ok(())
}

/// Streams every device; how many arrived.
#[inline(never)]
async fn stream_all(client: &Client) -> Result<u64, ApiError> {
    let mut stream = std::pin::pin!(client.devices(&DeviceQuery::default()));
    let mut received = 0u64;
    while let Some(device) = stream.next().await {
        std::hint::black_box(device?);
        received += 1;
    }
    Ok(received)
}
