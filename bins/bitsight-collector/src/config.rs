//! The collector's TOML config: `[bitsight]`, `[output]`, `[siem]`, `[modeling]`,
//! `[state]`, `[logging]`, `[metrics]`. Unknown keys are errors naming file, line and key.

use std::path::{Path, PathBuf};

use bitsight_api::{AssetCategory, Grade, RiskVector, SeverityCategory};
use serde::{Deserialize, Serialize};
use siem_pipeline::config::{
    ByteSize, Duration, LoggingConfig, MetricsConfig, OutputConfig, RecordFormat, SecretSource,
    SiemConfig, StateConfig,
};
use url::Url;

/// The whole config file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The Bitsight API, the companies and what is collected.
    pub bitsight: BitsightConfig,
    /// Where records go and in which format (`json` by default).
    #[serde(default = "default_output")]
    pub output: OutputConfig,
    /// The syslog receiver, for `[output] kind = "syslog"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub siem: Option<SiemConfig>,
    /// The modeling rule for `format = "xdm"`.
    #[serde(default)]
    pub modeling: ModelingConfig,
    /// Where cursors live.
    #[serde(default)]
    pub state: StateConfig,
    /// Log format and level.
    #[serde(default)]
    pub logging: LoggingConfig,
    /// The Prometheus endpoint, when wanted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<MetricsConfig>,
}

fn default_output() -> OutputConfig {
    OutputConfig::Stdout { format: None }
}

/// `[bitsight]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BitsightConfig {
    /// The API root.
    #[serde(default = "default_url")]
    pub url: Url,
    /// Lets an `http://` URL through (loopback test servers).
    #[serde(default)]
    pub allow_http: bool,
    /// Env var holding the API token (default `BITSIGHT_API_KEY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// File holding the API token (wins over the env var).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_file: Option<PathBuf>,
    /// Company GUIDs; empty means the token's own company (unless `portfolio`).
    #[serde(default)]
    pub companies: Vec<String>,
    /// Every company of the portfolio.
    #[serde(default)]
    pub portfolio: bool,
    /// Most records one cycle delivers (findings, updates and alerts together).
    #[serde(default = "default_max_events")]
    pub max_events_per_fetch: usize,
    /// Pause between cycles of `run`.
    #[serde(default = "default_fetch_interval")]
    pub fetch_interval: Duration,
    /// How far back the first run reaches (whole days).
    #[serde(default = "default_first_fetch")]
    pub first_fetch: Duration,
    /// Days re-read before each cursor's date, so that findings Bitsight publishes after
    /// their first-seen date still arrive (whole days; `0d` re-reads the cursor's day only).
    #[serde(default = "default_lookback")]
    pub lookback: Duration,
    /// Emit findings again, as `finding_update`, when their last-seen date moves.
    #[serde(default)]
    pub track_updates: bool,
    /// Collect `/ratings/v2/alerts` too, as `alert` events.
    #[serde(default)]
    pub alerts: bool,
    /// Findings of this severity category and worse: minor, moderate, material, severe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_severity: Option<String>,
    /// Risk-vector slugs (`open_ports`) or labels (`Open Ports`).
    #[serde(default)]
    pub risk_vectors: Vec<String>,
    /// Grades: GOOD, FAIR, WARN, BAD, NEUTRAL.
    #[serde(default)]
    pub grades: Vec<String>,
    /// Only findings that do (true) or do not (false) affect the rating.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affects_rating: Option<bool>,
    /// Findings on assets of this importance and above: low, medium, high, critical.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_asset_category: Option<String>,
    /// Companies fetched at once (the client's request limit is shared by all). Each
    /// company keeps its next page in flight while the current one is formatted, so the
    /// default two already fill the default three requests in flight.
    #[serde(default = "default_company_concurrency")]
    pub company_concurrency: usize,
    /// Requests in flight at once (Bitsight advises 3).
    #[serde(default = "default_max_in_flight")]
    pub max_in_flight: usize,
    /// Most records per sink batch. Cursors are committed after every confirmed batch,
    /// so a crash re-sends at most one batch.
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Most payload bytes per sink batch (`"4MiB"`); a batch goes when either bound is met.
    #[serde(default = "default_batch_bytes")]
    pub batch_bytes: ByteSize,
    /// Findings per page (1 to 1000).
    #[serde(default = "default_page_size")]
    pub page_size: u16,
    /// Retries of one request after a 429, a 5xx or a timeout.
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
    /// Wait after a 429 without `Retry-After`.
    #[serde(default = "default_rate_limit_wait")]
    pub rate_limit_wait: Duration,
    /// First backoff delay; it doubles per retry up to `backoff_max`.
    #[serde(default = "default_backoff_base")]
    pub backoff_base: Duration,
    /// Longest backoff delay.
    #[serde(default = "default_backoff_max")]
    pub backoff_max: Duration,
}

