//! The commands: building the client, the sink and the formatter from the config, and
//! running `run`, `test-connection` and `status`.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use bitsight_api::{Client, ClientConfig};
use futures::TryStreamExt;
use siem_pipeline::checkpoint::CheckpointStore;
use siem_pipeline::config::{OutputConfig, RecordFormat};
use siem_pipeline::delivery::Counters;
use siem_pipeline::sink::{
    FileSink, FileSinkOptions, HecOptions, HecSink, Sink, SyslogSink, WriterSink, XsiamOptions,
    XsiamSink,
};
use tokio_util::sync::CancellationToken;
use xdm_modeling::Model;

use crate::collect::{self, Company, CycleReport, Plan, Status};
use crate::config::Config;
use crate::format::Formatter;

/// A problem with the command line or the config: exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0:#}")]
pub struct UsageError(pub anyhow::Error);

/// The syslog APP-NAME.
pub const APP_NAME: &str = "bitsight-collector";

fn usage(error: impl Into<anyhow::Error>) -> anyhow::Error {
    UsageError(error.into()).into()
}

/// The Bitsight client for `config`, with the token from its env var or file.
///
/// # Errors
/// A token that cannot be resolved or a client that cannot be built (usage errors).
pub fn client(
    config: &Config,
    lookup_env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<Client> {
    let token = config
        .token_source()
        .resolve("bitsight.api_key", lookup_env)
        .map_err(usage)?;
    let b = &config.bitsight;
    let client_config = ClientConfig {
        allow_http: b.allow_http,
        max_in_flight: b.max_in_flight,
        max_retries: b.max_retries,
        rate_limit_wait: b.rate_limit_wait.get(),
        backoff_base: b.backoff_base.get(),
        backoff_max: b.backoff_max.get(),
        ..ClientConfig::new(bitsight_api::Secret::new(token.expose())).with_base_url(b.url.clone())
    };
    Client::new(client_config).map_err(|e| usage(anyhow::Error::new(e).context("[bitsight]")))
}

/// The modeling rule for XDM output: the configured file or the bundled Bitsight rule.
///
/// # Errors
/// An unreadable or invalid rule (usage errors).
pub fn model(config: &Config) -> anyhow::Result<Model> {
    let Some(path) = &config.modeling.rules else {
        return xdm_modeling::bitsight_model().context("the bundled Bitsight modeling rule");
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read modeling rule {}", path.display()))
        .map_err(usage)?;
    let schema = match &config.modeling.schema {
        None => None,
        Some(schema) => {
            let text = std::fs::read_to_string(schema)
                .with_context(|| format!("cannot read schema {}", schema.display()))
                .map_err(usage)?;
            Some(
                xdm_modeling::Schema::from_json_str(&text)
                    .with_context(|| format!("schema {}", schema.display()))
                    .map_err(usage)?,
            )
        }
    };
    xdm_modeling::Rules::parse(path.display().to_string(), text)
        .compile(Some(xdm_modeling::BITSIGHT_DATASET), schema.as_ref())
        .map_err(usage)
}

/// The formatter for the configured format.
///
/// # Errors
/// See [`model`].
pub fn formatter(config: &Config) -> anyhow::Result<Formatter> {
    let format = config.format();
    let model = match format {
        RecordFormat::Xdm => Some(model(config)?),
        _ => None,
    };
    Ok(Formatter::new(format, model))
}

/// The sink `[output]` names.
///
/// # Errors
/// A secret that cannot be resolved, or a sink that cannot be built.
pub async fn sink(
    config: &Config,
    lookup_env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<Box<dyn Sink>> {
    let format = config.format();
    Ok(match &config.output {
        OutputConfig::Stdout { .. } => Box::new(WriterSink::stdout()),
        OutputConfig::File {
            path,
            rotate_size,
            keep_files,
            ..
        } => Box::new(
            FileSink::open(FileSinkOptions {
                rotate_bytes: rotate_size.map(|size| size.0),
                keep_files: *keep_files,
                ..FileSinkOptions::new(path)
            })
            .await
            .with_context(|| format!("[output] file {}", path.display()))?,
        ),
        OutputConfig::Syslog { .. } => {
            let siem = config
                .siem
                .as_ref()
                .ok_or_else(|| usage(anyhow::anyhow!("[output] kind = \"syslog\" needs [siem]")))?;
            Box::new(SyslogSink::from_config(siem, APP_NAME).context("[siem]")?)
        }
        OutputConfig::Xsiam(xsiam) => {
            let key = xsiam
                .api_key_source()
                .resolve("output.api_key", lookup_env)
                .map_err(usage)?;
            let options = XsiamOptions::from_config(xsiam, key, format);
            Box::new(
                XsiamSink::new(&options)
                    .context("[output] xsiam")
                    .map_err(usage)?,
            )
        }
        OutputConfig::SplunkHec(hec) => {
            let token = hec
                .token_source()
                .resolve("output.token", lookup_env)
                .map_err(usage)?;
            let options = HecOptions::from_config(hec, token, format);
            Box::new(
                HecSink::new(options)
                    .context("[output] splunk-hec")
                    .map_err(usage)?,
            )
        }
    })
}

/// The companies `[bitsight]` names: the listed GUIDs, the whole portfolio, or the
/// token's own company. Names come from the API.
///
/// # Errors
/// The API refused or failed.
pub async fn companies(client: &Client, config: &Config) -> anyhow::Result<Vec<Company>> {
    if config.bitsight.portfolio {
        let listed: Vec<_> = client
            .portfolio()
            .try_collect()
            .await
            .context("cannot read the portfolio")?;
        return Ok(listed
            .iter()
            .filter(|c| !c.guid().is_empty())
            .map(|c| Company {
                guid: c.guid().to_owned(),
                name: c.name().map(str::to_owned),
            })
            .collect());
    }
    let known = client.companies().await.context("cannot list companies")?;
    let name_of = |guid: &str| {
        known
            .companies
            .iter()
            .find(|c| c.guid() == guid)
            .and_then(|c| c.name().map(str::to_owned))
    };
    if config.bitsight.companies.is_empty() {
        let mine = known.my_company.clone().context(
            "the API names no company of yours (my_company); list GUIDs in [bitsight] companies",
        )?;
        let name = name_of(&mine);
        return Ok(vec![Company { guid: mine, name }]);
    }
    Ok(config
        .bitsight
        .companies
        .iter()
        .map(|guid| Company {
            guid: guid.clone(),
            name: name_of(guid),
        })
        .collect())
}

/// The plan of a cycle.
///
/// # Errors
/// Never for a checked config; the filters are re-read.
pub fn plan(config: &Config, companies: Vec<Company>) -> anyhow::Result<Plan> {
    let b = &config.bitsight;
    let today = collect::today();
    let days = b.first_fetch.get().as_secs().div_ceil(86_400);
    let start = today
        .checked_sub(time::Duration::days(
            i64::try_from(days).unwrap_or(i64::MAX),
        ))
        .unwrap_or(time::Date::MIN);
    let alerts = b.alerts.then(|| {
        (!b.portfolio).then(|| {
            companies
                .iter()
                .map(|c| c.guid.clone())
                .collect::<BTreeSet<_>>()
        })
    });
    Ok(Plan {
        filters: config.filters().map_err(|e| usage(anyhow::anyhow!(e)))?,
        track_updates: b.track_updates,
        lookback_days: config.lookback_days(),
        alerts,
        start,
        today,
        max_events: b.max_events_per_fetch,
        company_concurrency: b.company_concurrency,
        page_size: b.page_size,
        batch_records: b.batch_size,
        batch_bytes: usize::try_from(b.batch_bytes.0).unwrap_or(usize::MAX),
        companies,
    })
}

/// Opens the state directory.
///
/// # Errors
/// The directory cannot be created or another process holds it.
pub fn open_store(config: &Config) -> anyhow::Result<CheckpointStore> {
    CheckpointStore::open(&config.state.dir)
        .with_context(|| format!("[state] dir {}", config.state.dir.display()))
}

/// Records a cycle in the status checkpoint.
///
/// # Errors
/// The checkpoint cannot be written.
pub fn record_status(
    store: &CheckpointStore,
    report: Option<&CycleReport>,
    error: Option<&str>,
) -> anyhow::Result<()> {
    let mut status: Status = store.load("status")?.unwrap_or_default();
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .ok();
    status.last_run.clone_from(&now);
    status.last_failures.clear();
    status.last_delivered.clear();
    if let Some(report) = report {
        status.last_failures.clone_from(&report.failures);
        status.last_delivered.clone_from(&report.delivered);
        for (kind, n) in &report.delivered {
            *status.total_delivered.entry(kind.clone()).or_default() += n;
        }
    }
    if let Some(error) = error {
        status.last_failures.push(error.to_owned());
    }
    if status.last_failures.is_empty() {
        status.last_success = now;
    }
    store.commit("status", &status)?;
    Ok(())
}

/// `run`: cycles every `fetch_interval` until a signal, or once.
///
/// # Errors
/// With `once`: any failure of the cycle. Without: only failures that a later cycle
/// cannot fix (the state directory, the config).
pub async fn run(
    config: &Config,
    once: bool,
    shutdown: &CancellationToken,
) -> anyhow::Result<Vec<CycleReport>> {
    let lookup = |name: &str| std::env::var(name).ok();
    let formatter = Arc::new(formatter(config)?);
    let client = client(config, lookup)?;
    let store = open_store(config)?;
    let mut sink = sink(config, lookup).await?;
    if let Some(metrics) = &config.metrics {
        siem_pipeline::metrics::install_prometheus(metrics.listen)?;
    }
    tracing::info!(sink = %sink.describe(), format = ?config.format(), "Collector starting.");
    let counters = Counters::default();
    let mut reports = Vec::new();
    loop {
        let outcome = cycle(
            config,
            &client,
            &formatter,
            &store,
            sink.as_mut(),
            &counters,
            shutdown,
        )
        .await;
        match outcome {
            Ok(report) => {
                record_status(&store, Some(&report), None)?;
                tracing::info!(
                    delivered = report.total(),
                    companies = report.companies,
                    failures = report.failures.len(),
                    capped = report.capped,
                    seconds = report.seconds,
                    "Cycle finished."
                );
                let failed = !report.failures.is_empty();
                let interrupted = report.interrupted;
                let failures = report.failures.join("; ");
                reports.push(report);
                if once && failed {
                    sink.close().await.ok();
                    anyhow::bail!("some streams failed: {failures}");
                }
                if interrupted {
                    break;
                }
            }
            Err(error) => {
                record_status(&store, None, Some(&format!("{error:#}")))?;
                if once || error.downcast_ref::<UsageError>().is_some() {
                    sink.close().await.ok();
                    return Err(error);
                }
                tracing::error!(error = %format!("{error:#}"), "Cycle failed; retrying next interval.");
            }
        }
        if once {
            break;
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(config.bitsight.fetch_interval.get()) => {}
        }
    }
    sink.close().await.context("closing the sink")?;
    Ok(reports)
}

/// One cycle: resolve companies, then collect.
async fn cycle(
    config: &Config,
    client: &Client,
    formatter: &Arc<Formatter>,
    store: &CheckpointStore,
    sink: &mut dyn Sink,
    counters: &Counters,
    shutdown: &CancellationToken,
) -> anyhow::Result<CycleReport> {
    let companies = companies(client, config).await?;
    let plan = plan(config, companies)?;
    note_filter_change(store, &plan)?;
    let progress = spawn_progress(counters.clone());
    let report =
        collect::run_cycle(client, &plan, formatter, store, sink, counters, shutdown).await;
    progress.cancel();
    Ok(report?)
}

/// The filters of the last cycle (checkpoint `filters`).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct FilterRecord {
    filters: String,
}

/// Warns when the filters changed since the last cycle, and records the new ones. The
/// cursors stay valid: they hold dates and finding identities, never offsets.
fn note_filter_change(store: &CheckpointStore, plan: &Plan) -> anyhow::Result<()> {
    let now = collect::filters_fingerprint(&plan.filters);
    let before: Option<FilterRecord> = store.load("filters")?;
    if let Some(before) = &before
        && before.filters != now
    {
        tracing::warn!(
            before = %before.filters,
            now = %now,
            "filters changed since the last run: each cursor keeps its date and identities, so nothing delivered is repeated; \
             the new filters apply from each cursor's date on, and older findings that only the new filters admit are not \
             backfilled (start with an empty state directory to backfill from first_fetch)"
        );
    }
    if before.is_none_or(|before| before.filters != now) {
        store.commit("filters", &FilterRecord { filters: now })?;
    }
    Ok(())
}

/// Progress bars on a terminal, periodic log lines otherwise, until cancelled.
fn spawn_progress(counters: Counters) -> CancellationToken {
    let stop = CancellationToken::new();
    let done = stop.clone();
    tokio::spawn(async move {
        let progress = siem_pipeline::cli::Progress::for_stderr();
        let mut task = progress.task("records", None);
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tokio::select! {
                () = done.cancelled() => break,
                _ = tick.tick() => {}
            }
            let sent: u64 = counters.snapshot().per_type.values().map(|c| c.sent).sum();
            task.set(sent);
        }
        let sent: u64 = counters.snapshot().per_type.values().map(|c| c.sent).sum();
        task.set(sent);
        task.finish();
    });
    stop
}

/// `test-connection`: the token, then each configured company. Returns the report and
/// whether everything is reachable.
///
/// # Errors
/// The token cannot be resolved.
pub async fn test_connection(config: &Config) -> anyhow::Result<(String, bool)> {
    let client = client(config, |name| std::env::var(name).ok())?;
    let mut text = String::new();
    let known = match client.companies().await {
        Ok(known) => known,
        Err(error) => {
            text.push_str(&format!(
                "Bitsight API {}: FAILED: {error}\n",
                config.bitsight.url
            ));
            return Ok((text, false));
        }
    };
    text.push_str(&format!(
        "Bitsight API {}: token accepted ({} companies visible)\n",
        config.bitsight.url,
        known.companies.len()
    ));
    let mut ok = true;
    let wanted: Vec<String> = if config.bitsight.portfolio {
        text.push_str("Companies: the whole portfolio\n");
        Vec::new()
    } else if config.bitsight.companies.is_empty() {
        match &known.my_company {
            Some(mine) => vec![mine.clone()],
            None => {
                text.push_str(
                    "my_company: the API names none; list GUIDs in [bitsight] companies\n",
                );
                ok = false;
                Vec::new()
            }
        }
    } else {
        config.bitsight.companies.clone()
    };
    for guid in &wanted {
        let listed = known.companies.iter().find(|c| c.guid() == guid.as_str());
        match listed {
            Some(company) => text.push_str(&format!(
                "Company {guid} ({}): in the portfolio\n",
                company.name().unwrap_or("?")
            )),
            None => {
                ok = false;
                text.push_str(&format!(
                    "Company {guid}: NOT in the portfolio of this token\n"
                ));
            }
        }
    }
    Ok((text, ok))
}

/// `status`: the cursors and the last cycle, as text.
///
/// # Errors
/// The state directory cannot be read.
pub fn status(config: &Config) -> anyhow::Result<String> {
    let store = open_store(config)?;
    let status: Status = store.load("status")?.unwrap_or_default();
    let mut text = String::new();
    text.push_str(&format!(
        "last run: {}\nlast success: {}\n",
        status.last_run.as_deref().unwrap_or("never"),
        status.last_success.as_deref().unwrap_or("never")
    ));
    for failure in &status.last_failures {
        text.push_str(&format!("last failure: {failure}\n"));
    }
    let counts = |map: &std::collections::BTreeMap<String, u64>| {
        map.iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    text.push_str(&format!(
        "last run delivered: {}\ntotal delivered: {}\n",
        counts(&status.last_delivered),
        counts(&status.total_delivered)
    ));
    for name in store.names()? {
        let is_cursor = ["findings.", "updates.", "alerts"]
            .iter()
            .any(|prefix| name.starts_with(prefix));
        if !is_cursor {
            continue;
        }
        if let Some(cursor) = store.load::<crate::cursor::Cursor>(&name)? {
            text.push_str(&format!(
                "cursor {name}: {} ({} keys held for the lookback window)\n",
                crate::format::midnight_rfc3339(cursor.date)
                    .get(..10)
                    .unwrap_or_default(),
                cursor.key_count()
            ));
        }
    }
    Ok(text)
}

/// Reads the config for a command, mapping every problem to a usage error.
///
/// # Errors
/// A config that cannot be read or used.
pub fn load_config(path: &Path) -> anyhow::Result<Config> {
    Config::load(path).map_err(usage)
}
