//! One export run of one tenant: the API streams -> filters -> CEF -> the delivery loop,
//! with checkpoints committed only for records the sink confirmed.
//!
//! One producer task per record type reads its stream and sends encoded records into a
//! bounded channel; the delivery loop reads that channel. Each record is numbered as the
//! loop takes it, and the progress it stands for (how many records of its type were read,
//! or which records it and the filtered ones before it were) waits in the tracker
//! until the loop commits its number. Then the bulk offsets or the incremental cursors
//! move, and are handed to a [`CommitWorker`], which writes them to the state directory
//! on a thread of its own: the two fsyncs of a commit (milliseconds each, far more on a
//! busy disk) never stall the runtime's one thread, where they starved everything else,
//! the progress ticker included. The commit is written while the next batch fills, and
//! that batch is sent only once the commit is durable ([`DurableBeforeSend`]), so a
//! crash re-delivers at most the batch in flight, as DESIGN.md requires; the run
//! returns only once every commit is durable.
//!
//! # Memory budget
//!
//! A run holds, whatever the inventory's size (page of `page_size` = 1000 records,
//! about 1 MiB of JSON for devices with details):
//! - one list page being decoded and the next one prefetched by the client, with the
//!   records decoded from the first (types are exported one after another, so only one
//!   list is paged at a time): about 3 x page bytes, 3-4 MiB;
//! - [`ENCODED_AHEAD`] encoded records waiting for the delivery loop (about 0.5 KiB each);
//! - the delivery loop's two batches (the one in flight and the one filling), at most
//!   2 x `batch_records` records or 2 x 4 MiB;
//! - one progress entry per record not yet confirmed (a few words each);
//! - the checkpoint bodies queued for the commit worker (one per checkpoint name, a few
//!   hundred bytes) and its thread's 256 KiB stack.
//!
//! The binary runs the export on a current-thread runtime: one malloc arena, no worker
//! stacks, and no cross-thread frees that leave pages stranded in another arena.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use futures::StreamExt;
use iot_security_api::{
    Alert, AlertQuery, Client, Cursor, Device, DeviceQuery, Record as ApiRecord, Records,
    Vulnerability, VulnerabilityQuery,
};
use serde::{Deserialize, Serialize};
use siem_pipeline::checkpoint::{CheckpointStore, CommitWorker};
use siem_pipeline::delivery::{DeliveryOptions, DeliveryReport, Outcome, Record, deliver};
use siem_pipeline::sink::{Sink, SinkError, SinkFailure};
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::cef::Mapper;
use crate::config::{AlertSeverity, ExportConfig};

/// A record type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Devices (`device/list`).
    Devices,
    /// Security alerts (`alert/list`).
    Alerts,
    /// Vulnerability instances (`vulnerability/list`).
    Vulnerabilities,
}

impl Kind {
    /// Every type, in export order.
    pub const ALL: [Kind; 3] = [Kind::Devices, Kind::Alerts, Kind::Vulnerabilities];

    /// The name used in flags, state files, logs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Self::Devices => "devices",
            Self::Alerts => "alerts",
            Self::Vulnerabilities => "vulnerabilities",
        }
    }

    /// Reads a type name (singular or plural).
    pub fn parse(name: &str) -> Option<Kind> {
        match name.trim() {
            "devices" | "device" => Some(Self::Devices),
            "alerts" | "alert" => Some(Self::Alerts),
            "vulnerabilities" | "vulnerability" => Some(Self::Vulnerabilities),
            _ => None,
        }
    }

    fn cursor_checkpoint(self) -> String {
        format!("cursor-{}", self.name())
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which kind of run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The whole inventory, resumable from its offsets; optionally throttled to
    /// `batch` records every `every`.
    Bulk {
        /// Throttle: at most this many records, then a pause.
        throttle: Option<(usize, Duration)>,
    },
    /// What changed since the per-type cursors.
    Incremental,
}

/// Bulk progress of one type, as committed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkProgress {
    /// Records read from the API (in its order) whose delivery is confirmed, filtered
    /// ones included.
    pub read: u64,
    /// The type was exported to its end.
    pub done: bool,
}

/// The `bulk` checkpoint.
pub type BulkState = BTreeMap<Kind, BulkProgress>;

