//! The at-least-once delivery loop: source -> batch -> sink -> confirmed -> checkpoint.
//!
//! [`deliver`] pulls records (each with the cursor that resumes right after it) from a
//! stream, batches them by count, bytes and age, sends each batch to a [`Sink`], and only
//! once the sink confirms calls the caller's commit with the cursor of the last confirmed
//! record. While a batch is in flight the next one fills from the source, so fetching and
//! sending overlap, yet at most two batches are ever held.
//!
//! The law, property-tested below: whatever the sink does, a committed cursor never passes
//! an unconfirmed record, and when `deliver` returns `Ok` every record was confirmed at
//! least once. A record can be delivered twice (a batch re-sent after a failure whose
//! first attempt in fact arrived), never zero times.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use time::OffsetDateTime;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::retry::RetryPolicy;
use crate::sink::{Sink, SinkFailure};

/// One encoded record and where the source resumes after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<C> {
    /// The record type (`devices`, `alerts`, `findings`), for counters and metrics.
    pub kind: &'static str,
    /// The encoded record, one line without its line ending.
    pub payload: Bytes,
    /// The cursor committed once this record and all before it are confirmed.
    pub cursor: C,
}

impl<C> Record<C> {
    /// A record of type `kind`.
    pub fn new(kind: &'static str, payload: Bytes, cursor: C) -> Self {
        Self {
            kind,
            payload,
            cursor,
        }
    }
}

/// How [`deliver`] batches and retries.
#[derive(Debug, Clone)]
pub struct DeliveryOptions {
    /// Send a batch once it holds this many records.
    pub max_batch_records: usize,
    /// Send a batch once it holds this many payload bytes.
    pub max_batch_bytes: usize,
    /// Send a non-empty batch once its first record waited this long.
    pub max_delay: Duration,
    /// Retries of a batch the sink handed back (the sink may retry inside, too).
    pub retry: RetryPolicy,
    /// Commit at most this often (zero: after every confirmed batch). A durable commit
    /// costs a few fsyncs; a bulk export may trade a wider re-delivery window after a
    /// crash for speed. The latest confirmed cursor is always committed before `deliver`
    /// returns, and while the source is idle once the interval has passed.
    pub commit_interval: Duration,
    /// Label of the `pipeline` metric dimension (a tenant, a company).
    pub pipeline: String,
    /// Live counters, shared with whoever shows progress; cloned handles see the same.
    pub counters: Counters,
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        Self {
            max_batch_records: 1000,
            max_batch_bytes: 4 * 1024 * 1024,
            max_delay: Duration::from_secs(1),
            retry: RetryPolicy::default(),
            commit_interval: Duration::ZERO,
            pipeline: "default".to_owned(),
            counters: Counters::default(),
        }
    }
}

/// Record counts of one type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TypeCounts {
    /// Records taken from the source.
    pub fetched: u64,
    /// Records the sink confirmed (a record re-sent after a failure counts once per
    /// confirmation).
    pub sent: u64,
    /// Records handed back by the sink and sent again.
    pub retried: u64,
    /// Records given up on (retries exhausted, a failure that cannot be retried).
    pub failed: u64,
}

/// A point-in-time copy of the counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    /// Counts per record type.
    pub per_type: BTreeMap<&'static str, TypeCounts>,
    /// When a batch was last confirmed.
    pub last_success: Option<OffsetDateTime>,
    /// Batches confirmed.
    pub batches: u64,
}

/// Live delivery counters; clones share them (for progress bars and status).
#[derive(Debug, Clone, Default)]
pub struct Counters(Arc<Mutex<CounterSnapshot>>);

impl Counters {
    /// A copy of the counters now.
    pub fn snapshot(&self) -> CounterSnapshot {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn update(&self, change: impl FnOnce(&mut CounterSnapshot)) {
        change(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner));
    }

