//! `iot-siem-exporter`: Palo Alto Networks IoT Security devices, alerts and
//! vulnerabilities to any SIEM as CEF over syslog. See `--help`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use iot_siem_exporter::app::{self, ExportRequest, Output, UsageError};
use iot_siem_exporter::cef::Profile;
use iot_siem_exporter::config::Config;
use iot_siem_exporter::demo::{self, DemoOptions};
use iot_siem_exporter::export::{Kind, Mode, RunSummary};
use siem_pipeline::config::LoggingConfig;
use tokio_util::sync::CancellationToken;

/// Exports Palo Alto Networks IoT Security devices, alerts and vulnerabilities to any
/// SIEM as CEF over syslog (UDP, TCP, TLS, RELP), in bulk or incrementally, without
/// losing a record.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Where records go: the SIEM in [siem], or stdout (one CEF line per record; logs,
    /// progress and summaries go to stderr).
    #[arg(long, global = true, value_enum, default_value = "siem")]
    output: Output,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Send the test event to the SIEM and reach every tenant.
    TestConnection(ConfigArgs),
    /// Export the whole inventory, resuming an interrupted bulk export.
    Bulk {
        #[command(flatten)]
        config: ConfigArgs,
        /// Record types, comma separated.
        #[arg(long, value_delimiter = ',', default_value = "devices,alerts,vulnerabilities", value_parser = parse_kind)]
        types: Vec<Kind>,
        /// Throttle like the old job: at most this many records per type, then wait
        /// `--every`.
        #[arg(long, requires = "every")]
        batch: Option<usize>,
        /// The wait between throttled batches, e.g. `15m`.
        #[arg(long, requires = "batch")]
        every: Option<siem_pipeline::config::Duration>,
    },
    /// Export what changed, every poll interval (or once).
    Incremental {
        #[command(flatten)]
        config: ConfigArgs,
        /// One poll, then exit.
        #[arg(long)]
        once: bool,
        /// Record types, comma separated.
        #[arg(long, value_delimiter = ',', default_value = "devices,alerts,vulnerabilities", value_parser = parse_kind)]
        types: Vec<Kind>,
    },
    /// Show each tenant's status: Active, Error, Inactive or Disabled.
    Status(ConfigArgs),
    /// Serve a synthetic tenant and a counting TLS receiver until stdin closes
    /// (benchmarks: `bulk --config DIR/config.toml` runs against them).
    #[command(hide = true)]
    ServeSynthetic {
        /// Where the config, endpoints and TLS files go.
        #[arg(long)]
        dir: PathBuf,
        /// Synthetic devices.
        #[arg(long, default_value_t = 40_000)]
        devices: u64,
        /// Synthetic alerts.
        #[arg(long, default_value_t = 40_000)]
        alerts: u64,
        /// Synthetic vulnerability instances.
        #[arg(long, default_value_t = 40_000)]
        vulnerabilities: u64,
    },
    /// Run the whole path against a synthetic tenant; needs nothing.
    Demo {
        /// Synthetic devices.
        #[arg(long, default_value_t = 2000)]
        devices: u64,
        /// Synthetic alerts.
        #[arg(long, default_value_t = 2000)]
        alerts: u64,
        /// Synthetic vulnerability instances.
        #[arg(long, default_value_t = 2000)]
        vulnerabilities: u64,
        /// Seed of the synthetic tenant.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// CEF profile.
        #[arg(long, value_enum, default_value = "panw")]
        profile: ProfileArg,
    },
}

