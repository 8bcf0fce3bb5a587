//! One collection cycle: companies -> one task per stream (findings, updates, alerts)
//! -> formatted records -> the delivery loop -> cursors committed after confirmation.
//!
//! Every record carries a sequence number. After each batch the sink confirms, the
//! delivery loop hands back the number of its last record; everything up to it is
//! applied, in order, to the cursors, and the cursors of the streams that batch touched
//! are committed durably before the next batch is sent. So a cursor never passes an
//! unconfirmed record, and a crash (kill -9) re-sends at most the unconfirmed batch.
//! Commits stay cheap because batches are large (`batch_size`, `batch_bytes`) and the
//! touched streams are written in parallel (their fsyncs share the journal's flushes).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use bitsight_api::{
    AlertsQuery, Client, Finding, FindingIdentityRef, FindingsExpand, FindingsQuery, FindingsSort,
    LightFinding,
};
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use siem_pipeline::checkpoint::{CheckpointError, CheckpointStore};
use siem_pipeline::delivery::{Counters, DeliveryOptions, Outcome, Record, deliver};
use siem_pipeline::sink::Sink;
use time::{Date, OffsetDateTime};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use crate::config::Filters;
use crate::cursor::{Cursor, Seen};
use crate::format::{CompanyRef, EventKind, FormatError, Formatter, RecordContext};

/// Items re-read at the start of each page after the first: the last one of them must
/// come back, or the result set shifted and the stream restarts from its cursor.
const PAGE_OVERLAP: u16 = 8;
/// Restarts of one stream in one cycle before it gives up (the set keeps shifting).
const MAX_RESTARTS: u32 = 20;
/// Chunks buffered between the fetching tasks and the delivery loop. The batch being
/// filled is the real buffer; this only smooths the hand-over, so it stays small.
const CHANNEL_CAPACITY: usize = 4;
/// A chunk is handed over once its records reach this many bytes (or at the end of a
/// page): a few hundred records per hand-over, one buffer for all of them.
const CHUNK_BYTES: usize = 256 * 1024;

/// A company to collect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Company {
    /// Its GUID.
    pub guid: String,
    /// Its name, when the API gave one.
    pub name: Option<String>,
}

/// What one cycle collects and how.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The companies.
    pub companies: Vec<Company>,
    /// The findings filters.
    pub filters: Filters,
    /// Track last-seen updates.
    pub track_updates: bool,
    /// Collect alerts; `Some(companies)` keeps only those companies' alerts.
    pub alerts: Option<Option<BTreeSet<String>>>,
    /// The first run reaches back to this date.
    pub start: Date,
    /// Today (UTC), where update tracking and the alerts stream start.
    pub today: Date,
    /// Days re-read before each cursor's date, for findings published late.
    pub lookback_days: u16,
    /// Most records in this cycle.
    pub max_events: usize,
    /// Companies fetched at once.
    pub company_concurrency: usize,
    /// Findings per page.
    pub page_size: u16,
    /// Most records per sink batch.
    pub batch_records: usize,
    /// Most payload bytes per sink batch.
    pub batch_bytes: usize,
}

/// What kind of stream a cursor belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum StreamKind {
    Findings,
    Updates,
    Alerts,
}

impl StreamKind {
    fn record_kind(self) -> &'static str {
        match self {
            Self::Findings => "findings",
            Self::Updates => "finding_updates",
            Self::Alerts => "alerts",
        }
    }
}

/// The checkpoint name of a stream: `findings.GUID`, `updates.GUID`, `alerts`. GUIDs
/// that are not plain letters, digits and dashes are hex-encoded.
#[must_use]
pub fn checkpoint_name(kind: &str, guid: Option<&str>) -> String {
    match guid {
        None => kind.to_owned(),
        Some(guid)
            if !guid.is_empty() && guid.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            format!("{kind}.{guid}")
        }
        Some(guid) => {
            let hex: String = guid.bytes().map(|b| format!("{b:02x}")).collect();
            format!("{kind}.x{hex}")
        }
    }
}

/// The cursor key of a finding: risk vector, evidence key and rolled-up observation id
/// (company and date are the cursor's own). An empty rolled-up observation id is common,
/// so the temporary id is added then, to keep distinct findings apart.
#[must_use]
pub fn finding_key(finding: &Finding) -> String {
    identity_key(&finding.identity_ref(), finding.temporary_id())
}

