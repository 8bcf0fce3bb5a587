//! The commands: wiring config, clients, state, sinks and the export runs together.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use iot_security_api::{Auth, Client, ClientConfig, DeviceQuery, ReportStatus, StatusReport};
use siem_pipeline::checkpoint::CheckpointStore;
use siem_pipeline::delivery::Counters;
use siem_pipeline::sink::{Sink, SinkError, SinkFailure, WriterSink};
use syslog_transport::ConnectionCheck;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::cef::{Mapper, MappingOptions, TEST_CONNECTION_EVENT};
use crate::config::{Config, Tenant};
use crate::export::{self, Kind, ListProgress, Mode, RunSummary, TenantRun};
use crate::sink::syslog_sink;
use crate::status::{self, RunStatus, STATUS_CHECKPOINT};

/// Where records go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// The syslog receiver in `[siem]`.
    Siem,
    /// Stdout, one CEF line per record (logs and summaries go to stderr).
    Stdout,
}

/// A usage or config mistake: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0:#}")]
pub struct UsageError(pub anyhow::Error);

fn usage<T>(result: anyhow::Result<T>) -> anyhow::Result<T> {
    result.map_err(|error| UsageError(error).into())
}

/// A tenant ready to export: its client and locked state directory.
pub struct TenantRuntime {
    /// Its config.
    pub tenant: Tenant,
    /// Its API client.
    pub client: Client,
    /// Its state directory, locked (shared with the run's commit worker).
    pub store: Arc<CheckpointStore>,
}

impl TenantRuntime {
    /// Resolves the tenant's secrets, builds its client and locks its state directory.
    pub fn open(tenant: Tenant, state_dir: &Path) -> anyhow::Result<Self> {
        let lookup = |name: &str| std::env::var(name).ok();
        let key_id = tenant
            .key_id
            .resolve(&format!("tenant {}: key id", tenant.name), lookup)?;
        let access_key = tenant
            .access_key
            .resolve(&format!("tenant {}: access key", tenant.name), lookup)?;
        let mut config = ClientConfig::new(
            tenant.url.clone(),
            tenant.customer_id.clone(),
            Auth::api_key(
                iot_security_api::Secret::new(key_id.expose()),
                iot_security_api::Secret::new(access_key.expose()),
            ),
        );
        config.page_size = tenant.page_size;
        config.requests_per_minute = tenant.requests_per_minute;
        config.allow_http = tenant.allow_http;
        let client = Client::new(config)
            .with_context(|| format!("tenant {}: invalid IoT Security settings", tenant.name))?;
        let store = CheckpointStore::open(state_dir.join(&tenant.name))
            .with_context(|| format!("tenant {}: cannot open its state", tenant.name))?;
        let store = Arc::new(store);
        Ok(Self {
            tenant,
            client,
            store,
        })
    }
}

/// The sink for `output`.
pub fn make_sink(config: &Config, output: Output) -> anyhow::Result<Box<dyn Sink>> {
    match output {
        Output::Stdout => Ok(Box::new(WriterSink::stdout())),
        Output::Siem => {
            let siem = config
                .siem
                .as_ref()
                .context("the config has no [siem] section; add one, or pass --output stdout")?;
            Ok(Box::new(
                syslog_sink(siem).context("invalid [siem] settings")?,
            ))
        }
    }
}

/// One sink shared by several tenants (stdout), one batch at a time.
#[derive(Clone)]
pub struct SharedSink(Arc<tokio::sync::Mutex<Box<dyn Sink>>>);

impl SharedSink {
    /// Shares `sink`.
    pub fn new(sink: Box<dyn Sink>) -> Self {
        Self(Arc::new(tokio::sync::Mutex::new(sink)))
    }
}

#[async_trait::async_trait]
impl Sink for SharedSink {
    async fn send(&mut self, batch: Vec<Bytes>) -> Result<(), SinkError> {
        self.0.lock().await.send(batch).await
    }
    async fn flush(&mut self) -> Result<(), SinkFailure> {
        self.0.lock().await.flush().await
    }
    async fn close(&mut self) -> Result<(), SinkFailure> {
        self.0.lock().await.close().await
    }
    fn describe(&self) -> String {
        self.0
            .try_lock()
            .map_or_else(|_| "shared sink".to_owned(), |sink| sink.describe())
    }
}

