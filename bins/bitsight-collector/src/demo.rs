//! `demo`: a synthetic portfolio served over loopback HTTP, collected by the real
//! client, cursor, formatter, sink and checkpoint store, in each format.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use bitsight_api::synthetic::{PortfolioSpec, SYNTHETIC_TOKEN, SyntheticPortfolio, serve};
use siem_pipeline::config::RecordFormat;
use siem_pipeline::delivery::Counters;
use tokio_util::sync::CancellationToken;

use crate::app;
use crate::collect::{self, CycleReport};
use crate::config::Config;

/// Fewer findings than this make the demo's summary leave the rate out.
pub const MIN_FINDINGS_FOR_RATE: u64 = 1000;

/// What the demo collects.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Synthetic companies (the first is "my company"; the demo collects the portfolio).
    pub companies: usize,
    /// Findings per company.
    pub findings_per_company: usize,
    /// The seed of the portfolio.
    pub seed: u64,
    /// Formats, each collected once from a fresh state.
    pub formats: Vec<RecordFormat>,
    /// Records to this file instead of stdout.
    pub file: Option<PathBuf>,
}

/// One format's run.
#[derive(Debug, Clone)]
pub struct DemoRun {
    /// The format.
    pub format: RecordFormat,
    /// What the cycle did.
    pub report: CycleReport,
}

/// The demo's result.
#[derive(Debug, Clone)]
pub struct DemoReport {
    /// Findings in the synthetic portfolio.
    pub expected: u64,
    /// One run per format.
    pub runs: Vec<DemoRun>,
}

fn format_name(format: RecordFormat) -> &'static str {
    match format {
        RecordFormat::Json => "json",
        RecordFormat::Xdm => "xdm",
        RecordFormat::Cef => "cef",
    }
}

impl DemoReport {
    /// Whether every run delivered every finding (and no more).
    #[must_use]
    pub fn verified(&self) -> bool {
        self.runs
            .iter()
            .all(|run| run.report.total() == self.expected && run.report.failures.is_empty())
    }

    /// The summary for stderr.
    #[must_use]
    pub fn render(&self) -> String {
        let mut text = format!(
            "bitsight-collector demo: {} synthetic findings served over loopback HTTP\n",
            self.expected
        );
        for run in &self.runs {
            let total = run.report.total();
            // A rate over a few hundred findings measures start-up, not collection.
            let rate = if total >= MIN_FINDINGS_FOR_RATE {
                #[allow(clippy::cast_precision_loss)] // a rate for people to read
                let rate = total as f64 / run.report.seconds.max(1e-9);
                format!(" ({rate:.0} findings/s)")
            } else {
                String::new()
            };
            text.push_str(&format!(
                "  {}: {total} findings in {:.3} s{rate}, {}\n",
                format_name(run.format),
                run.report.seconds,
                if total == self.expected && run.report.failures.is_empty() {
                    "each exactly once".to_owned()
                } else {
                    format!("expected {} ({:?})", self.expected, run.report.failures)
                }
            ));
        }
        text
    }
}

/// The synthetic portfolio of `companies` x `findings_per_company`, first seen over the
/// last 60 days.
fn portfolio(companies: usize, findings_per_company: usize, seed: u64) -> SyntheticPortfolio {
    let today = collect::today();
    SyntheticPortfolio::generate(PortfolioSpec {
        seed,
        companies: companies.max(1),
        findings_per_company,
        first_date: today - time::Duration::days(60),
        last_date: today,
    })
}

/// The collector's config against the synthetic server at `url`: the whole portfolio,
/// everything since the portfolio's first date, in one cycle. `token_file` names the
/// token's file (`None`: the caller supplies the token itself).
fn collector_config(
    url: &str,
    token_file: Option<&std::path::Path>,
    expected: u64,
    format: RecordFormat,
    output: Option<&std::path::Path>,
    state: &std::path::Path,
) -> String {
    let output = match output {
        Some(path) => format!(
            "kind = \"file\"\npath = {}\n",
            toml_string(&path.display().to_string())
        ),
        None => "kind = \"stdout\"\n".to_owned(),
    };
    let token = token_file.map_or_else(String::new, |path| {
        format!(
            "api_key_file = {}\n",
            toml_string(&path.display().to_string())
        )
    });
    format!(
        "[bitsight]\nurl = {url}\n{token}allow_http = true\nportfolio = true\nfirst_fetch = \"61d\"\n\
         max_events_per_fetch = {max}\nrate_limit_wait = \"100ms\"\n\
         backoff_base = \"10ms\"\nbackoff_max = \"1s\"\n\
         [output]\n{output}format = \"{format}\"\n[state]\ndir = {state}\n[logging]\nlevel = \"warn\"\n",
        url = toml_string(url),
        max = expected.max(1),
        format = format_name(format),
        state = toml_string(&state.display().to_string()),
    )
}