/// Encoded records the producer may run ahead of the delivery loop: enough to keep the
/// loop fed while the producer decodes the next page, small next to a batch.
pub const ENCODED_AHEAD: usize = 256;

/// Checkpoint name of the bulk offsets.
const BULK_CHECKPOINT: &str = "bulk";

/// What a run did, per type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Records confirmed by the sink.
    pub sent: BTreeMap<Kind, u64>,
    /// Records read but not exported (filters).
    pub skipped: BTreeMap<Kind, u64>,
    /// Whether shutdown cut the run short.
    pub interrupted: bool,
}

impl RunSummary {
    /// Records sent, all types.
    pub fn total_sent(&self) -> u64 {
        self.sent.values().sum()
    }
}

/// How far the paging of one list got, for a progress display.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListCount {
    /// The list's position: records read from its start, filtered ones included (a
    /// resumed bulk run starts counting at the offset of the page it resumes in, and
    /// counts the confirmed records it passes over in that page).
    pub read: u64,
    /// The API's count of the list (its `total`), once a page reported one: an estimate
    /// (the set changes while it is paged).
    pub total: Option<u64>,
    /// The list was read to its end.
    pub done: bool,
    /// When its first record was read.
    pub started: Option<std::time::Instant>,
    /// Records confirmed by the bulk run this one resumes (0 otherwise): part of `read`,
    /// not of this run's rate.
    pub resumed_from: u64,
}

/// Per-type [`ListCount`]s of a run, shared between the run and a progress display.
#[derive(Debug, Clone, Default)]
pub struct ListProgress(Arc<Mutex<BTreeMap<Kind, ListCount>>>);

impl ListProgress {
    /// The count of `kind` now.
    pub fn get(&self, kind: Kind) -> ListCount {
        lock(&self.0).get(&kind).copied().unwrap_or_default()
    }

    fn update(&self, kind: Kind, change: impl FnOnce(&mut ListCount)) {
        change(lock(&self.0).entry(kind).or_default());
    }
}

/// Everything a run needs about its tenant.
pub struct TenantRun<'a> {
    /// The tenant's name (metric label).
    pub name: &'a str,
    /// Its API client.
    pub client: &'a Client,
    /// Its locked state directory.
    pub store: &'a Arc<CheckpointStore>,
    /// What to export and how.
    pub export: &'a ExportConfig,
    /// The CEF mapper.
    pub mapper: Mapper,
    /// Live counters, for progress.
    pub counters: siem_pipeline::delivery::Counters,
    /// Live list counts and totals, for progress.
    pub lists: ListProgress,
}

/// One encoded record and the progress it stands for.
struct Item {
    kind: Kind,
    payload: Bytes,
    progress: Progress,
}

enum Progress {
    /// Records of the type read so far, this one included.
    Read(u64),
    /// This record and the filtered ones read just before it.
    Seen(Vec<Seen>),
}

/// A record's identity and cursor time, for [`Cursor::advance`].
#[derive(Debug, Clone)]
struct Seen {
    id: Option<String>,
    at: Option<OffsetDateTime>,
}

impl Seen {
    fn of<R: ApiRecord>(record: &R) -> Self {
        Self {
            id: record.id().map(str::to_owned),
            at: record.cursor_time(),
        }
    }
}

impl ApiRecord for Seen {
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    fn cursor_time(&self) -> Option<OffsetDateTime> {
        self.at
    }
}

/// How a producer ended: the progress not carried by any record (read count, or
/// filtered records after the last exported one).
enum Finish {
    Read(u64),
    Seen(Vec<Seen>),
}

/// Progress waiting for its record's confirmation, and the committed state.
struct Tracker {
    next_seq: u64,
    pending: VecDeque<(u64, Kind, Progress)>,
    bulk: BulkState,
    cursors: BTreeMap<Kind, Cursor>,
}

impl Tracker {
    fn take(&mut self, item: Item) -> Record<u64> {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.pending.push_back((seq, item.kind, item.progress));
        Record::new(item.kind.name(), item.payload, seq)
    }

    /// Applies the progress of every record up to `seq`; returns the types that moved.
    fn confirm(&mut self, seq: u64) -> Vec<Kind> {
        let mut moved = Vec::new();
        while self.pending.front().is_some_and(|(s, _, _)| *s <= seq) {
            let Some((_, kind, progress)) = self.pending.pop_front() else {
                break;
            };
            self.apply(kind, progress_into_finish(progress));
            if !moved.contains(&kind) {
                moved.push(kind);
            }
        }
        moved
    }