/// `test-connection`: the test event to the SIEM (confirmed or not), and one request to
/// each tenant. Returns what was established, for the operator.
pub async fn test_connection(
    config: &Config,
    origin: &Path,
    output: Output,
) -> anyhow::Result<String> {
    let tenants = usage(config.tenants(origin).map_err(Into::into))?;
    let event = Bytes::from_static(TEST_CONNECTION_EVENT.as_bytes());
    let mut report = String::new();
    match output {
        Output::Stdout => {
            let mut sink = WriterSink::stdout();
            sink.send(vec![event]).await?;
            report.push_str("Test event written to stdout.\n");
        }
        Output::Siem => {
            let siem =
                usage(config.siem.as_ref().context(
                    "the config has no [siem] section; add one, or pass --output stdout",
                ))?;
            let mut sink = usage(syslog_sink(siem).context("invalid [siem] settings"))?;
            let check = sink
                .test_connection()
                .await
                .context("the SIEM receiver cannot be reached")?;
            sink.send(vec![event])
                .await
                .map_err(|error| anyhow::anyhow!("{}", error.failure()))
                .context("the test event was not delivered")?;
            sink.close()
                .await
                .context("closing the connection failed")?;
            match check {
                ConnectionCheck::Confirmed { peer } => report.push_str(&format!(
                    "Test event delivered to {peer}: written and flushed on a live connection.\n"
                )),
                ConnectionCheck::Unconfirmable { peer } => report.push_str(&format!(
                    "Test event sent to {peer} over UDP, which cannot confirm delivery: check that it arrived.\n"
                )),
            }
        }
    }
    let mut failed = 0;
    for tenant in tenants.into_iter().filter(|tenant| tenant.enabled) {
        let name = tenant.name.clone();
        let runtime = usage(TenantRuntime::open(tenant, &config.state.dir))?;
        let query = DeviceQuery {
            detail: false,
            ..DeviceQuery::default()
        };
        let mut devices = runtime.client.devices(&query);
        match futures::StreamExt::next(&mut devices).await {
            None | Some(Ok(_)) => {
                report.push_str(&format!("Tenant {name}: IoT Security API reached.\n"));
            }
            Some(Err(error)) => {
                failed += 1;
                report.push_str(&format!(
                    "Tenant {name}: IoT Security API not reachable: {error}\n"
                ));
            }
        }
    }
    anyhow::ensure!(
        failed == 0,
        "{report}{failed} tenant(s) could not be reached"
    );
    Ok(report)
}

/// What `bulk` and `incremental` are asked to do.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    /// Bulk or incremental.
    pub mode: Mode,
    /// The types.
    pub kinds: Vec<Kind>,
    /// Incremental: one poll, then exit.
    pub once: bool,
    /// Where records go.
    pub output: Output,
}

/// `bulk` and `incremental` for every enabled tenant; one tenant failing never stops the
/// others. Returns the per-tenant summaries of the last run, or an error naming the
/// tenants that failed.
pub async fn export(
    config: &Config,
    origin: &Path,
    request: &ExportRequest,
    shutdown: &CancellationToken,
) -> anyhow::Result<BTreeMap<String, RunSummary>> {
    let tenants = usage(config.tenants(origin).map_err(Into::into))?;
    if let Some(metrics) = &config.metrics {
        usage(siem_pipeline::metrics::install_prometheus(metrics.listen).map_err(Into::into))?;
        tracing::info!(listen = %metrics.listen, "Serving Prometheus metrics on /metrics.");
    }
    let mut runtimes = Vec::new();
    for tenant in tenants {
        if tenant.enabled {
            runtimes.push(usage(TenantRuntime::open(tenant, &config.state.dir))?);
        } else {
            tracing::info!(tenant = %tenant.name, "Tenant disabled; skipped.");
        }
    }
    let shared_stdout =
        (request.output == Output::Stdout).then(|| SharedSink::new(Box::new(WriterSink::stdout())));
    let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
    for _ in &runtimes {
        sinks.push(match &shared_stdout {
            Some(shared) => Box::new(shared.clone()),
            None => usage(make_sink(config, request.output))?,
        });
    }
    let mapper = Mapper::new(MappingOptions {
        profile: config.export.cef_profile,
        legacy_prefix: config.export.legacy_prefix,
    });
    let progress = siem_pipeline::cli::Progress::for_stderr_every(progress_interval(config));
    let runs = runtimes.iter().zip(sinks).map(|(runtime, sink)| {
        run_tenant(config, runtime, sink, mapper, request, &progress, shutdown)
    });
    let results = futures::future::join_all(runs).await;
    let mut summaries = BTreeMap::new();
    let mut failures = Vec::new();
    for (runtime, result) in runtimes.iter().zip(results) {
        match result {
            Ok(summary) => {
                summaries.insert(runtime.tenant.name.clone(), summary);
            }
            Err(error) => failures.push(format!("{}: {error:#}", runtime.tenant.name)),
        }
    }
    if failures.is_empty() {
        Ok(summaries)
    } else {
        Err(anyhow::anyhow!("export failed for {}", failures.join("; ")))
    }
}