    fn add(&self, pipeline: &str, kinds: &[&'static str], field: Field) {
        let mut runs: BTreeMap<&'static str, u64> = BTreeMap::new();
        for kind in kinds {
            *runs.entry(kind).or_default() += 1;
        }
        self.update(|snapshot| {
            for (kind, n) in &runs {
                let counts = snapshot.per_type.entry(kind).or_default();
                match field {
                    Field::Fetched => counts.fetched += n,
                    Field::Sent => counts.sent += n,
                    Field::Retried => counts.retried += n,
                    Field::Failed => counts.failed += n,
                }
            }
        });
        for (kind, n) in runs {
            crate::metrics::count_records(pipeline, kind, field.metric(), n);
        }
    }
}

#[derive(Clone, Copy)]
enum Field {
    Fetched,
    Sent,
    Retried,
    Failed,
}

impl Field {
    fn metric(self) -> &'static str {
        match self {
            Self::Fetched => crate::metrics::RECORDS_FETCHED,
            Self::Sent => crate::metrics::RECORDS_SENT,
            Self::Retried => crate::metrics::RECORDS_RETRIED,
            Self::Failed => crate::metrics::RECORDS_FAILED,
        }
    }
}

/// How a delivery run ended without error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The source ended and everything was confirmed.
    Completed,
    /// Shutdown was requested: the batch in flight was finished and committed. Records
    /// not yet confirmed (if shutdown came during a retry wait) are not committed and
    /// will be fetched again.
    Shutdown,
}

/// What a delivery run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    /// How it ended.
    pub outcome: Outcome,
    /// The counters at the end (of this run and any earlier run sharing them).
    pub counters: CounterSnapshot,
}

impl DeliveryReport {
    /// Records of type `kind` the sink confirmed.
    pub fn sent(&self, kind: &str) -> u64 {
        self.counters.per_type.get(kind).map_or(0, |c| c.sent)
    }
}

/// Why a delivery run stopped early. Everything confirmed before it was committed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError<E, CE> {
    /// The source failed (after the records fetched before it were delivered).
    #[error("source failed: {0}")]
    Source(#[source] E),
    /// The sink did not confirm a batch after the allowed retries, or failed in a way
    /// that retrying cannot fix.
    #[error(
        "sink {sink} failed after {attempts} attempt(s), {undelivered} record(s) not delivered: {failure}"
    )]
    Sink {
        /// The sink's description.
        sink: String,
        /// The last failure.
        #[source]
        failure: SinkFailure,
        /// Attempts made for the batch.
        attempts: u32,
        /// Records of the batch not confirmed.
        undelivered: usize,
    },
    /// The checkpoint commit failed (the records it covers were delivered and will be
    /// delivered again after a restart).
    #[error("checkpoint commit failed: {0}")]
    Commit(#[source] CE),
}

/// Delivers `source` to `sink`, committing cursors as batches are confirmed; see the
/// [module docs](self).
///
/// `commit` receives the cursor of the last confirmed record after each confirmation (or
/// partial confirmation). `shutdown` stops reading the source; the records already read
/// are sent and committed, and the run returns [`Outcome::Shutdown`]. The sink stays
/// open: the caller closes it (or delivers the next run to it).
pub async fn deliver<C, E, CE, St, S, F>(
    source: St,
    sink: &mut S,
    mut commit: F,
    options: &DeliveryOptions,
    shutdown: &CancellationToken,
) -> Result<DeliveryReport, DeliveryError<E, CE>>
where
    St: Stream<Item = Result<Record<C>, E>>,
    S: Sink + ?Sized,
    F: FnMut(&C) -> Result<(), CE>,
{
    let mut source = std::pin::pin!(source);
    let mut filler = Filler::new();
    // The latest confirmed cursor not yet committed (only with a commit interval).
    let mut pending: Option<C> = None;
    let mut last_commit = Instant::now();
    loop {
        // Fill until the batch is due.
        while !filler.batch_due(options) {
            let deadline = filler.deadline(options);
            let commit_due = pending
                .as_ref()
                .map(|_| last_commit + options.commit_interval);
            tokio::select! {
                biased;
                () = shutdown.cancelled(), if !filler.stopping => filler.stopping = true,
                item = source.next(), if filler.can_read(options) => filler.absorb(item),
                () = sleep_until(deadline), if deadline.is_some() => filler.deadline_passed = true,
                () = sleep_until(commit_due), if commit_due.is_some() => {
                    if let Some(cursor) = pending.take() {
                        commit(&cursor).map_err(DeliveryError::Commit)?;
                        last_commit = Instant::now();
                    }
                }
            }
        }
        if filler.batch.is_empty() {
            break;
        }
        let batch = std::mem::take(&mut filler.batch);
        filler.deadline_passed = false;
        filler.counted_fetched(options, &batch);

        // Send it while the next batch fills.
        let outcome = {
            let send = send_batch(&mut *sink, batch, options, shutdown);
            let mut send = std::pin::pin!(send);
            loop {
                tokio::select! {
                    biased;
                    outcome = &mut send => break outcome,
                    () = shutdown.cancelled(), if !filler.stopping => filler.stopping = true,
                    item = source.next(), if filler.can_read(options) => filler.absorb(item),
                }
            }
        };
        if let Some(cursor) = outcome.last_confirmed {
            pending = Some(cursor);
        }
        let last_batch = !matches!(outcome.result, BatchResult::Confirmed);
        if (last_batch || last_commit.elapsed() >= options.commit_interval)
            && let Some(cursor) = pending.take()
        {
            commit(&cursor).map_err(DeliveryError::Commit)?;
            last_commit = Instant::now();
        }
        match outcome.result {
            BatchResult::Confirmed => {}
            BatchResult::Abandoned => {
                return Ok(finish(Outcome::Shutdown, options));
            }
            BatchResult::Failed {
                failure,
                attempts,
                undelivered,
            } => {
                return Err(DeliveryError::Sink {
                    sink: sink.describe(),
                    failure,
                    attempts,
                    undelivered,
                });
            }
        }
    }
    if let Some(cursor) = pending.take() {
        commit(&cursor).map_err(DeliveryError::Commit)?;
    }
    if let Some(error) = filler.source_error {
        return Err(DeliveryError::Source(error));
    }
    let outcome = if filler.stopping {
        Outcome::Shutdown
    } else {
        Outcome::Completed
    };
    Ok(finish(outcome, options))
}