#[allow(clippy::expect_used)] // a constant URL, checked by the `defaults` test below
fn default_url() -> Url {
    Url::parse(bitsight_api::DEFAULT_BASE_URL).expect("the default API root is a valid URL")
}

fn default_max_events() -> usize {
    1000
}
fn default_fetch_interval() -> Duration {
    Duration::from_secs(300)
}
fn default_first_fetch() -> Duration {
    Duration::from_secs(3 * 86_400)
}
fn default_lookback() -> Duration {
    Duration::from_secs(2 * 86_400)
}
fn default_company_concurrency() -> usize {
    2
}
fn default_max_in_flight() -> usize {
    3
}
// A batch costs one durable cursor commit (fsyncs), so batches are large: a 100,000
// finding run makes tens of commits, while a crash still repeats at most one batch.
fn default_batch_size() -> usize {
    5000
}
fn default_batch_bytes() -> ByteSize {
    ByteSize(4 * 1024 * 1024)
}
fn default_page_size() -> u16 {
    1000
}
fn default_max_retries() -> u32 {
    5
}
fn default_rate_limit_wait() -> Duration {
    Duration::from_secs(60)
}
fn default_backoff_base() -> Duration {
    Duration::from_secs(1)
}
fn default_backoff_max() -> Duration {
    Duration::from_secs(300)
}

/// `[modeling]`: the rule that turns events into XDM records.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelingConfig {
    /// A `.xif` file to use instead of siembridge's bundled Bitsight rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<PathBuf>,
    /// Its schema JSON (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<PathBuf>,
}

/// The findings filters, checked and typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    /// `severity_gte` from `min_severity`.
    pub min_severity: Option<SeverityCategory>,
    /// `risk_vector`.
    pub risk_vectors: Vec<RiskVector>,
    /// `details.grade`.
    pub grades: Vec<Grade>,
    /// `affects_rating`.
    pub affects_rating: Option<bool>,
    /// `assets.category` (the category and above).
    pub asset_categories: Vec<AssetCategory>,
}

/// A config value that cannot be used; exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct Invalid {
    origin: String,
    message: String,
}

