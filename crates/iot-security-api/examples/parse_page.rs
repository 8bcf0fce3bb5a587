//! Decodes one synthetic `device/list` page of 1000 detailed devices, as the client does,
//! ROUNDS times: `cargo run --release --features synthetic --example parse_page --
//! [ROUNDS]` (10 by default). The page is fetched once over loopback first; only
//! `decode_pages` touches it afterwards, so `valgrind --tool=callgrind
//! --toggle-collect='parse_page::decode_pages'` counts the parse alone (scripts/bench
//! prints it as instructions per device).
#![allow(clippy::print_stdout)]

use std::time::Instant;

use iot_security_api::Device;
use iot_security_api::synthetic::{ACCESS_KEY, KEY_ID, TenantSpec, serve};

/// Devices on the page.
const PAGE: usize = 1000;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rounds: usize = match std::env::args().nth(1) {
        Some(rounds) => rounds.parse()?,
        None => 10,
    };
    let server = serve(TenantSpec {
        seed: 42,
        devices: 10_000,
        alerts: 0,
        vulnerabilities: 0,
    })
    .await?;
    let url = format!(
        "{}/pub/v4.0/device/list?customerid=synthetic&offset=0&pagelength={PAGE}&detail=true",
        server.base_url()
    );
    let page = reqwest::Client::new()
        .get(url)
        .header("X-Key-Id", KEY_ID)
        .header("X-Access-Key", ACCESS_KEY)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    server.shutdown().await;
    let started = Instant::now();
    let decoded = decode_pages(&page, rounds)?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{decoded} devices ({} bytes a page) in {seconds:.3} s: {:.0} devices/s",
        page.len(),
        decoded as f64 / seconds
    );
    Ok(())
}

/// Decodes `page` `rounds` times; how many devices that made.
#[inline(never)]
fn decode_pages(page: &[u8], rounds: usize) -> Result<usize, serde_json::Error> {
    #[derive(serde::Deserialize)]
    struct Page {
        devices: Vec<Device>,
    }
    let mut decoded = 0;
    for _ in 0..rounds {
        let page = std::hint::black_box(page);
        let page: Page = match std::str::from_utf8(page) {
            Ok(text) => serde_json::from_str(text)?,
            Err(_) => serde_json::from_slice(page)?,
        };
        decoded += page.devices.len();
        drop(std::hint::black_box(page));
    }
    Ok(decoded)
}
