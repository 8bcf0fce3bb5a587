//! Terminal helpers for the binaries (feature `cli`): log setup and progress.
//!
//! Everything here writes to stderr, so stdout can carry records only.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, LoggingConfig};

/// Installs the global tracing subscriber: human lines or JSON objects on stderr,
/// filtered by `config.level` (a level or a full filter such as `info,reqwest=warn`).
pub fn init_tracing(config: &LoggingConfig) -> Result<(), CliError> {
    let filter = EnvFilter::try_new(&config.level).map_err(|error| CliError::LogLevel {
        level: config.level.clone(),
        reason: error.to_string(),
    })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match config.format {
        LogFormat::Human => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    installed.map_err(|error| CliError::AlreadyInstalled(error.to_string()))
}

/// Terminal setup failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// The log level is not a valid filter.
    #[error("invalid logging.level {level:?}: {reason}; use error, warn, info, debug or trace")]
    LogLevel {
        /// The configured level.
        level: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A subscriber was already installed.
    #[error("cannot install the log subscriber: {0}")]
    AlreadyInstalled(String),
}

/// Progress of several tasks: bars on a terminal, periodic log lines otherwise.
#[derive(Debug, Clone)]
pub struct Progress {
    bars: Option<MultiProgress>,
    log_every: Duration,
}

impl Progress {
    /// Bars when stderr is a terminal, else an `info` log line per task every 10 s.
    pub fn for_stderr() -> Self {
        Self::new(std::io::stderr().is_terminal(), Duration::from_secs(10))
    }

    /// Bars when stderr is a terminal, else an `info` log line per task every
    /// `log_every` (and a last one when the task finishes).
    pub fn for_stderr_every(log_every: Duration) -> Self {
        Self::new(std::io::stderr().is_terminal(), log_every)
    }

    /// Bars when `terminal`, else a log line per task every `log_every`.
    pub fn new(terminal: bool, log_every: Duration) -> Self {
        Self {
            bars: terminal.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
            log_every,
        }
    }

    /// A task named `name` (a record type) with `total` items when known.
    pub fn task(&self, name: &str, total: Option<u64>) -> Task {
        self.task_since(name, total, Instant::now())
    }

    /// Like [`Progress::task`] for work that began at `started` (its rate and ETA count
    /// from then).
    pub fn task_since(&self, name: &str, total: Option<u64>, started: Instant) -> Task {
        self.task_resumed(name, total, started, 0)
    }

    /// Like [`Progress::task_since`] for work resumed where an earlier run left it, with
    /// `already_done` items done before: the count starts there, but the rate and ETA
    /// count only the items done since `started`.
    pub fn task_resumed(
        &self,
        name: &str,
        total: Option<u64>,
        started: Instant,
        already_done: u64,
    ) -> Task {
        let bar = self.bars.as_ref().map(|bars| {
            let bar = bars.add(ProgressBar::no_length());
            bar.set_style(style(total.is_some()));
            if let Some(total) = total {
                bar.set_length(total);
            }
            bar.set_prefix(name.to_owned());
            // The bar's own rate and ETA count from here, not from 0.
            bar.set_position(already_done);
            bar.reset_eta();
            bar
        });
        let now = Instant::now();
        Task {
            bar,
            name: name.to_owned(),
            total,
            done: already_done,
            resumed_from: already_done,
            started,
            last_log: now,
            log_every: self.log_every,
        }
    }
}

fn style(with_total: bool) -> ProgressStyle {
    let template = if with_total {
        "{prefix:>16} [{bar:30}] {pos}/{len} {per_sec} ETA {eta}"
    } else {
        "{prefix:>16} {spinner} {pos} {per_sec}"
    };
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

/// One task's progress; see [`Progress::task`].
#[derive(Debug)]
pub struct Task {
    bar: Option<ProgressBar>,
    name: String,
    total: Option<u64>,
    done: u64,
    /// Items done before this run began: not part of its rate.
    resumed_from: u64,
    started: Instant,
    last_log: Instant,
    log_every: Duration,
}

impl Task {
    /// Sets how many items are done.
    pub fn set(&mut self, done: u64) {
        self.done = done;
        if let Some(bar) = &self.bar {
            bar.set_position(done);
        } else if self.last_log.elapsed() >= self.log_every {
            self.last_log = Instant::now();
            self.log_line();
        }
    }

    /// Sets (or learns) the total.
    pub fn set_total(&mut self, total: u64) {
        self.total = Some(total);
        if let Some(bar) = &self.bar {
            bar.set_style(style(true));
            bar.set_length(total);
        }
    }

    /// The total, when known.
    pub fn total(&self) -> Option<u64> {
        self.total
    }

    /// Sets how many items are done and ends the task, leaving its final line.
    pub fn finish_at(&mut self, done: u64) {
        self.done = done;
        if let Some(bar) = &self.bar {
            bar.set_position(done);
        }
        self.finish();
    }

    /// Ends the task, leaving its final line.
    pub fn finish(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        } else {
            self.log_line();
        }
    }

    /// Items per second since the task started (items done before a resumed task
    /// started do not count).
    pub fn rate(&self) -> f64 {
        let seconds = self.started.elapsed().as_secs_f64();
        // Precision loss past 2^53 items is irrelevant for a rate.
        #[allow(clippy::cast_precision_loss)]
        let done = self.done.saturating_sub(self.resumed_from) as f64;
        if seconds > 0.0 { done / seconds } else { 0.0 }
    }

    /// Estimated time left, when the total is known and progress was made.
    pub fn eta(&self) -> Option<Duration> {
        let total = self.total?;
        let rate = self.rate();
        // As above: precision loss is irrelevant for an estimate.
        #[allow(clippy::cast_precision_loss)]
        let left = total.saturating_sub(self.done) as f64;
        (rate > 0.0).then(|| Duration::from_secs_f64(left / rate))
    }

    fn log_line(&self) {
        let rate = self.rate();
        match (self.total, self.eta()) {
            (Some(total), Some(eta)) => tracing::info!(
                task = %self.name,
                done = self.done,
                total,
                per_second = rate.round(),
                eta_seconds = eta.as_secs(),
                "Progress."
            ),
            _ => {
                tracing::info!(task = %self.name, done = self.done, per_second = rate.round(), "Progress.");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eta_follows_the_rate() {
        let mut task = Progress::new(false, Duration::from_secs(3600)).task("devices", Some(100));
        assert_eq!(task.eta(), None);
        task.started = Instant::now() - Duration::from_secs(10);
        task.set(50);
        let eta = task.eta().unwrap().as_secs_f64();
        assert!((9.0..=11.0).contains(&eta), "{eta}");
        task.finish();
    }

    #[test]
    fn a_resumed_task_counts_its_rate_and_eta_from_where_it_resumed() {
        let progress = Progress::new(false, Duration::from_secs(3600));
        let started = Instant::now() - Duration::from_secs(10);
        let mut task = progress.task_resumed("devices", Some(3500), started, 2000);
        // Nothing done in this run yet: no rate, no ETA (not 2000 in 10 s).
        assert_eq!(task.rate(), 0.0);
        assert_eq!(task.eta(), None);
        task.set(2500);
        // 500 items in 10 s: 50 a second, and 1000 left take 20 s.
        let rate = task.rate();
        assert!((45.0..=50.5).contains(&rate), "{rate}");
        let eta = task.eta().unwrap().as_secs_f64();
        assert!((19.5..=22.5).contains(&eta), "{eta}");
        // Passing over items before the resume point is no progress either.
        task.set(1500);
        assert_eq!(task.rate(), 0.0);
        task.finish();
    }

    #[test]
    fn a_bad_level_is_named() {
        let error = init_tracing(&LoggingConfig {
            format: LogFormat::Human,
            level: "info,=[".to_owned(),
        })
        .unwrap_err();
        assert!(error.to_string().starts_with("invalid logging.level"));
    }
}