    fn apply(&mut self, kind: Kind, finish: Finish) {
        match finish {
            Finish::Read(read) => self.bulk.entry(kind).or_default().read = read,
            Finish::Seen(seen) => {
                let cursor = self
                    .cursors
                    .entry(kind)
                    .or_insert_with(|| Cursor::new(None));
                for record in &seen {
                    cursor.advance(record);
                }
            }
        }
    }

    /// Queues the checkpoints of `kinds` on the worker (written off the runtime's thread).
    fn save(&self, commits: &CommitWorker, kinds: &[Kind], tenant: &str) -> anyhow::Result<()> {
        if kinds.is_empty() {
            return Ok(());
        }
        if kinds.iter().any(|kind| self.bulk.contains_key(kind)) {
            commits.commit(BULK_CHECKPOINT, &self.bulk)?;
        }
        for kind in kinds {
            if let Some(cursor) = self.cursors.get(kind) {
                commits.commit(&kind.cursor_checkpoint(), cursor)?;
                if let Some(since) = cursor.since {
                    let lag = (OffsetDateTime::now_utc() - since).max(time::Duration::ZERO);
                    siem_pipeline::metrics::record_lag(
                        tenant,
                        kind.name(),
                        lag.try_into().unwrap_or_default(),
                    );
                }
            }
        }
        Ok(())
    }
}

fn progress_into_finish(progress: Progress) -> Finish {
    match progress {
        Progress::Read(read) => Finish::Read(read),
        Progress::Seen(seen) => Finish::Seen(seen),
    }
}

/// Loads the bulk offsets, starting over when every asked type was done.
pub fn load_bulk(store: &CheckpointStore, kinds: &[Kind]) -> anyhow::Result<BulkState> {
    let mut state: BulkState = store.load(BULK_CHECKPOINT)?.unwrap_or_default();
    let all_done = kinds
        .iter()
        .all(|kind| state.get(kind).is_some_and(|p| p.done));
    if all_done {
        for kind in kinds {
            state.insert(*kind, BulkProgress::default());
        }
    }
    Ok(state)
}

/// Loads a type's incremental cursor; a new one starts `first_fetch` ago (or at the
/// beginning).
pub fn load_cursor(
    store: &CheckpointStore,
    kind: Kind,
    first_fetch: Option<Duration>,
) -> anyhow::Result<Cursor> {
    Ok(match store.load(&kind.cursor_checkpoint())? {
        Some(cursor) => cursor,
        None => Cursor::new(first_fetch.map(|back| OffsetDateTime::now_utc() - back)),
    })
}

/// A sink that sends a batch only once every commit handed to the worker is durable:
/// the fsyncs of batch N's commit overlap the filling of batch N+1, yet a crash while
/// N+1 is in flight finds N's checkpoint on disk and re-delivers N+1 alone.
struct DurableBeforeSend<'a> {
    inner: &'a mut dyn Sink,
    commits: &'a CommitWorker,
}

#[async_trait::async_trait]
impl Sink for DurableBeforeSend<'_> {
    async fn send(&mut self, batch: Vec<Bytes>) -> Result<(), SinkError> {
        if let Err(error) = self.commits.flush().await {
            let failure = SinkFailure::Io {
                target: "the state directory".to_owned(),
                source: std::io::Error::other(error),
            };
            return Err(SinkError::new(failure, batch));
        }
        self.inner.send(batch).await
    }

    async fn flush(&mut self) -> Result<(), SinkFailure> {
        self.inner.flush().await
    }

    async fn close(&mut self) -> Result<(), SinkFailure> {
        self.inner.close().await
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}

