//! `xif`: check, run and test Cortex XSIAM modeling rules offline.
//!
//! Exit codes: 0 ok, 1 check or test failure (or bad events in `run`), 2 usage or I/O error.
// The binary owns the terminal: printing is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fs;
use std::io::{self, BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use xdm_modeling::testdata::{self, Outcome, TestData};
use xdm_modeling::{Model, Rules, Schema};

#[derive(Parser)]
#[command(
    name = "xif",
    version,
    about = "Check, run and test XSIAM modeling rules (.xif) offline"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate rules files: errors and warnings as PATH:LINE:COL with the line and a caret.
    Check {
        /// The .xif files.
        #[arg(required = true)]
        rules: Vec<PathBuf>,
    },
    /// Model raw NDJSON events into flat dotted XDM records, one NDJSON line each.
    Run {
        /// The .xif file.
        rules: PathBuf,
        /// The raw dataset's _schema.json, applied to events before the rule.
        #[arg(long)]
        schema: Option<PathBuf>,
        /// Which [MODEL] dataset to run (needed when the file models several).
        #[arg(long)]
        dataset: Option<String>,
        /// NDJSON events; stdin when absent.
        input: Option<PathBuf>,
    },
    /// Run modeling-rule folders' test data as `demisto-sdk modeling-rules test` compares it.
    Test {
        /// Folders holding NAME.xif, NAME_testdata.json and optionally NAME_schema.json.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Exit 0 when at least this percentage of test events pass (default: all must pass).
        #[arg(long, value_name = "PERCENT")]
        min_pass_rate: Option<f64>,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let result = match cli.command {
        Command::Check { rules } => check(&rules),
        Command::Run {
            rules,
            schema,
            dataset,
            input,
        } => run(
            &rules,
            schema.as_deref(),
            dataset.as_deref(),
            input.as_deref(),
        ),
        Command::Test {
            dirs,
            min_pass_rate,
        } => test(&dirs, min_pass_rate),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("xif: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn read(path: &Path) -> Result<String> {
    fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn load_rules(path: &Path) -> Result<Rules> {
    Ok(Rules::parse(path.display().to_string(), read(path)?))
}

fn load_schema(path: &Path) -> Result<Schema> {
    Schema::from_json_str(&read(path)?).with_context(|| format!("{}", path.display()))
}

fn check(paths: &[PathBuf]) -> Result<bool> {
    let mut ok = true;
    for path in paths {
        let rules = load_rules(path)?;
        let diagnostics = rules.check();
        if !diagnostics.is_empty() {
            eprintln!("{}", rules.render(&diagnostics));
        }
        if diagnostics.iter().any(xdm_modeling::Diagnostic::is_error) {
            ok = false;
        }
    }
    Ok(ok)
}

fn run(
    rules_path: &Path,
    schema: Option<&Path>,
    dataset: Option<&str>,
    input: Option<&Path>,
) -> Result<bool> {
    let rules = load_rules(rules_path)?;
    let schema = schema.map(load_schema).transpose()?;
    let model = match rules.compile(dataset, schema.as_ref()) {
        Ok(model) => model,
        Err(e) => {
            eprintln!("{e}");
            return Ok(false);
        }
    };
    let (name, reader): (String, Box<dyn BufRead>) = match input {
        Some(path) => {
            let file =
                fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
            (
                path.display().to_string(),
                Box::new(io::BufReader::with_capacity(1 << 16, file)),
            )
        }
        None => ("<stdin>".to_owned(), Box::new(io::stdin().lock())),
    };
    let stdout = io::stdout().lock();
    let mut out = BufWriter::with_capacity(1 << 16, stdout);
    let counts = run_stream(&model, reader, &mut out, &name)?;
    out.flush().context("cannot write to stdout")?;
    eprintln!(
        "xif run: {} events, {} records, {} dropped by filters, {} bad",
        counts.events, counts.records, counts.dropped, counts.bad
    );
    Ok(counts.bad == 0)
}

#[derive(Default)]
struct Counts {
    events: u64,
    records: u64,
    dropped: u64,
    bad: u64,
}

fn run_stream(
    model: &Model,
    mut reader: Box<dyn BufRead>,
    out: &mut impl Write,
    name: &str,
) -> Result<Counts> {
    let mut counts = Counts::default();
    let mut line = String::new();
    let mut buffer = Vec::with_capacity(4096);
    let mut line_no = 0u64;
    loop {
        line.clear();
        let n = reader
            .read_line(&mut line)
            .with_context(|| format!("cannot read {name}"))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        counts.events += 1;
        buffer.clear();
        match model.apply_json_line(text, &mut buffer) {
            Ok(true) => {
                counts.records += 1;
                buffer.push(b'\n');
                out.write_all(&buffer).context("cannot write to stdout")?;
            }
            Ok(false) => counts.dropped += 1,
            Err(e) => {
                counts.bad += 1;
                eprintln!("{name}:{line_no}: {e}");
            }
        }
    }
    Ok(counts)
}

/// Finds `NAME.xif`, its test data and its schema in a rule folder.
struct RuleFolder {
    rules: PathBuf,
    testdata: Option<PathBuf>,
    schema: Option<PathBuf>,
}

fn find_folder(dir: &Path) -> Result<Vec<RuleFolder>> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    let with_suffix = |suffix: &str| -> Vec<PathBuf> {
        entries
            .iter()
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(suffix))
            })
            .cloned()
            .collect()
    };
    let xifs = with_suffix(".xif");
    let testdatas = with_suffix("_testdata.json");
    let schemas = with_suffix("_schema.json");
    if xifs.is_empty() {
        anyhow::bail!("{}: no .xif file in this folder", dir.display());
    }
    let pick = |xif: &Path, all: &[PathBuf], suffix: &str| -> Option<PathBuf> {
        let stem = xif.file_stem()?.to_str()?;
        let exact = xif.with_file_name(format!("{stem}{suffix}"));
        if exact.exists() {
            Some(exact)
        } else if all.len() == 1 && xifs.len() == 1 {
            all.first().cloned()
        } else {
            None
        }
    };
    Ok(xifs
        .iter()
        .map(|xif| RuleFolder {
            rules: xif.clone(),
            testdata: pick(xif, &testdatas, "_testdata.json"),
            schema: pick(xif, &schemas, "_schema.json"),
        })
        .collect())
}

