//! Throughput of the delivery loop and of the HTTP sinks' request building.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::convert::Infallible;
use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use siem_pipeline::checkpoint::CheckpointStore;
use siem_pipeline::delivery::{DeliveryOptions, Record, deliver};
use siem_pipeline::sink::{FileSink, FileSinkOptions, Sink, WriterSink};
use tokio_util::sync::CancellationToken;

const RECORDS: usize = 100_000;

/// A CEF line of typical size (about 400 bytes).
fn record(n: usize) -> Bytes {
    Bytes::from(format!(
        "CEF:0|PaloAltoNetworks|PANWIOT|1.0|asset|Device {n}|1|deviceExternalId=dev-{n:08} \
         dvchost=host-{n}.corp.example dvc=10.0.{}.{} dvcmac=00:11:22:33:44:55 \
         cs1Label=category cs1=Camera cs2Label=profile cs2=Axis Network Camera \
         cs3Label=vendor cs3=Axis Communications cs4Label=model cs4=P3245-LVE \
         cs5Label=os cs5=Linux cs6Label=site cs6=HQ-Building-2 msg=first seen on port 443",
        n / 256 % 256,
        n % 256
    ))
}

fn delivery(c: &mut Criterion) {
    let records: Vec<Bytes> = (0..RECORDS).map(record).collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let state = tempfile::tempdir().unwrap();
    let store = CheckpointStore::open(state.path()).unwrap();
    let mut group = c.benchmark_group("delivery");
    group.throughput(Throughput::Elements(RECORDS as u64));
    group.sample_size(10);
    // Source -> batch -> sink -> commit, with a sink that discards and a commit that only
    // counts: the loop's own cost per record.
    group.bench_function("loop_to_null_sink_100k", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let source = futures::stream::iter(
                    records
                        .iter()
                        .enumerate()
                        .map(|(i, r)| Ok::<_, Infallible>(Record::new("devices", r.clone(), i))),
                );
                let mut sink = WriterSink::new(tokio::io::sink(), "null");
                let mut commits = 0usize;
                let report = deliver(
                    source,
                    &mut sink,
                    |_: &usize| {
                        commits += 1;
                        Ok::<_, Infallible>(())
                    },
                    &DeliveryOptions::default(),
                    &CancellationToken::new(),
                )
                .await
                .unwrap();
                black_box((report, commits));
            });
        });
    });
    // The same with a durable checkpoint commit (fsync, rename, directory fsync) per
    // 1000-record batch, as the daemons run it.
    group.bench_function("loop_with_checkpoints_100k", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let source = futures::stream::iter(
                    records
                        .iter()
                        .enumerate()
                        .map(|(i, r)| Ok::<_, Infallible>(Record::new("devices", r.clone(), i))),
                );
                let mut sink = WriterSink::new(tokio::io::sink(), "null");
                let report = deliver(
                    source,
                    &mut sink,
                    |cursor: &usize| store.commit("bench", cursor),
                    &DeliveryOptions::default(),
                    &CancellationToken::new(),
                )
                .await
                .unwrap();
                black_box(report);
            });
        });
    });
    // 100 batches of 1000 records appended to a file, each batch fsynced.
    group.bench_function("file_sink_100k", |b| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.log");
        b.iter(|| {
            runtime.block_on(async {
                let mut sink = FileSink::open(FileSinkOptions {
                    path: path.clone(),
                    rotate_bytes: Some(64 << 20),
                    keep_files: 1,
                })
                .await
                .unwrap();
                for batch in records.chunks(1000) {
                    sink.send(batch.to_vec()).await.unwrap();
                }
                sink.close().await.unwrap();
            });
        });
    });
    group.finish();
}

criterion_group!(benches, delivery);
criterion_main!(benches);