/// Exports `kinds` of one tenant to `sink`.
pub async fn run(
    tenant: &TenantRun<'_>,
    mode: Mode,
    kinds: &[Kind],
    sink: &mut dyn Sink,
    shutdown: &CancellationToken,
) -> anyhow::Result<RunSummary> {
    let mut tracker = Tracker {
        next_seq: 0,
        pending: VecDeque::new(),
        bulk: BulkState::new(),
        cursors: BTreeMap::new(),
    };
    let mut active = Vec::new();
    match mode {
        Mode::Bulk { .. } => {
            tracker.bulk = load_bulk(tenant.store, kinds)?;
            // Save a reset at once, so a crash before the first commit does not resume
            // the finished export it replaced.
            tenant.store.commit(BULK_CHECKPOINT, &tracker.bulk)?;
            for kind in kinds {
                if tracker.bulk.get(kind).is_some_and(|p| p.done) {
                    tracing::info!(tenant = tenant.name, kind = %kind, "Already exported by the bulk run being resumed.");
                } else {
                    active.push(*kind);
                }
            }
        }
        Mode::Incremental => {
            for kind in kinds {
                let cursor = load_cursor(
                    tenant.store,
                    *kind,
                    tenant
                        .export
                        .first_fetch
                        .map(siem_pipeline::config::Duration::get),
                )?;
                tracker.cursors.insert(*kind, cursor);
                active.push(*kind);
            }
        }
    }

    let (sender, mut receiver) = mpsc::channel::<anyhow::Result<Item>>(ENCODED_AHEAD);
    let finished: Arc<Mutex<BTreeMap<Kind, (Finish, u64)>>> = Arc::default();
    let mut producers = Vec::new();
    for kind in &active {
        let producer = Producer {
            kind: *kind,
            client: tenant.client.clone(),
            mapper: tenant.mapper,
            alert_severities: tenant.export.alert_severities.iter().copied().collect(),
            vulnerability_severities: tenant
                .export
                .vulnerability_severities
                .iter()
                .copied()
                .collect(),
            skip_unpublished: tenant.export.skip_unpublished_alerts,
            sender: sender.clone(),
            finished: Arc::clone(&finished),
            lists: tenant.lists.clone(),
            shutdown: shutdown.clone(),
        };
        let start = match mode {
            Mode::Bulk { throttle } => Start::Bulk {
                skip: tracker.bulk.get(kind).map_or(0, |p| p.read),
                throttle,
            },
            Mode::Incremental => Start::Incremental(
                tracker
                    .cursors
                    .get(kind)
                    .cloned()
                    .unwrap_or_else(|| Cursor::new(None)),
            ),
        };
        producers.push((producer, start));
    }
    drop(sender);
    // The types one after another: one list page in flight at a time (see the budget).
    let producing = tokio::spawn(async move {
        for (producer, start) in producers {
            if !producer.run(start).await {
                break;
            }
        }
    });

    let tracker = Arc::new(Mutex::new(tracker));
    let source = {
        let tracker = Arc::clone(&tracker);
        futures::stream::poll_fn(move |cx| receiver.poll_recv(cx))
            .map(move |item| item.map(|item| lock(&tracker).take(item)))
    };
    let options = DeliveryOptions {
        max_batch_records: tenant.export.batch_records,
        pipeline: tenant.name.to_owned(),
        counters: tenant.counters.clone(),
        ..DeliveryOptions::default()
    };
    // Durable commits (two fsyncs each) run on the worker's thread: this thread keeps
    // encoding, sending and ticking meanwhile.
    let commits = CommitWorker::start(Arc::clone(tenant.store))?;
    let commit = |seq: &u64| -> anyhow::Result<()> {
        let mut tracker = lock(&tracker);
        let moved = tracker.confirm(*seq);
        tracker.save(&commits, &moved, tenant.name)
    };
    let mut sink = DurableBeforeSend {
        inner: sink,
        commits: &commits,
    };
    let result = deliver(source, &mut sink, commit, &options, shutdown).await;
    producing.abort();
    // Whatever happened, what was confirmed is made durable before the run returns.
    let flushed = commits.flush().await;
    let report: DeliveryReport = result.map_err(|error| anyhow::anyhow!("{error:#}"))?;
    flushed?;

    let mut summary = RunSummary {
        interrupted: report.outcome == Outcome::Shutdown,
        ..RunSummary::default()
    };
    let finished = std::mem::take(&mut *lock(&finished));
    if report.outcome == Outcome::Completed {
        // Everything read was confirmed: the types whose streams ended are done.
        {
            let mut tracker = lock(&tracker);
            let mut moved = Vec::new();
            for (kind, (finish, skipped)) in finished {
                summary.skipped.insert(kind, skipped);
                tracker.apply(kind, finish);
                if let Some(progress) = tracker.bulk.get_mut(&kind) {
                    progress.done = true;
                }
                moved.push(kind);
            }
            tracker.save(&commits, &moved, tenant.name)?;
        }
        commits.flush().await?;
    }
    for kind in &active {
        summary.sent.insert(*kind, report.sent(kind.name()));
    }
    Ok(summary)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

enum Start {
    Bulk {
        skip: u64,
        throttle: Option<(usize, Duration)>,
    },
    Incremental(Cursor),
}

/// Reads one type's stream and sends its encoded records.
struct Producer {
    kind: Kind,
    client: Client,
    mapper: Mapper,
    alert_severities: Vec<AlertSeverity>,
    vulnerability_severities: Vec<AlertSeverity>,
    skip_unpublished: bool,
    sender: mpsc::Sender<anyhow::Result<Item>>,
    finished: Arc<Mutex<BTreeMap<Kind, (Finish, u64)>>>,
    lists: ListProgress,
    shutdown: CancellationToken,
}

impl Producer {
    /// Exports the type; false when it failed or the loop is gone (nothing after it
    /// should start).
    async fn run(self, start: Start) -> bool {
        let offset = self.start_offset(&start);
        let result = match self.kind {
            Kind::Devices => {
                let query = DeviceQuery {
                    stime: incremental_stime(&start),
                    ..DeviceQuery::default()
                }
                .starting_at(offset);
                let stream = self.client.devices(&query);
                self.pump(stream, start, offset, |_: &Device| true, Mapper::device)
                    .await
            }
            Kind::Alerts => {
                let query = AlertQuery {
                    stime: incremental_stime(&start),
                    ..AlertQuery::default()
                }
                .starting_at(offset);
                let stream = self.client.alerts(&query);
                let wanted = |alert: &Alert| self.wants_alert(alert);
                self.pump(stream, start, offset, wanted, Mapper::alert)
                    .await
            }
            Kind::Vulnerabilities => {
                let query = VulnerabilityQuery {
                    stime: incremental_stime(&start),
                    ..VulnerabilityQuery::default()
                }
                .starting_at(offset);
                let stream = self.client.vulnerabilities(&query);
                let wanted = |vulnerability: &Vulnerability| {
                    severity_wanted(
                        vulnerability.risk_level.as_deref(),
                        &self.vulnerability_severities,
                    )
                };
                self.pump(stream, start, offset, wanted, Mapper::vulnerability)
                    .await
            }
        };
        match result {
            Ok(()) => !self.sender.is_closed(),
            Err(error) => {
                // The loop may be gone already (shutdown); then nobody needs the error.
                let _ = self.sender.send(Err(error)).await;
                false
            }
        }
    }

    /// Where the list is read from: a resumed bulk run starts at the page holding its
    /// first unconfirmed record (the committed count rounded down to the page size, so
    /// its pages are the ones the API would serve from the start); everything else at 0.
    fn start_offset(&self, start: &Start) -> u64 {
        match start {
            Start::Bulk { skip, .. } => start_of_page(*skip, u64::from(self.client.page_size())),
            Start::Incremental(_) => 0,
        }
    }

    fn wants_alert(&self, alert: &Alert) -> bool {
        if self.skip_unpublished {
            let published = alert
                .msg
                .as_ref()
                .and_then(|msg| msg.status.as_deref())
                .is_some_and(|status| status.eq_ignore_ascii_case("publish"));
            if !published {
                return false;
            }
        }
        severity_wanted(alert.severity.as_deref(), &self.alert_severities)
    }

    /// Sends the encoded records of `stream`, which starts at record `offset` of the
    /// list. A bulk run passes over the records up to its committed count (only those
    /// confirmed before, never more).
    async fn pump<R: ApiRecord>(
        &self,
        mut stream: Records<R>,
        start: Start,
        offset: u64,
        wanted: impl Fn(&R) -> bool,
        encode: fn(&Mapper, &R, &mut Vec<u8>) -> Result<(), crate::cef::MappingError>,
    ) -> anyhow::Result<()> {
        let kind = self.kind;
        let (skip, throttle, cursor) = match start {
            Start::Bulk { skip, throttle } => (skip, throttle, None),
            Start::Incremental(cursor) => (0, None, Some(cursor)),
        };
        // Counted in the list's order from its start, whatever the first page read.
        let mut read: u64 = offset;
        let mut skipped: u64 = 0;
        let mut sent_since_pause: usize = 0;
        let mut unsent_seen: Vec<Seen> = Vec::new();
        let mut line = Vec::with_capacity(2048);
        while let Some(record) = stream.next().await {
            let record =
                record.with_context(|| format!("cannot read {kind} from the IoT Security API"))?;
            read += 1;
            self.lists.update(kind, |count| {
                count.started.get_or_insert_with(std::time::Instant::now);
                count.resumed_from = skip;
                count.read = read;
                count.total = stream.total();
            });
            if read <= skip {
                continue;
            }
            if let Some(cursor) = &cursor {
                if !cursor.is_new(&record) {
                    continue;
                }
                unsent_seen.push(Seen::of(&record));
            }
            if !wanted(&record) {
                skipped += 1;
                continue;
            }
            line.clear();
            if let Err(error) = encode(&self.mapper, &record, &mut line) {
                // The codec refused a value: the record is reported and skipped, never
                // sent broken; it counts as read so the export moves on.
                tracing::error!(%error, "Record skipped.");
                skipped += 1;
                continue;
            }
            let progress = match cursor {
                Some(_) => Progress::Seen(std::mem::take(&mut unsent_seen)),
                None => Progress::Read(read),
            };
            let item = Item {
                kind,
                payload: Bytes::copy_from_slice(&line),
                progress,
            };
            if self.sender.send(Ok(item)).await.is_err() {
                return Ok(());
            }
            if let Some((batch, every)) = throttle {
                sent_since_pause += 1;
                if sent_since_pause >= batch {
                    sent_since_pause = 0;
                    tracing::info!(kind = %kind, pause = ?every, "Throttled: pausing.");
                    tokio::select! {
                        () = self.shutdown.cancelled() => return Ok(()),
                        () = tokio::time::sleep(every) => {}
                    }
                }
            }
        }
        let finish = match cursor {
            Some(_) => Finish::Seen(unsent_seen),
            None => Finish::Read(read),
        };
        lock(&self.finished).insert(kind, (finish, skipped));
        self.lists.update(kind, |count| count.done = true);
        Ok(())
    }
}

/// The offset of the page of `page_size` records that holds record `index` (0-based):
/// `index` rounded down to a multiple of `page_size`, never past `index`.
fn start_of_page(index: u64, page_size: u64) -> u64 {
    index - index.checked_rem(page_size).unwrap_or(index)
}

fn incremental_stime(start: &Start) -> Option<OffsetDateTime> {
    match start {
        Start::Incremental(cursor) => cursor.stime(),
        Start::Bulk { .. } => None,
    }
}

/// Whether a record of severity `word` passes the filter; a record without a known
/// severity passes (never dropped silently for a missing field).
fn severity_wanted(word: Option<&str>, allowed: &[AlertSeverity]) -> bool {
    match word.and_then(AlertSeverity::parse) {
        Some(severity) => allowed.contains(&severity),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::start_of_page;
    use proptest::prelude::*;

    #[test]
    fn a_resumed_list_starts_at_the_page_of_its_first_unconfirmed_record() {
        assert_eq!(start_of_page(0, 1000), 0);
        assert_eq!(start_of_page(999, 1000), 0);
        assert_eq!(start_of_page(1000, 1000), 1000);
        assert_eq!(start_of_page(2500, 1000), 2000);
        assert_eq!(start_of_page(7, 1), 7);
        assert_eq!(start_of_page(u64::MAX, 1000), u64::MAX - u64::MAX % 1000);
        // No page size: from the list's start, never past a record.
        assert_eq!(start_of_page(2500, 0), 0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The start is a page boundary at or before the first unconfirmed record, in
        /// the same page: nothing unconfirmed is passed over, at most a page re-read.
        #[test]
        fn the_start_is_the_page_boundary_at_or_before(index: u64, page_size in 1u64..=5000) {
            let start = start_of_page(index, page_size);
            prop_assert!(start <= index);
            prop_assert_eq!(start % page_size, 0);
            prop_assert!(index - start < page_size);
        }
    }
}