fn test(dirs: &[PathBuf], min_pass_rate: Option<f64>) -> Result<bool> {
    let (mut passed, mut failed) = (0u64, 0u64);
    for dir in dirs {
        for folder in find_folder(dir)? {
            let (p, f) = test_folder(&folder)?;
            passed += p;
            failed += f;
        }
    }
    println!("{passed} passed, {failed} failed");
    let total = passed + failed;
    Ok(match min_pass_rate {
        #[allow(clippy::cast_precision_loss)] // event counts are far below 2^52.
        Some(min) => total > 0 && (passed as f64) * 100.0 / (total as f64) >= min,
        None => failed == 0,
    })
}

fn test_folder(folder: &RuleFolder) -> Result<(u64, u64)> {
    let name = folder.rules.display().to_string();
    let Some(testdata_path) = &folder.testdata else {
        println!("SKIP {name}: no _testdata.json beside it");
        return Ok((0, 0));
    };
    let data = TestData::from_json_str(&read(testdata_path)?)
        .with_context(|| testdata_path.display().to_string())?;
    let rules = load_rules(&folder.rules)?;
    let schema = folder.schema.as_deref().map(load_schema).transpose()?;
    let (mut passed, mut failed) = (0, 0);
    for (index, event) in data.data.iter().enumerate() {
        let label = format!(
            "{name} event {} ({})",
            index + 1,
            event.test_data_event_id.as_deref().unwrap_or("no id")
        );
        // The schema applies only to the dataset it declares.
        let schema = schema.as_ref().filter(|s| s.has_dataset(&event.dataset));
        let outcome = match rules.compile(Some(&event.dataset), schema) {
            Ok(model) => testdata::run_event(&model, event),
            Err(e) => Outcome::Error(e.to_string()),
        };
        match outcome {
            Outcome::Passed { checked } => {
                passed += 1;
                println!("PASS {label}: {checked} field(s) match");
            }
            Outcome::Failed(diffs) => {
                failed += 1;
                println!("FAIL {label}:");
                for diff in diffs {
                    println!("    {}", diff.describe());
                }
            }
            Outcome::Dropped => {
                failed += 1;
                println!("FAIL {label}: the rule's filters dropped the event (no XDM row)");
            }
            Outcome::Error(message) => {
                failed += 1;
                println!("FAIL {label}: {message}");
            }
        }
    }
    Ok((passed, failed))
}
