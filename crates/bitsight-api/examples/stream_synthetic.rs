//! Serves a synthetic portfolio of 100,000 findings on loopback and streams them all
//! through the client once; reports the count and rate on stderr. `scripts/bench`
//! runs it under `peak_rss_mib`. Arguments: the number of findings, then `light` to
//! stream light pages (`Client::findings_pages`) instead of typed findings.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::time::Instant;

use bitsight_api::synthetic::{PortfolioSpec, SyntheticPortfolio, serve};
use bitsight_api::{Client, FindingsQuery};
use futures::TryStreamExt;
use time::macros::date;

fn main() {
    let findings: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let light = std::env::args().nth(2).is_some_and(|mode| mode == "light");
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let portfolio = SyntheticPortfolio::generate(PortfolioSpec {
        seed: 1,
        companies: 1,
        findings_per_company: findings,
        first_date: date!(2023 - 01 - 01),
        last_date: date!(2024 - 12 - 31),
    });
    let guid = portfolio.company_guids()[0].clone();
    let server = server_runtime.block_on(serve(portfolio)).unwrap();
    let client_runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = Client::new(server.client_config()).unwrap();
    let started = Instant::now();
    let query = FindingsQuery::default();
    let count = if light {
        client_runtime
            .block_on(client.findings_pages(&guid, &query).try_fold(
                0_usize,
                |n, page| async move {
                    for finding in page.iter() {
                        std::hint::black_box((finding.identity(), finding.first_seen()));
                    }
                    Ok(n + page.len())
                },
            ))
            .unwrap()
    } else {
        client_runtime
            .block_on(
                client
                    .findings(&guid, &query)
                    .try_fold(0_usize, |n, finding| async move {
                        std::hint::black_box(finding.identity_ref());
                        Ok(n + 1)
                    }),
            )
            .unwrap()
    };
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "streamed {count} findings in {seconds:.3} s ({:.0}/s)",
        count as f64 / seconds
    );
    assert_eq!(count, findings);
}
