//! `bitsight-collector`: every Bitsight finding, once, as raw JSON, XDM or CEF, to any
//! SIEM. See `--help`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use bitsight_collector::app::{self, UsageError};
use bitsight_collector::demo::{self, DemoOptions};
use clap::{Args, Parser, Subcommand, ValueEnum};
use siem_pipeline::config::{LoggingConfig, RecordFormat};
use tokio_util::sync::CancellationToken;

/// Collects Bitsight findings (and optionally their updates and alerts) incrementally,
/// each exactly once, as raw JSON, XDM or CEF, into stdout, a file, syslog, the Cortex
/// XSIAM HTTP collector or Splunk HEC.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Collect every fetch_interval until SIGINT/SIGTERM, or one cycle with --once.
    Run {
        #[command(flatten)]
        config: ConfigArgs,
        /// One cycle, then exit (0 when every stream succeeded).
        #[arg(long)]
        once: bool,
    },
    /// Check the token and each configured company; say which are not in the portfolio.
    TestConnection(ConfigArgs),
    /// Show the cursors and the last cycle.
    Status(ConfigArgs),
    /// Collect a synthetic portfolio served over loopback HTTP; needs nothing.
    Demo {
        /// Synthetic companies.
        #[arg(long, default_value_t = 4)]
        companies: usize,
        /// Findings per company.
        #[arg(long, default_value_t = 1000)]
        findings_per_company: usize,
        /// Seed of the portfolio.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Formats, comma separated; each is collected from a fresh state.
        #[arg(long, value_delimiter = ',', default_value = "json,xdm,cef")]
        format: Vec<FormatArg>,
        /// Write records to this file instead of stdout (benchmarks).
        #[arg(long, hide = true)]
        file: Option<PathBuf>,
    },
    /// Serve a synthetic portfolio until stdin closes, for benchmarks: writes DIR/token
    /// and DIR/{json,xdm,cef}.toml for `run --once`, then says `ready N` (findings) on
    /// stdout; at the end, `requests N` (requests answered).
    #[command(hide = true)]
    ServeSynthetic {
        /// Where the token, the configs, their outputs and states go.
        #[arg(long)]
        dir: PathBuf,
        /// Synthetic companies.
        #[arg(long, default_value_t = 20)]
        companies: usize,
        /// Findings per company.
        #[arg(long, default_value_t = 5000)]
        findings_per_company: usize,
        /// Seed of the portfolio.
        #[arg(long, default_value_t = 1)]
        seed: u64,
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

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Json,
    Xdm,
    Cef,
}

impl From<FormatArg> for RecordFormat {
    fn from(format: FormatArg) -> Self {
        match format {
            FormatArg::Json => Self::Json,
            FormatArg::Xdm => Self::Xdm,
            FormatArg::Cef => Self::Cef,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return fail(&anyhow::Error::new(error).context("cannot start the runtime")),
    };
    match runtime.block_on(run(cli)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
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

#[allow(clippy::print_stdout)]
fn print_stdout(text: &str) {
    print!("{text}");
    // A reader waiting for a line (`serve-synthetic`'s `ready`) must get it now.
    let _ = std::io::Write::flush(&mut std::io::stdout());
}

#[allow(clippy::print_stderr)]
fn print_stderr(text: &str) {
    eprint!("{text}");
}

/// Loads the config; `None` when `--print-config` printed it.
fn load(args: &ConfigArgs) -> anyhow::Result<Option<bitsight_collector::config::Config>> {
    let config = app::load_config(&args.config)?;
    if args.print_config {
        print_stdout(&siem_pipeline::config::to_masked_toml(&config)?);
        return Ok(None);
    }
    siem_pipeline::cli::init_tracing(&config.logging).map_err(|error| UsageError(error.into()))?;
    Ok(Some(config))
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

/// Runs the command; `Ok(false)` is a clean failure already explained (exit 1).
async fn run(cli: Cli) -> anyhow::Result<bool> {
    match cli.command {
        Command::Run { config: args, once } => {
            let Some(config) = load(&args)? else {
                return Ok(true);
            };
            let shutdown = shutdown_on_signals()?;
            app::run(&config, once, &shutdown).await?;
            Ok(true)
        }
        Command::TestConnection(args) => {
            let Some(config) = load(&args)? else {
                return Ok(true);
            };
            let (report, ok) = app::test_connection(&config).await?;
            print_stdout(&report);
            Ok(ok)
        }
        Command::Status(args) => {
            let Some(config) = load(&args)? else {
                return Ok(true);
            };
            print_stdout(&app::status(&config)?);
            Ok(true)
        }
        Command::Demo {
            companies,
            findings_per_company,
            seed,
            format,
            file,
        } => {
            siem_pipeline::cli::init_tracing(&LoggingConfig {
                level: "warn".to_owned(),
                ..LoggingConfig::default()
            })?;
            let shutdown = shutdown_on_signals()?;
            let options = DemoOptions {
                companies,
                findings_per_company,
                seed,
                formats: format.into_iter().map(RecordFormat::from).collect(),
                file,
            };
            let report = demo::run(&options, &shutdown).await?;
            print_stderr(&report.render());
            anyhow::ensure!(
                report.verified(),
                "the demo did not deliver every finding exactly once"
            );
            Ok(true)
        }
        Command::ServeSynthetic {
            dir,
            companies,
            findings_per_company,
            seed,
        } => {
            let spec = demo::BenchPortfolio {
                companies,
                findings_per_company,
                seed,
            };
            let stdin_closed = async {
                let mut stdin = tokio::io::stdin();
                let mut ignored = Vec::new();
                // Any end of stdin, clean or not, ends the serving.
                let _ = tokio::io::AsyncReadExt::read_to_end(&mut stdin, &mut ignored).await;
            };
            let requests = demo::serve_for_bench(
                spec,
                &dir,
                |served| print_stdout(&format!("ready {served}\n")),
                stdin_closed,
            )
            .await?;
            print_stdout(&format!("requests {requests}\n"));
            Ok(true)
        }
    }
}