fn finish(outcome: Outcome, options: &DeliveryOptions) -> DeliveryReport {
    DeliveryReport {
        outcome,
        counters: options.counters.snapshot(),
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Records gathered for the next send.
struct Batch<C> {
    payloads: Vec<Bytes>,
    cursors: Vec<C>,
    kinds: Vec<&'static str>,
    bytes: usize,
    opened: Option<Instant>,
}

impl<C> Default for Batch<C> {
    fn default() -> Self {
        Self {
            payloads: Vec::new(),
            cursors: Vec::new(),
            kinds: Vec::new(),
            bytes: 0,
            opened: None,
        }
    }
}

impl<C> Batch<C> {
    fn is_empty(&self) -> bool {
        self.payloads.is_empty()
    }

    fn is_full(&self, options: &DeliveryOptions) -> bool {
        self.payloads.len() >= options.max_batch_records.max(1)
            || self.bytes >= options.max_batch_bytes
    }
}

/// The source side of the loop: the batch being filled and what the source said.
struct Filler<C, E> {
    batch: Batch<C>,
    source_done: bool,
    source_error: Option<E>,
    stopping: bool,
    deadline_passed: bool,
}

impl<C, E> Filler<C, E> {
    fn new() -> Self {
        Self {
            batch: Batch::default(),
            source_done: false,
            source_error: None,
            stopping: false,
            deadline_passed: false,
        }
    }

    fn can_read(&self, options: &DeliveryOptions) -> bool {
        !self.source_done && !self.stopping && !self.batch.is_full(options)
    }

    fn deadline(&self, options: &DeliveryOptions) -> Option<Instant> {
        self.batch.opened.map(|opened| opened + options.max_delay)
    }

    /// Whether the fill phase is over: a batch to send, or nothing more to read.
    fn batch_due(&self, options: &DeliveryOptions) -> bool {
        let nothing_more = self.source_done || self.stopping;
        if self.batch.is_empty() {
            return nothing_more;
        }
        nothing_more
            || self.batch.is_full(options)
            || self.deadline_passed
            || self
                .deadline(options)
                .is_some_and(|deadline| Instant::now() >= deadline)
    }

    fn absorb(&mut self, item: Option<Result<Record<C>, E>>) {
        match item {
            Some(Ok(record)) => {
                if self.batch.opened.is_none() {
                    self.batch.opened = Some(Instant::now());
                }
                self.batch.bytes += record.payload.len();
                self.batch.payloads.push(record.payload);
                self.batch.cursors.push(record.cursor);
                self.batch.kinds.push(record.kind);
            }
            Some(Err(error)) => {
                self.source_error = Some(error);
                self.source_done = true;
            }
            None => self.source_done = true,
        }
    }

    fn counted_fetched(&self, options: &DeliveryOptions, batch: &Batch<C>) {
        options
            .counters
            .add(&options.pipeline, &batch.kinds, Field::Fetched);
    }
}

struct BatchOutcome<C> {
    /// The cursor of the last record confirmed, when any was.
    last_confirmed: Option<C>,
    result: BatchResult,
}

enum BatchResult {
    Confirmed,
    Abandoned,
    Failed {
        failure: SinkFailure,
        attempts: u32,
        undelivered: usize,
    },
}

/// Sends one batch, re-sending what the sink hands back, until confirmed, out of retries,
/// or shut down during a wait.
async fn send_batch<C, S: Sink + ?Sized>(
    sink: &mut S,
    batch: Batch<C>,
    options: &DeliveryOptions,
    shutdown: &CancellationToken,
) -> BatchOutcome<C> {
    let Batch {
        mut payloads,
        mut cursors,
        kinds,
        ..
    } = batch;
    let total = payloads.len();
    let mut confirmed = 0usize;
    let mut retries = 0u32;
    let result = loop {
        let attempt = std::mem::take(&mut payloads);
        let attempted = attempt.len();
        let (failure, undelivered) = match sink.send(attempt).await {
            Ok(()) => {
                confirm(options, &kinds[confirmed..total]);
                confirmed = total;
                break BatchResult::Confirmed;
            }
            Err(error) => error.into_parts(),
        };
        // The sink hands back a suffix; a longer one than it was given would be a sink bug,
        // so trust at most what was sent.
        let now_confirmed = attempted.saturating_sub(undelivered.len());
        if now_confirmed > 0 {
            confirm(options, &kinds[confirmed..confirmed + now_confirmed]);
        }
        confirmed += now_confirmed;
        if confirmed == total {
            // An error that hands nothing back still confirmed everything.
            tracing::warn!(sink = %sink.describe(), error = %failure, "Sink reported an error but confirmed every record.");
            break BatchResult::Confirmed;
        }
        let remaining = &kinds[confirmed..total];
        if !failure.is_retryable() || retries >= options.retry.max_retries {
            options
                .counters
                .add(&options.pipeline, remaining, Field::Failed);
            break BatchResult::Failed {
                failure,
                attempts: retries + 1,
                undelivered: remaining.len(),
            };
        }
        let delay = options.retry.delay(retries, failure.retry_after());
        tracing::warn!(
            sink = %sink.describe(),
            error = %failure,
            records = remaining.len(),
            retry_in = ?delay,
            "Sink did not confirm the batch, retrying."
        );
        tokio::select! {
            () = shutdown.cancelled() => break BatchResult::Abandoned,
            () = tokio::time::sleep(delay) => {}
        }
        options
            .counters
            .add(&options.pipeline, remaining, Field::Retried);
        retries += 1;
        payloads = undelivered;
    };
    let last_confirmed = confirmed.checked_sub(1).and_then(|last| {
        cursors.truncate(last + 1);
        cursors.pop()
    });
    BatchOutcome {
        last_confirmed,
        result,
    }
}

fn confirm(options: &DeliveryOptions, kinds: &[&'static str]) {
    options.counters.add(&options.pipeline, kinds, Field::Sent);
    let now = OffsetDateTime::now_utc();
    options.counters.update(|snapshot| {
        snapshot.last_success = Some(now);
        snapshot.batches += 1;
    });
    crate::metrics::mark_success(&options.pipeline, now);
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::convert::Infallible;

    use proptest::prelude::*;

    use super::*;
    use crate::sink::SinkError;

    /// What the fake sink does on one call to `send`.
    #[derive(Debug, Clone, Copy)]
    enum Behaviour {
        Accept,
        /// Confirm this many records of the attempt (capped), hand back the rest.
        Fail {
            confirm: usize,
            retryable: bool,
        },
    }

    #[derive(Default)]
    struct FakeSink {
        script: VecDeque<Behaviour>,
        delivered: Vec<Bytes>,
        calls: usize,
    }

    #[async_trait::async_trait]
    impl Sink for FakeSink {
        async fn send(&mut self, mut batch: Vec<Bytes>) -> Result<(), SinkError> {
            self.calls += 1;
            match self.script.pop_front().unwrap_or(Behaviour::Accept) {
                Behaviour::Accept => {
                    self.delivered.extend(batch);
                    Ok(())
                }
                Behaviour::Fail { confirm, retryable } => {
                    let rest = batch.split_off(confirm.min(batch.len()));
                    self.delivered.extend(batch);
                    let failure = if retryable {
                        SinkFailure::Io {
                            target: "fake".into(),
                            source: std::io::Error::other("flaky"),
                        }
                    } else {
                        SinkFailure::Closed
                    };
                    Err(SinkError::new(failure, rest))
                }
            }
        }
        async fn flush(&mut self) -> Result<(), SinkFailure> {
            Ok(())
        }
        async fn close(&mut self) -> Result<(), SinkFailure> {
            Ok(())
        }
        fn describe(&self) -> String {
            "fake".into()
        }
    }

    fn payload(n: usize) -> Bytes {
        Bytes::from(n.to_string())
    }

    fn source(n: usize) -> impl Stream<Item = Result<Record<usize>, Infallible>> {
        futures::stream::iter((0..n).map(|i| {
            Ok(Record::new(
                if i % 2 == 0 { "even" } else { "odd" },
                payload(i),
                i,
            ))
        }))
    }

    fn fast_options(batch: usize, retries: u32) -> DeliveryOptions {
        DeliveryOptions {
            max_batch_records: batch,
            max_delay: Duration::from_millis(5),
            retry: RetryPolicy {
                max_retries: retries,
                initial_backoff: Duration::ZERO,
                max_backoff: Duration::ZERO,
            },
            ..DeliveryOptions::default()
        }
    }

    fn run<T>(future: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
            .block_on(async {
                tokio::time::timeout(Duration::from_secs(20), future)
                    .await
                    .unwrap()
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// For any failure pattern: commits never pass an unconfirmed record, commits only
        /// move forward, and `Ok` means every record was delivered at least once.
        #[test]
        fn commits_never_pass_an_unconfirmed_record(
            records in 0usize..60,
            batch in 1usize..12,
            retries in 0u32..4,
            commit_every_ms in prop_oneof![Just(0u64), 1u64..3],
            script in proptest::collection::vec(
                prop_oneof![
                    3 => Just(Behaviour::Accept),
                    2 => (0usize..8, proptest::bool::weighted(0.9))
                        .prop_map(|(confirm, retryable)| Behaviour::Fail { confirm, retryable }),
                ],
                0..30,
            ),
        ) {
            let mut sink = FakeSink { script: script.into(), ..FakeSink::default() };
            let mut committed: Vec<usize> = Vec::new();
            let options = DeliveryOptions {
                commit_interval: Duration::from_millis(commit_every_ms),
                ..fast_options(batch, retries)
            };
            let result = run(deliver(
                source(records),
                &mut sink,
                |cursor: &usize| { committed.push(*cursor); Ok::<_, Infallible>(()) },
                &options,
                &CancellationToken::new(),
            ));
            let delivered: std::collections::BTreeSet<Bytes> = sink.delivered.iter().cloned().collect();
            for window in committed.windows(2) {
                prop_assert!(window[0] < window[1], "commits went backwards: {committed:?}");
            }
            if let Some(last) = committed.last() {
                for i in 0..=*last {
                    prop_assert!(delivered.contains(&payload(i)), "committed {last} but record {i} was never delivered");
                }
            }
            match result {
                Ok(report) => {
                    prop_assert_eq!(report.outcome, Outcome::Completed);
                    for i in 0..records {
                        prop_assert!(delivered.contains(&payload(i)), "record {i} lost");
                    }
                    prop_assert_eq!(committed.last().copied(), records.checked_sub(1));
                    let sent: u64 = report.counters.per_type.values().map(|c| c.sent).sum();
                    prop_assert!(sent >= records as u64);
                }
                Err(DeliveryError::Sink { .. }) => {
                    let snapshot = options.counters.snapshot();
                    let failed: u64 = snapshot.per_type.values().map(|c| c.failed).sum();
                    prop_assert!(failed > 0);
                }
                Err(other) => prop_assert!(false, "unexpected error {other}"),
            }
        }
    }

    #[test]
    fn batches_by_count_and_counts_per_type() {
        let mut sink = FakeSink::default();
        let mut committed = Vec::new();
        let options = fast_options(4, 0);
        let report = run(deliver(
            source(10),
            &mut sink,
            |cursor: &usize| {
                committed.push(*cursor);
                Ok::<_, Infallible>(())
            },
            &options,
            &CancellationToken::new(),
        ))
        .unwrap();
        assert_eq!(sink.calls, 3);
        assert_eq!(committed, vec![3, 7, 9]);
        insta::assert_debug_snapshot!(report.counters.per_type);
        assert!(report.counters.last_success.is_some());
    }

    #[test]
    fn a_slow_source_is_flushed_after_max_delay() {
        let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Record<usize>, Infallible>>(4);
        let stream = tokio_stream_from(receiver);
        let mut sink = FakeSink::default();
        let mut committed = Vec::new();
        let options = fast_options(100, 0);
        let shutdown = CancellationToken::new();
        run(async {
            let feeder = async {
                sender
                    .send(Ok(Record::new("x", payload(0), 0)))
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(50)).await;
                sender
                    .send(Ok(Record::new("x", payload(1), 1)))
                    .await
                    .unwrap();
                drop(sender);
            };
            let delivery = deliver(
                stream,
                &mut sink,
                |cursor: &usize| {
                    committed.push(*cursor);
                    Ok::<_, Infallible>(())
                },
                &options,
                &shutdown,
            );
            let (_, report) = tokio::join!(feeder, delivery);
            report.unwrap();
        });
        // The first record went out alone, on its deadline, before the second existed.
        assert_eq!(committed, vec![0, 1]);
    }

    #[test]
    fn shutdown_finishes_the_batch_in_flight_and_commits() {
        let shutdown = CancellationToken::new();
        let endless = futures::stream::iter(0..)
            .map(|i| Ok::<_, Infallible>(Record::new("x", payload(i), i)));
        let mut sink = FakeSink::default();
        let mut committed = Vec::new();
        let options = fast_options(10, 0);
        let report = run(async {
            let trigger = shutdown.clone();
            let mut commit = |cursor: &usize| {
                committed.push(*cursor);
                if *cursor >= 29 {
                    trigger.cancel();
                }
                Ok::<_, Infallible>(())
            };
            deliver(endless, &mut sink, &mut commit, &options, &shutdown).await
        })
        .unwrap();
        assert_eq!(report.outcome, Outcome::Shutdown);
        let last = *committed.last().unwrap();
        assert_eq!(
            sink.delivered.len(),
            last + 1,
            "everything read was delivered and committed"
        );
    }

    #[test]
    fn source_errors_come_after_what_was_fetched_before_them() {
        let items: Vec<Result<Record<usize>, &str>> = vec![
            Ok(Record::new("x", payload(0), 0)),
            Ok(Record::new("x", payload(1), 1)),
            Err("page 3 is truncated JSON"),
        ];
        let mut sink = FakeSink::default();
        let mut committed = Vec::new();
        let error = run(deliver(
            futures::stream::iter(items),
            &mut sink,
            |cursor: &usize| {
                committed.push(*cursor);
                Ok::<_, Infallible>(())
            },
            &fast_options(10, 0),
            &CancellationToken::new(),
        ))
        .unwrap_err();
        assert_eq!(committed, vec![1]);
        assert_eq!(error.to_string(), "source failed: page 3 is truncated JSON");
    }

    #[test]
    fn a_permanent_failure_stops_without_committing_past_it() {
        let mut sink = FakeSink {
            script: vec![
                Behaviour::Accept,
                Behaviour::Fail {
                    confirm: 1,
                    retryable: false,
                },
            ]
            .into(),
            ..FakeSink::default()
        };
        let mut committed = Vec::new();
        let error = run(deliver(
            source(10),
            &mut sink,
            |cursor: &usize| {
                committed.push(*cursor);
                Ok::<_, Infallible>(())
            },
            &fast_options(3, 5),
            &CancellationToken::new(),
        ))
        .unwrap_err();
        assert_eq!(committed, vec![2, 3]);
        insta::assert_snapshot!(error.to_string(), @"sink fake failed after 1 attempt(s), 2 record(s) not delivered: the sink is closed");
    }

    fn tokio_stream_from<T: Send + 'static>(
        mut receiver: tokio::sync::mpsc::Receiver<T>,
    ) -> impl Stream<Item = T> {
        futures::stream::poll_fn(move |cx| receiver.poll_recv(cx))
    }
}
