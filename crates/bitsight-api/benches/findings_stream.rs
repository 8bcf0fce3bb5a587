//! Streams 100,000 synthetic findings over loopback: the client's parse rate on one
//! core (the server runs on its own runtime thread).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use bitsight_api::synthetic::{PortfolioSpec, SyntheticPortfolio, serve};
use bitsight_api::{Client, FindingsQuery};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::TryStreamExt;
use time::macros::date;

const FINDINGS: usize = 100_000;

fn findings_stream(c: &mut Criterion) {
    let server_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let portfolio = SyntheticPortfolio::generate(PortfolioSpec {
        seed: 1,
        companies: 1,
        findings_per_company: FINDINGS,
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
    let query = FindingsQuery::default();

    let mut group = c.benchmark_group("bitsight");
    group.sample_size(10);
    group.throughput(Throughput::Elements(FINDINGS as u64));
    group.bench_function("findings_stream_100k", |b| {
        b.iter(|| {
            client_runtime.block_on(async {
                let count = client
                    .findings(&guid, &query)
                    .try_fold(0_usize, |n, finding| async move {
                        std::hint::black_box(finding.identity_ref());
                        Ok(n + 1)
                    })
                    .await
                    .unwrap();
                assert_eq!(count, FINDINGS);
            });
        });
    });
    // The light path: pages decoded as far as text, identity and dates.
    group.bench_function("findings_stream_light_100k", |b| {
        b.iter(|| {
            client_runtime.block_on(async {
                let count = client
                    .findings_pages(&guid, &query)
                    .try_fold(0_usize, |n, page| async move {
                        for finding in page.iter() {
                            std::hint::black_box((finding.identity(), finding.first_seen()));
                        }
                        Ok(n + page.len())
                    })
                    .await
                    .unwrap();
                assert_eq!(count, FINDINGS);
            });
        });
    });
    group.finish();
    drop(server);
}

criterion_group!(benches, findings_stream);
criterion_main!(benches);