async fn run_tenant(
    config: &Config,
    runtime: &TenantRuntime,
    mut sink: Box<dyn Sink>,
    mapper: Mapper,
    request: &ExportRequest,
    progress: &siem_pipeline::cli::Progress,
    shutdown: &CancellationToken,
) -> anyhow::Result<RunSummary> {
    let name = runtime.tenant.name.as_str();
    let mode_name = match request.mode {
        Mode::Bulk { .. } => "bulk",
        Mode::Incremental => "incremental",
    };
    let mut status: RunStatus = runtime.store.load(STATUS_CHECKPOINT)?.unwrap_or_default();
    let last = loop {
        let counters = Counters::default();
        let run = TenantRun {
            name,
            client: &runtime.client,
            store: &runtime.store,
            export: &config.export,
            mapper,
            counters: counters.clone(),
            lists: ListProgress::default(),
        };
        let ticker = show_progress(
            progress,
            progress_interval(config),
            name,
            &request.kinds,
            run.lists.clone(),
        );
        let started = std::time::Instant::now();
        let result = export::run(&run, request.mode, &request.kinds, sink.as_mut(), shutdown).await;
        ticker.finish().await;
        let outcome = match &result {
            Ok(summary) => {
                let counts: BTreeMap<String, u64> = summary
                    .sent
                    .iter()
                    .map(|(kind, sent)| (kind.name().to_owned(), *sent))
                    .collect();
                tracing::info!(
                    tenant = name,
                    mode = mode_name,
                    sent = ?counts,
                    skipped = ?summary.skipped,
                    seconds = started.elapsed().as_secs_f64(),
                    interrupted = summary.interrupted,
                    "Run finished."
                );
                status.record(mode_name, Ok(&counts), OffsetDateTime::now_utc());
                Ok(())
            }
            Err(error) => {
                tracing::error!(tenant = name, error = %format!("{error:#}"), "Run failed.");
                status.record(
                    mode_name,
                    Err(format!("{error:#}")),
                    OffsetDateTime::now_utc(),
                );
                Err(format!("{error:#}"))
            }
        };
        runtime.store.commit(STATUS_CHECKPOINT, &status)?;
        if config.export.report_status {
            report_status(runtime, mode_name, &request.kinds, outcome.as_ref().err()).await;
        }
        let summary = result?;
        if request.mode != Mode::Incremental || request.once || summary.interrupted {
            break summary;
        }
        tracing::info!(tenant = name, next_in = %config.export.poll_interval, "Waiting for the next poll.");
        tokio::select! {
            () = shutdown.cancelled() => break summary,
            () = tokio::time::sleep(config.export.poll_interval.get()) => {}
        }
    };
    if let Err(error) = sink.close().await {
        tracing::warn!(tenant = name, %error, "Closing the sink failed.");
    }
    Ok(last)
}

/// How often a progress line is logged when stderr is not a terminal.
const DEFAULT_PROGRESS_INTERVAL: Duration = Duration::from_secs(10);

/// How often a progress line is logged when stderr is not a terminal.
fn progress_interval(config: &Config) -> Duration {
    config.export.progress_interval.map_or(
        DEFAULT_PROGRESS_INTERVAL,
        siem_pipeline::config::Duration::get,
    )
}