/// [`finding_key`] of a light finding (the same key for the same record).
#[must_use]
pub fn light_finding_key(finding: LightFinding<'_>) -> String {
    identity_key(&finding.identity(), finding.temporary_id())
}

fn identity_key(id: &FindingIdentityRef<'_>, temporary_id: Option<&str>) -> String {
    let rollup = id.rolledup_observation_id;
    let tail = if rollup.is_empty() {
        temporary_id.unwrap_or_default()
    } else {
        rollup
    };
    let mut key =
        String::with_capacity(id.risk_vector.len() + id.evidence_key.len() + tail.len() + 4);
    key.push_str(id.risk_vector);
    key.push('|');
    key.push_str(id.evidence_key);
    key.push('|');
    if rollup.is_empty() {
        key.push_str("t:");
    }
    key.push_str(tail);
    key
}

/// Formatted records of one stream on their way to the delivery loop, written back to
/// back into one buffer (one allocation and one hand-over for hundreds of records),
/// with the cursor marks each record settles: its own, plus those of records the
/// modeling rule filtered out before it.
struct Chunk {
    stream: usize,
    kind: &'static str,
    text: Bytes,
    /// Where each record ends in `text`.
    ends: Vec<usize>,
    marks: Vec<(Date, String)>,
    /// Record `i` settles `marks[mark_ends[i - 1]..mark_ends[i]]`.
    mark_ends: Vec<usize>,
}

/// A chunk being filled by a stream's task.
#[derive(Default)]
struct ChunkBuilder {
    text: Vec<u8>,
    ends: Vec<usize>,
    marks: Vec<(Date, String)>,
    mark_ends: Vec<usize>,
}

impl ChunkBuilder {
    /// Closes the record just written to `text` (after the previous end), settling
    /// `mark` and the marks waiting before it.
    fn record(&mut self, mark: Option<(Date, String)>) {
        self.marks.extend(mark);
        self.ends.push(self.text.len());
        self.mark_ends.push(self.marks.len());
    }

    /// A mark of a record that produced nothing: settled with the next record.
    fn skipped(&mut self, mark: (Date, String)) {
        self.marks.push(mark);
    }

    /// As [`ChunkBuilder::skipped`], for a record that may have no mark.
    fn skipped_opt(&mut self, mark: Option<(Date, String)>) {
        self.marks.extend(mark);
    }

    fn is_full(&self) -> bool {
        self.text.len() >= CHUNK_BYTES
    }

    /// The records so far as a chunk (`None` when there are none); marks waiting for a
    /// record stay for the next chunk.
    fn take(&mut self, stream: usize, kind: &'static str) -> Option<Chunk> {
        let settled = *self.mark_ends.last()?;
        let waiting = self.marks.split_off(settled);
        Some(Chunk {
            stream,
            kind,
            text: Bytes::from(std::mem::replace(
                &mut self.text,
                Vec::with_capacity(CHUNK_BYTES + CHUNK_BYTES / 4),
            )),
            ends: std::mem::take(&mut self.ends),
            marks: std::mem::replace(&mut self.marks, waiting),
            mark_ends: std::mem::take(&mut self.mark_ends),
        })
    }
}

/// A chunk handed to the delivery loop, waiting for its records' confirmation.
struct Pending {
    /// Sequence number of its first record.
    first_seq: u64,
    records: usize,
    /// Records confirmed (and their marks applied) so far.
    confirmed: usize,
    stream: usize,
    kind: &'static str,
    marks: Vec<(Date, String)>,
    mark_ends: Vec<usize>,
}

struct StreamState {
    name: String,
    kind: StreamKind,
    company: Option<Company>,
    cursor: Cursor,
}

/// What one cycle did.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CycleReport {
    /// Records confirmed, per record kind.
    pub delivered: BTreeMap<String, u64>,
    /// Companies collected.
    pub companies: usize,
    /// Streams that failed, with why (their cursors keep what was delivered).
    pub failures: Vec<String>,
    /// Stopped by a signal (the batch in flight was finished and committed).
    pub interrupted: bool,
    /// The cycle stopped at `max_events_per_fetch`; the next one continues.
    pub capped: bool,
    /// Wall time, seconds.
    pub seconds: f64,
}

impl CycleReport {
    /// Records delivered in total.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.delivered.values().sum()
    }
}

