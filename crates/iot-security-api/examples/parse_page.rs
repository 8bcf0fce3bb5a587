//! Decodes one synthetic `device/list` page of 1000 detailed devices as the client does
//! (`Page::from_json`), ROUNDS times: `cargo run --release --features synthetic --example
//! parse_page -- [ROUNDS]` (10 by default). The page is fetched once over loopback first;
//! only `decode_pages` touches it afterwards, so `valgrind --tool=callgrind
//! --toggle-collect='parse_page::decode_pages'` counts the parse alone (scripts/bench
//! prints it as instructions per device).
#![allow(clippy::print_stdout)]

use std::time::Instant;

use iot_security_api::synthetic::{ACCESS_KEY, KEY_ID, TenantSpec, serve};
use iot_security_api::{Device, Page, PageError};

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

/// Decodes `page` `rounds` times, as the client does; how many devices that made.
#[inline(never)]
fn decode_pages(page: &[u8], rounds: usize) -> Result<usize, PageError> {
    let mut decoded = 0;
    for _ in 0..rounds {
        let page = Page::<Device>::from_json(std::hint::black_box(page))?;
        decoded += page.records.len();
        drop(std::hint::black_box(page));
    }
    Ok(decoded)
}