impl Config {
    /// Loads and checks `path`.
    ///
    /// # Errors
    /// Unreadable file, bad TOML, unknown keys, or values that cannot be used.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let config: Self = siem_pipeline::config::load_config(path)?;
        config.check(path)?;
        Ok(config)
    }

    /// The lookback in whole days (rounded up, at most 366).
    #[must_use]
    pub fn lookback_days(&self) -> u16 {
        let days = self.bitsight.lookback.get().as_secs().div_ceil(86_400);
        u16::try_from(days.min(366)).unwrap_or(366)
    }

    /// The record format (`json` unless `[output] format` says otherwise).
    #[must_use]
    pub fn format(&self) -> RecordFormat {
        self.output.format().unwrap_or(RecordFormat::Json)
    }

    /// Where the API token comes from.
    #[must_use]
    pub fn token_source(&self) -> SecretSource {
        SecretSource {
            env: Some(
                self.bitsight
                    .api_key_env
                    .clone()
                    .unwrap_or_else(|| "BITSIGHT_API_KEY".to_owned()),
            ),
            file: self.bitsight.api_key_file.clone(),
        }
    }

    /// Values that parse but cannot be used.
    fn check(&self, path: &Path) -> Result<(), Invalid> {
        let invalid = |message: String| Invalid {
            origin: path.display().to_string(),
            message,
        };
        let b = &self.bitsight;
        if b.portfolio && !b.companies.is_empty() {
            return Err(invalid(
                "[bitsight] `portfolio = true` and `companies` exclude each other: choose one"
                    .into(),
            ));
        }
        if let Some(guid) = b
            .companies
            .iter()
            .find(|g| g.trim().is_empty() || *g == "." || *g == "..")
        {
            return Err(invalid(format!(
                "[bitsight] companies: {guid:?} is not a company GUID"
            )));
        }
        if b.max_events_per_fetch == 0 {
            return Err(invalid(
                "[bitsight] max_events_per_fetch must be at least 1".into(),
            ));
        }
        if b.company_concurrency == 0
            || b.max_in_flight == 0
            || b.batch_size == 0
            || b.batch_bytes.0 == 0
        {
            return Err(invalid(
                "[bitsight] company_concurrency, max_in_flight, batch_size and batch_bytes must be at least 1"
                    .into(),
            ));
        }
        if !(2..=1000).contains(&b.page_size) {
            return Err(invalid(format!(
                "[bitsight] page_size must be 2 to 1000, not {}",
                b.page_size
            )));
        }
        if b.fetch_interval.get().is_zero() {
            return Err(invalid(
                "[bitsight] fetch_interval must be more than 0".into(),
            ));
        }
        match b.url.scheme() {
            "https" => {}
            "http" if b.allow_http => {}
            other => {
                return Err(invalid(format!(
                    "[bitsight] url: scheme `{other}` is not allowed; use https (http only with allow_http = true)"
                )));
            }
        }
        if matches!(self.output, OutputConfig::Syslog { .. }) && self.siem.is_none() {
            return Err(invalid(
                "[output] kind = \"syslog\" needs a [siem] section".into(),
            ));
        }
        self.filters().map_err(invalid)?;
        Ok(())
    }

    /// The findings filters, typed.
    ///
    /// # Errors
    /// A value outside Bitsight's vocabulary, with what is allowed.
    pub fn filters(&self) -> Result<Filters, String> {
        let b = &self.bitsight;
        let min_severity = match &b.min_severity {
            None => None,
            Some(text) => {
                let category = SeverityCategory::parse(&text.to_ascii_lowercase());
                if category.min_severity().is_none() {
                    return Err(format!(
                        "[bitsight] min_severity = {text:?}: use minor, moderate, material or severe"
                    ));
                }
                Some(category)
            }
        };
        let mut risk_vectors = Vec::new();
        for text in &b.risk_vectors {
            let vector = RiskVector::from_label(text)
                .or_else(|| {
                    RiskVector::KNOWN
                        .iter()
                        .find(|v| v.as_str().eq_ignore_ascii_case(text))
                        .cloned()
                })
                .ok_or_else(|| {
                    let known: Vec<&str> =
                        RiskVector::KNOWN.iter().map(RiskVector::as_str).collect();
                    format!(
                        "[bitsight] risk_vectors: unknown risk vector {text:?}; use one of {}",
                        known.join(", ")
                    )
                })?;
            risk_vectors.push(vector);
        }
        let mut grades = Vec::new();
        for text in &b.grades {
            let grade = Grade::parse(&text.to_ascii_uppercase());
            if !Grade::KNOWN.contains(&grade) {
                return Err(format!(
                    "[bitsight] grades: unknown grade {text:?}; use GOOD, FAIR, WARN, BAD or NEUTRAL"
                ));
            }
            grades.push(grade);
        }
        let asset_categories = match &b.min_asset_category {
            None => Vec::new(),
            Some(text) => {
                let category = AssetCategory::parse(&text.to_ascii_lowercase());
                if !AssetCategory::KNOWN.contains(&category) {
                    return Err(format!(
                        "[bitsight] min_asset_category = {text:?}: use low, medium, high or critical"
                    ));
                }
                category.and_above()
            }
        };
        Ok(Filters {
            min_severity,
            risk_vectors,
            grades,
            affects_rating: b.affects_rating,
            asset_categories,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<Config> {
        let config: Config = siem_pipeline::config::parse_config(text, Path::new("t.toml"))?;
        config.check(Path::new("t.toml"))?;
        Ok(config)
    }

    #[test]
    fn defaults() {
        let config = parse("[bitsight]\n").unwrap();
        assert_eq!(
            config.bitsight.url.as_str(),
            "https://api.bitsighttech.com/"
        );
        assert_eq!(config.bitsight.max_events_per_fetch, 1000);
        assert_eq!(config.bitsight.first_fetch.get().as_secs(), 3 * 86_400);
        assert_eq!(config.format(), RecordFormat::Json);
        assert_eq!(
            config.token_source().env.as_deref(),
            Some("BITSIGHT_API_KEY")
        );
    }

    #[test]
    fn filters_are_typed() {
        let config = parse(
            "[bitsight]\nmin_severity = \"Material\"\nrisk_vectors = [\"Open Ports\", \"spf\"]\ngrades = [\"warn\"]\nmin_asset_category = \"high\"\n",
        )
        .unwrap();
        let filters = config.filters().unwrap();
        assert_eq!(filters.min_severity, Some(SeverityCategory::Material));
        assert_eq!(
            filters.risk_vectors,
            vec![RiskVector::OpenPorts, RiskVector::Spf]
        );
        assert_eq!(filters.grades, vec![Grade::Warn]);
        assert_eq!(
            filters.asset_categories,
            vec![AssetCategory::High, AssetCategory::Critical]
        );
    }

    #[test]
    fn bad_values_name_the_key() {
        for (text, needle) in [
            ("[bitsight]\nmin_severity = \"huge\"\n", "min_severity"),
            ("[bitsight]\nrisk_vectors = [\"nope\"]\n", "risk_vectors"),
            (
                "[bitsight]\nportfolio = true\ncompanies = [\"a\"]\n",
                "portfolio",
            ),
            ("[bitsight]\nurl = \"http://127.0.0.1:1\"\n", "allow_http"),
            (
                "[bitsight]\nmax_events_per_fetch = 0\n",
                "max_events_per_fetch",
            ),
            ("[bitsight]\ntypo = 1\n", "typo"),
            ("[bitsight]\n[output]\nkind = \"syslog\"\n", "[siem]"),
        ] {
            let error = format!("{:#}", parse(text).unwrap_err());
            assert!(error.contains(needle), "{text}: {error}");
        }
    }
}