/// The status checkpoint (`status`), for `bitsight-collector status`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Status {
    /// When the last cycle ended (RFC 3339).
    pub last_run: Option<String>,
    /// When the last cycle without failures ended.
    pub last_success: Option<String>,
    /// The last cycle's failures.
    pub last_failures: Vec<String>,
    /// The last cycle's deliveries.
    pub last_delivered: BTreeMap<String, u64>,
    /// Deliveries since the state directory was created.
    pub total_delivered: BTreeMap<String, u64>,
}

/// A cycle could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum CycleError {
    /// A checkpoint could not be read or written.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The sink failed after its retries; what it confirmed was committed.
    #[error("{0}")]
    Delivery(String),
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs one cycle of `plan` into `sink`.
///
/// # Errors
/// A checkpoint that cannot be read or written, or a sink that gave up.
pub async fn run_cycle(
    client: &Client,
    plan: &Plan,
    formatter: &Arc<Formatter>,
    store: &CheckpointStore,
    sink: &mut dyn Sink,
    counters: &Counters,
    shutdown: &CancellationToken,
) -> Result<CycleReport, CycleError> {
    let started = Instant::now();
    let streams = Arc::new(Mutex::new(load_streams(plan, store)?));
    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let (tx, rx) = mpsc::channel::<Chunk>(CHANNEL_CAPACITY);
    let mut tasks = tokio::task::JoinSet::new();
    let permits = Arc::new(Semaphore::new(plan.company_concurrency));
    let stream_count = lock(&streams).len();
    for index in 0..stream_count {
        let (kind, company, cursor) = {
            let streams = lock(&streams);
            let state = &streams[index];
            (state.kind, state.company.clone(), state.cursor.clone())
        };
        let task = StreamTask {
            index,
            kind,
            company,
            cursor,
            client: client.clone(),
            plan: plan.clone(),
            formatter: Arc::clone(formatter),
            tx: tx.clone(),
            chunk: ChunkBuilder::default(),
        };
        let permits = Arc::clone(&permits);
        let failures = Arc::clone(&failures);
        tasks.spawn(async move {
            // The semaphore is never closed.
            let _permit = permits.acquire_owned().await.ok();
            let name = task.describe();
            if let Err(error) = task.run().await {
                tracing::error!(stream = %name, error = %error, "stream failed; its cursor keeps what was delivered");
                lock(&failures).push(format!("{name}: {error}"));
            }
        });
    }
    drop(tx);

    let pending: Arc<Mutex<VecDeque<Pending>>> = Arc::default();
    let mut next_seq: u64 = 0;
    let source_pending = Arc::clone(&pending);
    let source = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    })
    .flat_map(move |chunk: Chunk| {
        let first_seq = next_seq + 1;
        next_seq += u64::try_from(chunk.ends.len()).unwrap_or(u64::MAX);
        let Chunk {
            stream,
            kind,
            text,
            ends,
            marks,
            mark_ends,
        } = chunk;
        let starts = std::iter::once(0).chain(ends.iter().copied());
        let records: Vec<_> = starts
            .zip(ends.iter().copied())
            .zip(first_seq..)
            .map(|((start, end), seq)| {
                Ok::<_, std::convert::Infallible>(Record::new(kind, text.slice(start..end), seq))
            })
            .collect();
        lock(&source_pending).push_back(Pending {
            first_seq,
            records: ends.len(),
            confirmed: 0,
            stream,
            kind,
            marks,
            mark_ends,
        });
        futures::stream::iter(records)
    })
    .take(plan.max_events);

    let mut delivered: BTreeMap<String, u64> = BTreeMap::new();
    let commit_streams = Arc::clone(&streams);
    let commit_pending = Arc::clone(&pending);
    let lookback = plan.lookback_days;
    let mut dirty = BTreeSet::new();
    // Called after every confirmed batch: the batch's marks, then a durable commit of
    // the streams it touched, before the delivery loop sends the next batch.
    let commit = |seq: &u64| -> Result<(), CheckpointError> {
        let mut pending = lock(&commit_pending);
        let mut streams = lock(&commit_streams);
        settle_confirmed(&mut pending, *seq, |stream, kind, records, marks| {
            let state = &mut streams[stream];
            for (date, key) in marks {
                state.cursor.advance(*date, std::mem::take(key), lookback);
            }
            *delivered.entry(kind.to_owned()).or_default() +=
                u64::try_from(records).unwrap_or(u64::MAX);
            dirty.insert(stream);
        });
        commit_dirty(store, &streams, &mut dirty)
    };
    let options = DeliveryOptions {
        max_batch_records: plan.batch_records,
        max_batch_bytes: plan.batch_bytes,
        pipeline: "bitsight".to_owned(),
        counters: counters.clone(),
        ..DeliveryOptions::default()
    };
    let result = deliver(source, sink, commit, &options, shutdown).await;
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    // Whatever the outcome, what the sink confirmed becomes durable now.
    commit_dirty(store, &lock(&streams), &mut dirty)?;
    let mut report = CycleReport {
        delivered,
        companies: plan.companies.len(),
        failures: std::mem::take(&mut *lock(&failures)),
        interrupted: false,
        capped: false,
        seconds: started.elapsed().as_secs_f64(),
    };
    report.capped = report.total() >= u64::try_from(plan.max_events).unwrap_or(u64::MAX);
    match result {
        Ok(done) => report.interrupted = done.outcome == Outcome::Shutdown,
        Err(error) => return Err(CycleError::Delivery(error.to_string())),
    }
    Ok(report)
}