/// Shows each type's progress (records read of the API's total, rate, ETA) until
/// finished: bars on a terminal, `Progress.` log lines otherwise.
fn show_progress(
    progress: &siem_pipeline::cli::Progress,
    log_every: Duration,
    tenant: &str,
    kinds: &[Kind],
    lists: ListProgress,
) -> ProgressTicker {
    // A type's task starts when its first record is read (types are read one after
    // another), so its rate and ETA are its own.
    let mut tasks: Vec<(Kind, Option<siem_pipeline::cli::Task>, bool)> =
        kinds.iter().map(|kind| (*kind, None, false)).collect();
    let progress = progress.clone();
    let tenant = tenant.to_owned();
    // Look at least as often as a line is due, so a short interval gets its lines.
    let tick = log_every.min(Duration::from_millis(250));
    let stop = CancellationToken::new();
    let stopped = stop.clone();
    let task = tokio::spawn(async move {
        loop {
            let last = stopped.is_cancelled();
            for (kind, task, finished) in &mut tasks {
                let count = lists.get(*kind);
                // A type not read yet (or already exported by the run resumed) shows nothing.
                if *finished || count.read == 0 {
                    continue;
                }
                let task = task.get_or_insert_with(|| {
                    let name = format!("{tenant}/{kind}");
                    let started = count.started.unwrap_or_else(std::time::Instant::now);
                    progress.task_resumed(&name, None, started, count.resumed_from)
                });
                if let Some(total) = count.total
                    && task.total() != Some(total)
                {
                    task.set_total(total);
                }
                if count.done || last {
                    task.finish_at(count.read);
                    *finished = true;
                } else {
                    task.set(count.read);
                }
            }
            if last {
                break;
            }
            tokio::select! {
                () = stopped.cancelled() => {}
                () = tokio::time::sleep(tick) => {}
            }
        }
    });
    ProgressTicker { stop, task }
}

/// The progress display of one run.
struct ProgressTicker {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl ProgressTicker {
    /// Shows the final counts and ends the display.
    async fn finish(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

async fn report_status(
    runtime: &TenantRuntime,
    mode: &str,
    kinds: &[Kind],
    error: Option<&String>,
) {
    for kind in kinds {
        let asset_type = match kind {
            Kind::Devices => "device",
            Kind::Alerts => "alert",
            Kind::Vulnerabilities => "vulnerability",
        };
        let report = StatusReport {
            status: if error.is_some() {
                ReportStatus::Error
            } else {
                ReportStatus::Success
            },
            message: error.map_or_else(
                || format!("{mode} export of {kind} to the SIEM succeeded"),
                |error| format!("{mode} export of {kind} failed: {error}"),
            ),
            integration_name: "siem".to_owned(),
            playbook_name: format!("iot-siem-exporter {mode}"),
            asset_type: asset_type.to_owned(),
            timestamp: OffsetDateTime::now_utc(),
        };
        if let Err(error) = runtime.client.report_status(&report).await {
            tracing::warn!(tenant = %runtime.tenant.name, %error, "Could not report the status to IoT Security.");
        }
    }
}

/// One tenant's line of `status`.
#[derive(Debug, Clone)]
pub struct TenantStatus {
    /// The tenant.
    pub name: String,
    /// Its state.
    pub state: status::State,
    /// What its runs recorded.
    pub status: RunStatus,
}

/// `status`: every tenant's state, from the state directory.
pub fn status(config: &Config, origin: &Path) -> anyhow::Result<Vec<TenantStatus>> {
    let tenants = usage(config.tenants(origin).map_err(Into::into))?;
    let now = OffsetDateTime::now_utc();
    let mut lines = Vec::new();
    for tenant in tenants {
        let dir: PathBuf = config.state.dir.join(&tenant.name);
        let recorded = status::read(&dir)?.unwrap_or_default();
        lines.push(TenantStatus {
            state: recorded.state(tenant.enabled, now),
            name: tenant.name,
            status: recorded,
        });
    }
    Ok(lines)
}

/// Writes a line for a supervising process (benchmarks) to stdout, at once. Fails (never
/// panics) when stdout is closed: the supervisor is gone, and the caller decides.
pub fn announce(text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}