/// Runs the demo.
///
/// # Errors
/// No loopback port, no temporary state directory, or a failed cycle.
pub async fn run(
    options: &DemoOptions,
    shutdown: &CancellationToken,
) -> anyhow::Result<DemoReport> {
    let portfolio = portfolio(
        options.companies,
        options.findings_per_company,
        options.seed,
    );
    let expected = u64::try_from(portfolio.total_findings()).unwrap_or(u64::MAX);
    let server = serve(portfolio)
        .await
        .context("cannot serve the synthetic portfolio")?;
    let mut runs = Vec::new();
    for format in &options.formats {
        let state = tempfile::tempdir().context("cannot make a temporary state directory")?;
        let text = collector_config(
            server.base_url().as_str(),
            None,
            expected,
            *format,
            options.file.as_deref(),
            state.path(),
        );
        let config: Config =
            siem_pipeline::config::parse_config(&text, std::path::Path::new("demo"))
                .context("the demo's own config")?;
        let lookup = |_: &str| Some(SYNTHETIC_TOKEN.to_owned());
        let client = app::client(&config, lookup)?;
        let formatter = Arc::new(app::formatter(&config)?);
        let store = app::open_store(&config)?;
        let mut sink = app::sink(&config, lookup).await?;
        let companies = app::companies(&client, &config).await?;
        let plan = app::plan(&config, companies)?;
        let report = collect::run_cycle(
            &client,
            &plan,
            &formatter,
            &store,
            sink.as_mut(),
            &Counters::default(),
            shutdown,
        )
        .await?;
        sink.close().await.context("closing the sink")?;
        runs.push(DemoRun {
            format: *format,
            report,
        });
        if shutdown.is_cancelled() {
            break;
        }
    }
    server.shutdown().await;
    Ok(DemoReport { expected, runs })
}

/// What [`serve_for_bench`] serves.
#[derive(Debug, Clone, Copy)]
pub struct BenchPortfolio {
    /// Synthetic companies.
    pub companies: usize,
    /// Findings per company.
    pub findings_per_company: usize,
    /// The seed of the portfolio.
    pub seed: u64,
}

/// Serves a synthetic portfolio for benchmarks, so that the collector measured runs in
/// a process of its own. Writes into `dir` the token (`token`) and one config per
/// format (`json.toml`, `xdm.toml`, `cef.toml`: output `out.FORMAT`, state
/// `state-FORMAT/`), then calls `ready` with the number of findings served and serves
/// until `until` completes. Returns the number of requests answered.
///
/// # Errors
/// `dir` cannot be written or no loopback port is free.
pub async fn serve_for_bench(
    spec: BenchPortfolio,
    dir: &std::path::Path,
    ready: impl FnOnce(u64),
    until: impl Future<Output = ()>,
) -> anyhow::Result<u64> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let portfolio = portfolio(spec.companies, spec.findings_per_company, spec.seed);
    let expected = u64::try_from(portfolio.total_findings()).unwrap_or(u64::MAX);
    let server = serve(portfolio)
        .await
        .context("cannot serve the synthetic portfolio")?;
    let token = dir.join("token");
    std::fs::write(&token, SYNTHETIC_TOKEN)
        .with_context(|| format!("cannot write {}", token.display()))?;
    for format in [RecordFormat::Json, RecordFormat::Xdm, RecordFormat::Cef] {
        let name = format_name(format);
        let text = collector_config(
            server.base_url().as_str(),
            Some(&token),
            expected,
            format,
            Some(&dir.join(format!("out.{name}"))),
            &dir.join(format!("state-{name}")),
        );
        let path = dir.join(format!("{name}.toml"));
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    ready(expected);
    until.await;
    let requests = server.requests();
    server.shutdown().await;
    Ok(requests)
}

fn toml_string(text: &str) -> String {
    // A TOML basic string is a JSON string for everything a path or URL holds.
    serde_json::Value::from(text).to_string()
}