#[derive(Args)]
struct ConfigArgs {
    /// The TOML config file.
    #[arg(long, short = 'c')]
    config: PathBuf,
    /// Print the effective config (secrets masked) and exit.
    #[arg(long)]
    print_config: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ProfileArg {
    Panw,
    Strict,
}

fn parse_kind(text: &str) -> Result<Kind, String> {
    Kind::parse(text)
        .ok_or_else(|| format!("unknown type {text:?}; use devices, alerts or vulnerabilities"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Exports run on one thread (the memory budget in `export`); the demo and the bench
    // server host a tenant and a receiver beside the exporter and use both cores.
    let mut builder = match cli.command {
        Command::Demo { .. } | Command::ServeSynthetic { .. } => {
            tokio::runtime::Builder::new_multi_thread()
        }
        _ => tokio::runtime::Builder::new_current_thread(),
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => return fail(&anyhow::Error::new(error).context("cannot start the runtime")),
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

// The binary owns the terminal: errors go to stderr.
#[allow(clippy::print_stderr)]
fn fail(error: &anyhow::Error) -> ExitCode {
    eprintln!("error: {error:#}");
    if error.downcast_ref::<UsageError>().is_some() {
        ExitCode::from(2)
    } else {
        ExitCode::FAILURE
    }
}

fn load(args: &ConfigArgs) -> anyhow::Result<Option<Config>> {
    let config = Config::load(&args.config).map_err(UsageError)?;
    if args.print_config {
        print_stdout(&siem_pipeline::config::to_masked_toml(&config)?)?;
        return Ok(None);
    }
    siem_pipeline::cli::init_tracing(&config.logging).map_err(|e| UsageError(e.into()))?;
    Ok(Some(config))
}

/// Writes to stdout; a closed stdout is an error (exit 1), never a panic.
fn print_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .context("cannot write to stdout")
}

#[allow(clippy::print_stderr)]
fn print_stderr(text: &str) {
    eprint!("{text}");
}

/// Cancelled on SIGINT or SIGTERM: the batch in flight finishes and is committed.
fn shutdown_on_signals() -> anyhow::Result<CancellationToken> {
    let token = CancellationToken::new();
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot listen for SIGTERM")?;
    let cancel = token.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
        tracing::info!("Shutdown requested: finishing the batch in flight.");
        cancel.cancel();
    });
    Ok(token)
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let output = cli.output;
    match cli.command {
        Command::TestConnection(args) => {
            let Some(config) = load(&args)? else {
                return Ok(());
            };
            let report = app::test_connection(&config, &args.config, output).await?;
            match output {
                Output::Siem => print_stdout(&report)?,
                Output::Stdout => print_stderr(&report),
            }
            Ok(())
        }
        Command::Bulk {
            config: args,
            types,
            batch,
            every,
        } => {
            let Some(config) = load(&args)? else {
                return Ok(());
            };
            if batch == Some(0) {
                return Err(UsageError(anyhow::anyhow!("--batch must be at least 1")).into());
            }
            let throttle = batch.zip(every).map(|(batch, every)| (batch, every.get()));
            export(
                &config,
                &args.config,
                Mode::Bulk { throttle },
                types,
                false,
                output,
            )
            .await
        }
        Command::Incremental {
            config: args,
            once,
            types,
        } => {
            let Some(config) = load(&args)? else {
                return Ok(());
            };
            export(
                &config,
                &args.config,
                Mode::Incremental,
                types,
                once,
                output,
            )
            .await
        }
        Command::Status(args) => {
            let Some(config) = load(&args)? else {
                return Ok(());
            };
            let lines = app::status(&config, &args.config)?;
            let mut text = String::new();
            for line in lines {
                let status = &line.status;
                let when = |at: Option<time::OffsetDateTime>| {
                    at.and_then(|at| {
                        at.format(&time::format_description::well_known::Rfc3339)
                            .ok()
                    })
                    .unwrap_or_else(|| "never".to_owned())
                };
                text.push_str(&format!(
                    "{}: {}\n  last run: {} ({})\n  last success: {}\n",
                    line.name,
                    line.state.as_str(),
                    when(status.last_run),
                    status.last_mode.as_deref().unwrap_or("-"),
                    when(status.last_success),
                ));
                if let Some(error) = &status.last_error {
                    text.push_str(&format!("  last error: {error}\n"));
                }
                let counts = |counts: &std::collections::BTreeMap<String, u64>| {
                    counts
                        .iter()
                        .map(|(kind, n)| format!("{kind} {n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                text.push_str(&format!(
                    "  last run sent: {}\n  total sent: {}\n",
                    counts(&status.last_counts),
                    counts(&status.total_counts)
                ));
            }
            print_stdout(&text)?;
            Ok(())
        }
        Command::ServeSynthetic {
            dir,
            devices,
            alerts,
            vulnerabilities,
        } => {
            let spec = iot_security_api::synthetic::TenantSpec {
                seed: 1,
                devices,
                alerts,
                vulnerabilities,
            };
            let received = demo::serve_for_bench(spec, &dir).await?;
            // Nobody to tell when stdout is closed: the counts go to the log instead.
            if let Err(error) = app::announce(&format!(
                "received {} peer {}\n",
                received.exporter, received.peer
            )) {
                tracing::warn!(%error, exporter = received.exporter, peer = received.peer, "Cannot write the counts to stdout.");
            }
            Ok(())
        }
        Command::Demo {
            devices,
            alerts,
            vulnerabilities,
            seed,
            profile,
        } => {
            siem_pipeline::cli::init_tracing(&LoggingConfig {
                level: "warn".to_owned(),
                ..LoggingConfig::default()
            })?;
            let shutdown = shutdown_on_signals()?;
            let options = DemoOptions {
                devices,
                alerts,
                vulnerabilities,
                seed,
                profile: match profile {
                    ProfileArg::Panw => Profile::Panw,
                    ProfileArg::Strict => Profile::Strict,
                },
            };
            let report = demo::run(options, output, &shutdown).await?;
            let summary = report.render();
            match output {
                Output::Siem => print_stdout(&summary)?,
                Output::Stdout => print_stderr(&summary),
            }
            anyhow::ensure!(
                report.verified(),
                "the receiver did not get every record exactly once"
            );
            Ok(())
        }
    }
}

async fn export(
    config: &Config,
    origin: &Path,
    mode: Mode,
    kinds: Vec<Kind>,
    once: bool,
    output: Output,
) -> anyhow::Result<()> {
    let shutdown = shutdown_on_signals()?;
    let request = ExportRequest {
        mode,
        kinds,
        once,
        output,
    };
    let started = std::time::Instant::now();
    let summaries = app::export(config, origin, &request, &shutdown).await?;
    let total: u64 = summaries.values().map(RunSummary::total_sent).sum();
    tracing::info!(
        tenants = summaries.len(),
        records = total,
        seconds = started.elapsed().as_secs_f64(),
        "Export finished."
    );
    Ok(())
}