/// Settles the records of `pending` up to sequence number `seq` (all confirmed by the
/// sink), in order: for each chunk with newly confirmed records, `settle(stream, kind,
/// records, marks)` gets how many and the marks they settle; fully confirmed chunks
/// are dropped.
fn settle_confirmed(
    pending: &mut VecDeque<Pending>,
    seq: u64,
    mut settle: impl FnMut(usize, &'static str, usize, &mut [(Date, String)]),
) {
    while let Some(chunk) = pending.front_mut() {
        let Some(through) = seq.checked_sub(chunk.first_seq) else {
            break;
        };
        let confirmed = usize::try_from(through)
            .map_or(chunk.records, |n| n.saturating_add(1))
            .min(chunk.records);
        if confirmed > chunk.confirmed {
            let from = chunk
                .confirmed
                .checked_sub(1)
                .map_or(0, |last| chunk.mark_ends[last]);
            let to = chunk.mark_ends[confirmed - 1];
            settle(
                chunk.stream,
                chunk.kind,
                confirmed - chunk.confirmed,
                &mut chunk.marks[from..to],
            );
            chunk.confirmed = confirmed;
        }
        if chunk.confirmed < chunk.records {
            break;
        }
        pending.pop_front();
    }
}

/// Durably commits the cursors of the streams in `dirty`, emptying it.
///
/// Several streams are committed on scoped threads at once: each commit waits on two
/// fsyncs, and concurrent fsyncs on one file system share the journal's flushes, so
/// five streams cost about what one does instead of five times as much. On a
/// multi-threaded runtime the worker steps aside (`block_in_place`) so fetching and
/// formatting go on meanwhile.
fn commit_dirty(
    store: &CheckpointStore,
    streams: &[StreamState],
    dirty: &mut BTreeSet<usize>,
) -> Result<(), CheckpointError> {
    let indices: Vec<usize> = std::mem::take(dirty).into_iter().collect();
    let commit_one = |index: usize| {
        let state = &streams[index];
        store.commit(&state.name, &state.cursor)
    };
    let commit_all = || -> Result<(), CheckpointError> {
        match indices.as_slice() {
            [] => Ok(()),
            [index] => commit_one(*index),
            [first, rest @ ..] => std::thread::scope(|scope| {
                let others: Vec<_> = rest
                    .iter()
                    .map(|&index| scope.spawn(move || commit_one(index)))
                    .collect();
                let mut result = commit_one(*first);
                for other in others {
                    // A panic in a commit is passed on as it is.
                    let outcome = other
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                    if result.is_ok() {
                        result = outcome;
                    }
                }
                result
            }),
        }
    };
    let multi_threaded = tokio::runtime::Handle::try_current()
        .is_ok_and(|handle| handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if multi_threaded {
        tokio::task::block_in_place(commit_all)
    } else {
        commit_all()
    }
}

fn load_streams(plan: &Plan, store: &CheckpointStore) -> Result<Vec<StreamState>, CheckpointError> {
    let mut streams = Vec::new();
    let mut add =
        |kind: StreamKind, company: Option<Company>, start: Date| -> Result<(), CheckpointError> {
            let prefix = match kind {
                StreamKind::Findings => "findings",
                StreamKind::Updates => "updates",
                StreamKind::Alerts => "alerts",
            };
            let name = checkpoint_name(prefix, company.as_ref().map(|c| c.guid.as_str()));
            let cursor = store
                .load::<Cursor>(&name)?
                .unwrap_or_else(|| Cursor::starting(start));
            streams.push(StreamState {
                name,
                kind,
                company,
                cursor,
            });
            Ok(())
        };
    for company in &plan.companies {
        add(StreamKind::Findings, Some(company.clone()), plan.start)?;
        if plan.track_updates {
            add(StreamKind::Updates, Some(company.clone()), plan.today)?;
        }
    }
    if plan.alerts.is_some() {
        add(StreamKind::Alerts, None, plan.start)?;
    }
    Ok(streams)
}

/// One stream's fetching task: pages from its cursor to the end, formats what is new.
struct StreamTask {
    index: usize,
    kind: StreamKind,
    company: Option<Company>,
    cursor: Cursor,
    client: Client,
    plan: Plan,
    formatter: Arc<Formatter>,
    tx: mpsc::Sender<Chunk>,
    chunk: ChunkBuilder,
}

/// Why a stream stopped.
#[derive(Debug, thiserror::Error)]
enum StreamError {
    #[error(transparent)]
    Api(#[from] bitsight_api::ApiError),
    #[error(transparent)]
    Format(#[from] crate::format::FormatError),
    #[error("the result set kept shifting under the pages ({0} restarts); will resume next cycle")]
    Unstable(u32),
}

/// The delivery loop is gone (the cycle was capped or shut down): stop quietly.
struct Closed;

impl StreamTask {
    fn describe(&self) -> String {
        let kind = self.kind.record_kind();
        match &self.company {
            Some(company) => format!("{kind} of company {}", company.guid),
            None => kind.to_owned(),
        }
    }

    async fn run(mut self) -> Result<(), StreamError> {
        let result = match self.kind {
            StreamKind::Alerts => self.run_alerts().await,
            StreamKind::Findings | StreamKind::Updates => self.run_findings().await,
        };
        // What was formatted before the end (or a failure) is still delivered.
        self.hand_over().await.ok();
        result
    }

    /// The date a finding sorts and resumes by in this stream.
    fn light_date_of(&self, finding: LightFinding<'_>) -> Option<Date> {
        match self.kind {
            StreamKind::Updates => finding.last_seen(),
            _ => finding.first_seen(),
        }
    }

    /// Pages in date order from the cursor's date. Each page after the first starts
    /// `PAGE_OVERLAP` items early; the previous page's last item must be among them,
    /// else findings were removed ahead of the offset (the set shrank) and the stream
    /// restarts from its working cursor, which loses nothing: everything not yet read
    /// sorts after the last item read, so it is on or after the cursor's date.
    async fn run_findings(&mut self) -> Result<(), StreamError> {
        let Some(company) = self.company.clone() else {
            return Ok(());
        };
        let base = findings_query(&self.plan.filters, self.plan.page_size);
        let page_size = usize::from(self.plan.page_size);
        let lookback = self.plan.lookback_days;
        let mut working = self.cursor.clone();
        let mut restarts = 0;
        let event_kind = match self.kind {
            StreamKind::Updates => EventKind::FindingUpdate,
            _ => EventKind::Finding,
        };
        let reference = CompanyRef {
            guid: &company.guid,
            name: company.name.as_deref(),
        };
        let context = RecordContext::new(reference, event_kind).map_err(FormatError::from)?;
        'restart: loop {
            let mut query = base.clone();
            match self.kind {
                StreamKind::Updates => {
                    query.sort = FindingsSort::LastSeen;
                    query.last_seen_gte = Some(working.read_from(lookback));
                }
                _ => query.first_seen_gte = Some(working.read_from(lookback)),
            }
            let mut last: Option<(Date, String)> = None;
            // Light pages: each finding's text, identity and dates, no typed decode;
            // the next page (starting PAGE_OVERLAP early) travels while this one is
            // formatted.
            let mut pages = std::pin::pin!(self.client.findings_pages_with_overlap(
                &company.guid,
                &query,
                PAGE_OVERLAP
            ));
            while let Some(page) = pages.try_next().await? {
                let start = match &last {
                    None => 0,
                    Some(last) => match page.iter().position(|f| {
                        self.light_date_of(f) == Some(last.0) && light_finding_key(f) == last.1
                    }) {
                        Some(at) => at + 1,
                        None => {
                            restarts += 1;
                            if restarts > MAX_RESTARTS {
                                return Err(StreamError::Unstable(restarts));
                            }
                            tracing::info!(company = %company.guid, offset = page.offset(), "result set shifted between pages; re-reading from the cursor date");
                            continue 'restart;
                        }
                    },
                };
                for finding in page.iter().skip(start) {
                    let key = light_finding_key(finding);
                    let Some(date) = self.light_date_of(finding) else {
                        // Without a date there is no place in the cursor: deliver it
                        // (at least once) rather than drop it.
                        tracing::warn!(company = %company.guid, key = %key, "finding without a valid date");
                        if self.push_finding(finding, &context, None).is_err() {
                            return Ok(());
                        }
                        continue;
                    };
                    if working.check(date, &key, lookback) != Seen::New {
                        continue;
                    }
                    if self.kind == StreamKind::Updates
                        && finding.first_seen().is_none_or(|first| date <= first)
                    {
                        // Not an update: the findings stream delivers it. Mark it seen.
                        working.advance(date, key.as_str(), lookback);
                        self.chunk.skipped((date, key));
                        continue;
                    }
                    working.advance(date, key.as_str(), lookback);
                    if self
                        .push_finding(finding, &context, Some((date, key)))
                        .is_err()
                    {
                        return Ok(());
                    }
                    if self.chunk.is_full() && self.hand_over().await.is_err() {
                        return Ok(());
                    }
                }
                if self.hand_over().await.is_err() {
                    return Ok(());
                }
                last = page
                    .iter()
                    .next_back()
                    .and_then(|f| Some((self.light_date_of(f)?, light_finding_key(f))));
                // A short page is the last one: no need to wait for the one after.
                if page.len() < page_size || last.is_none() {
                    return Ok(());
                }
            }
            return Ok(());
        }
    }

    /// Formats `finding` into the chunk; a failure is logged and stops the stream.
    fn push_finding(
        &mut self,
        finding: LightFinding<'_>,
        context: &RecordContext<'_>,
        mark: Option<(Date, String)>,
    ) -> Result<(), Closed> {
        match self
            .formatter
            .write_light_finding(finding, context, &mut self.chunk.text)
        {
            Ok(true) => self.chunk.record(mark),
            // Filtered out by the modeling rule: settle its mark with the next record.
            Ok(false) => self.chunk.skipped_opt(mark),
            Err(error) => {
                tracing::error!(company = %context.company.guid, error = %error, "cannot format a finding");
                return Err(Closed);
            }
        }
        Ok(())
    }

    /// Hands the records formatted so far to the delivery loop.
    async fn hand_over(&mut self) -> Result<(), Closed> {
        let Some(chunk) = self.chunk.take(self.index, self.kind.record_kind()) else {
            return Ok(());
        };
        self.tx.send(chunk).await.map_err(|_| Closed)
    }

    async fn run_alerts(&mut self) -> Result<(), StreamError> {
        let Some(keep) = self.plan.alerts.clone() else {
            return Ok(());
        };
        let lookback = self.plan.lookback_days;
        let query = AlertsQuery {
            alert_date_gte: Some(self.cursor.read_from(lookback)),
            ..AlertsQuery::default()
        };
        let mut working = self.cursor.clone();
        let mut alerts = std::pin::pin!(self.client.alerts(&query));
        while let Some(alert) = alerts.try_next().await? {
            let (Some(date), Some(guid)) = (alert.alert_date(), alert.guid()) else {
                continue;
            };
            if working.check(date, &guid, lookback) != Seen::New {
                continue;
            }
            working.advance(date, guid.as_str(), lookback);
            let wanted = keep
                .as_ref()
                .is_none_or(|set| alert.company_guid().is_some_and(|g| set.contains(g)));
            if !wanted {
                self.chunk.skipped((date, guid));
                continue;
            }
            match self.formatter.alert(&alert)? {
                Some(payload) => {
                    self.chunk.text.extend_from_slice(&payload);
                    self.chunk.record(Some((date, guid)));
                }
                None => self.chunk.skipped((date, guid)),
            }
            if self.chunk.is_full() && self.hand_over().await.is_err() {
                return Ok(());
            }
        }
        Ok(())
    }
}

/// The findings query of `filters`, before dates and offsets are set.
#[must_use]
pub fn findings_query(filters: &Filters, page_size: u16) -> FindingsQuery {
    let mut query = FindingsQuery {
        risk_vectors: filters.risk_vectors.clone(),
        grades: filters.grades.clone(),
        asset_categories: filters.asset_categories.clone(),
        affects_rating: filters.affects_rating,
        expand: vec![FindingsExpand::AttributedCompanies],
        page_size,
        ..FindingsQuery::default()
    };
    if let Some(min) = &filters.min_severity {
        query = query.min_severity(min);
    }
    query
}

/// The filters as the API receives them (`risk_vector=SPF&severity_gte=7...`), to tell
/// when they change between runs.
#[must_use]
pub fn filters_fingerprint(filters: &Filters) -> String {
    findings_query(filters, 1)
        .filter_pairs()
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Today's date in UTC.
#[must_use]
pub fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Law: records formatted into chunks (some filtered out, their marks riding
        /// with the next record; chunks cut anywhere), then confirmed up to any rising
        /// sequence of numbers, settle exactly the marks made up to the last confirmed
        /// record, in order, each once; marks after it stay unsettled.
        #[test]
        fn confirmations_settle_exactly_the_marks_before_them(
            steps in proptest::collection::vec((proptest::bool::weighted(0.8), proptest::bool::weighted(0.2)), 1..80),
            mut confirms in proptest::collection::vec(0u64..90, 0..8),
        ) {
            let day = time::macros::date!(2026 - 01 - 01);
            let mut builder = ChunkBuilder::default();
            let mut pending = VecDeque::new();
            let mut next_seq = 0;
            // For each record (by sequence number), the marks made up to it.
            let mut marks_through = vec![0usize];
            let mut made = 0usize;
            let mut push_chunk = |builder: &mut ChunkBuilder, pending: &mut VecDeque<Pending>| {
                if let Some(chunk) = builder.take(0, "findings") {
                    pending.push_back(Pending {
                        first_seq: next_seq + 1,
                        records: chunk.ends.len(),
                        confirmed: 0,
                        stream: chunk.stream,
                        kind: chunk.kind,
                        marks: chunk.marks,
                        mark_ends: chunk.mark_ends,
                    });
                    next_seq += chunk.ends.len() as u64;
                }
            };
            for (index, (kept, cut)) in steps.iter().enumerate() {
                let mark = (day, index.to_string());
                made += 1;
                if *kept {
                    builder.text.extend_from_slice(b"{}");
                    builder.record(Some(mark));
                    marks_through.push(made);
                } else {
                    builder.skipped(mark);
                }
                if *cut {
                    push_chunk(&mut builder, &mut pending);
                }
            }
            push_chunk(&mut builder, &mut pending);
            let records = marks_through.len() - 1;
            confirms.sort_unstable();
            let mut settled = Vec::new();
            let mut counted = 0;
            for seq in confirms {
                settle_confirmed(&mut pending, seq, |_, _, n, marks| {
                    counted += n;
                    settled.extend(marks.iter_mut().map(|(_, key)| std::mem::take(key)));
                });
                let through = usize::try_from(seq).unwrap().min(records);
                let expected: Vec<String> = (0..marks_through[through]).map(|i| i.to_string()).collect();
                proptest::prop_assert_eq!(&settled, &expected);
                proptest::prop_assert_eq!(counted, through);
            }
        }
    }

    #[test]
    fn checkpoint_names_are_safe() {
        assert_eq!(checkpoint_name("findings", Some("a1-b2")), "findings.a1-b2");
        assert_eq!(
            checkpoint_name("findings", Some("../x")),
            "findings.x2e2e2f78"
        );
        assert_eq!(checkpoint_name("alerts", None), "alerts");
    }

    #[test]
    fn empty_rollup_ids_use_the_temporary_id() {
        let with = Finding::from_json(
            "g",
            r#"{"risk_vector":"spf","evidence_key":"a.example","rolledup_observation_id":"r1","temporary_id":"t1"}"#,
        )
        .unwrap();
        let without = Finding::from_json(
            "g",
            r#"{"risk_vector":"spf","evidence_key":"a.example","rolledup_observation_id":"","temporary_id":"t1"}"#,
        )
        .unwrap();
        assert_eq!(finding_key(&with), "spf|a.example|r1");
        assert_eq!(finding_key(&without), "spf|a.example|t:t1");
    }
}
