//! The exporter's TOML config: `[iot]` (one tenant, or `[[iot.tenants]]`), `[siem]`,
//! `[export]`, `[state]`, `[logging]`, `[metrics]`. Unknown keys are errors.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use siem_pipeline::config::{
    Duration, LoggingConfig, MetricsConfig, SecretSource, SiemConfig, StateConfig,
};

use crate::cef::Profile;

/// The whole config file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The IoT Security tenant(s).
    pub iot: IotConfig,
    /// The syslog receiver; not needed with `--output stdout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub siem: Option<SiemConfig>,
    /// What is exported and how.
    #[serde(default)]
    pub export: ExportConfig,
    /// Where checkpoints live (one subdirectory per tenant).
    #[serde(default)]
    pub state: StateConfig,
    /// Log format and level.
    #[serde(default)]
    pub logging: LoggingConfig,
    /// The Prometheus endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<MetricsConfig>,
}

/// `[iot]`: one tenant's keys directly, or a list of `[[iot.tenants]]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IotConfig {
    /// `https://TENANT.iot.paloaltonetworks.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The tenant's customer id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// Lets an `http://` URL through (loopback test tenants).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_http: Option<bool>,
    /// Env var holding the access key id (default `IOT_KEY_ID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id_env: Option<String>,
    /// File holding the access key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id_file: Option<PathBuf>,
    /// Env var holding the access key (default `IOT_ACCESS_KEY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_env: Option<String>,
    /// File holding the access key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_file: Option<PathBuf>,
    /// Records per page, 1 to 1000 (default 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    /// Requests per minute (default 60, the API's limit); 0 lifts it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_minute: Option<u32>,
    /// Several tenants in one process, each with its own state and cursors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<TenantConfig>,
}

/// One `[[iot.tenants]]` entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// The tenant's name: its state subdirectory and its label in logs and metrics
    /// (default: the customer id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `false` skips the tenant; its status reads Disabled.
    #[serde(default = "enabled_default")]
    pub enabled: bool,
    /// `https://TENANT.iot.paloaltonetworks.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The tenant's customer id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<String>,
    /// Lets an `http://` URL through (loopback test tenants).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_http: Option<bool>,
    /// Env var holding the access key id (default `IOT_KEY_ID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id_env: Option<String>,
    /// File holding the access key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id_file: Option<PathBuf>,
    /// Env var holding the access key (default `IOT_ACCESS_KEY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_env: Option<String>,
    /// File holding the access key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_file: Option<PathBuf>,
    /// Records per page, 1 to 1000 (default 1000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    /// Requests per minute (default 60, the API's limit); 0 lifts it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_minute: Option<u32>,
}

fn enabled_default() -> bool {
    true
}

/// The keys one tenant is made of, borrowed from either form.
struct TenantKeys<'a> {
    url: &'a Option<String>,
    customer_id: &'a Option<String>,
    allow_http: Option<bool>,
    key_id_env: &'a Option<String>,
    key_id_file: &'a Option<PathBuf>,
    access_key_env: &'a Option<String>,
    access_key_file: &'a Option<PathBuf>,
    page_size: Option<u32>,
    requests_per_minute: Option<u32>,
}

macro_rules! tenant_keys {
    ($from:expr) => {
        TenantKeys {
            url: &$from.url,
            customer_id: &$from.customer_id,
            allow_http: $from.allow_http,
            key_id_env: &$from.key_id_env,
            key_id_file: &$from.key_id_file,
            access_key_env: &$from.access_key_env,
            access_key_file: &$from.access_key_file,
            page_size: $from.page_size,
            requests_per_minute: $from.requests_per_minute,
        }
    };
}

/// One tenant, resolved from either form, with the defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// Name (state subdirectory, log and metric label).
    pub name: String,
    /// Whether it is exported.
    pub enabled: bool,
    /// Base URL.
    pub url: String,
    /// Customer id.
    pub customer_id: String,
    /// `http://` allowed.
    pub allow_http: bool,
    /// Access key id source.
    pub key_id: SecretSource,
    /// Access key source.
    pub access_key: SecretSource,
    /// Page size.
    pub page_size: u32,
    /// Requests per minute (0: no limit).
    pub requests_per_minute: u32,
}

/// `[export]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportConfig {
    /// How often `incremental` polls.
    #[serde(default = "poll_interval_default")]
    pub poll_interval: Duration,
    /// Alert severities exported (`critical`, `high`, `medium`, `low`, `info`).
    #[serde(default = "severities_default")]
    pub alert_severities: BTreeSet<AlertSeverity>,
    /// Vulnerability severities exported (by `risk_level`).
    #[serde(default = "severities_default")]
    pub vulnerability_severities: BTreeSet<AlertSeverity>,
    /// CEF layout.
    #[serde(default)]
    pub cef_profile: Profile,
    /// Start device and vulnerability lines with `INFO:siem-syslog:` (profile `panw`).
    #[serde(default)]
    pub legacy_prefix: bool,
    /// Skip alerts whose `msg.status` is not `publish`, as the old job did.
    #[serde(default = "enabled_default")]
    pub skip_unpublished_alerts: bool,
    /// Report each run's outcome to the tenant's `xsoar/status` endpoint.
    #[serde(default)]
    pub report_status: bool,
    /// How far back the first incremental run reaches (default: everything).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_fetch: Option<Duration>,
    /// Records per syslog batch.
    #[serde(default = "batch_records_default")]
    pub batch_records: usize,
    /// How often a progress line per type is logged when stderr is not a terminal
    /// (default 10s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress_interval: Option<Duration>,
}

impl Default for ExportConfig {
    fn default() -> Self {
        Self {
            poll_interval: poll_interval_default(),
            alert_severities: severities_default(),
            vulnerability_severities: severities_default(),
            cef_profile: Profile::default(),
            legacy_prefix: false,
            skip_unpublished_alerts: true,
            report_status: false,
            first_fetch: None,
            batch_records: batch_records_default(),
            progress_interval: None,
        }
    }
}

fn poll_interval_default() -> Duration {
    Duration::from_secs(15 * 60)
}

fn batch_records_default() -> usize {
    1000
}

fn severities_default() -> BTreeSet<AlertSeverity> {
    [
        AlertSeverity::Critical,
        AlertSeverity::High,
        AlertSeverity::Medium,
        AlertSeverity::Low,
    ]
    .into()
}

/// A severity word, as filters name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertSeverity {
    /// `critical`.
    Critical,
    /// `high`.
    High,
    /// `medium`.
    Medium,
    /// `low`.
    Low,
    /// `info`.
    Info,
}

impl AlertSeverity {
    /// Reads an API severity word (any case); `None` for anything else.
    pub fn parse(word: &str) -> Option<Self> {
        match word.trim().to_ascii_lowercase().as_str() {
            "critical" => Some(Self::Critical),
            "high" => Some(Self::High),
            "medium" => Some(Self::Medium),
            "low" => Some(Self::Low),
            "info" | "informational" => Some(Self::Info),
            _ => None,
        }
    }
}

/// A config that parses but cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigProblem {
    /// A required key is missing.
    #[error("{path}: key `{key}` is required{hint}")]
    Missing {
        /// The config file.
        path: String,
        /// The dotted key.
        key: String,
        /// What to do.
        hint: &'static str,
    },
    /// A value is out of range.
    #[error("{path}: key `{key}`: {reason}")]
    Invalid {
        /// The config file.
        path: String,
        /// The dotted key.
        key: String,
        /// Why.
        reason: String,
    },
}

impl Config {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let config: Self = siem_pipeline::config::load_config(path)?;
        config.tenants(path)?;
        if config.export.batch_records == 0 {
            return Err(ConfigProblem::Invalid {
                path: path.display().to_string(),
                key: "export.batch_records".into(),
                reason: "must be at least 1".into(),
            }
            .into());
        }
        if config.export.poll_interval.get().is_zero() {
            return Err(ConfigProblem::Invalid {
                path: path.display().to_string(),
                key: "export.poll_interval".into(),
                reason: "must be longer than 0s".into(),
            }
            .into());
        }
        Ok(config)
    }

    /// The tenants, resolved and checked; `origin` names the file in errors.
    pub fn tenants(&self, origin: &Path) -> Result<Vec<Tenant>, ConfigProblem> {
        let path = origin.display().to_string();
        let single = self.iot.tenants.is_empty();
        if !single && (self.iot.url.is_some() || self.iot.customer_id.is_some()) {
            return Err(ConfigProblem::Invalid {
                path,
                key: "iot.url".into(),
                reason:
                    "give either one tenant's keys in [iot] or a list of [[iot.tenants]], not both"
                        .into(),
            });
        }
        let entries: Vec<(String, Option<String>, bool, TenantKeys<'_>)> = if single {
            vec![("iot".to_owned(), None, true, tenant_keys!(self.iot))]
        } else {
            self.iot
                .tenants
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    (
                        format!("iot.tenants[{i}]"),
                        t.name.clone(),
                        t.enabled,
                        tenant_keys!(t),
                    )
                })
                .collect()
        };
        let mut tenants = Vec::new();
        let mut names = BTreeSet::new();
        for (prefix, name, enabled, keys) in entries {
            let missing = |key: &str| ConfigProblem::Missing {
                path: path.clone(),
                key: format!("{prefix}.{key}"),
                hint: "",
            };
            let url = keys.url.clone().ok_or_else(|| missing("url"))?;
            let customer_id = keys
                .customer_id
                .clone()
                .ok_or_else(|| missing("customer_id"))?;
            let page_size = keys.page_size.unwrap_or(1000);
            if !(1..=1000).contains(&page_size) {
                return Err(ConfigProblem::Invalid {
                    path,
                    key: format!("{prefix}.page_size"),
                    reason: format!("{page_size} is out of range; use 1 to 1000"),
                });
            }
            let name = name.unwrap_or_else(|| customer_id.clone());
            if name.is_empty()
                || name.starts_with('.')
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            {
                return Err(ConfigProblem::Invalid {
                    path,
                    key: format!("{prefix}.name"),
                    reason: format!(
                        "{name:?} cannot name a state directory; use letters, digits, `-`, `_` and `.`"
                    ),
                });
            }
            if !names.insert(name.clone()) {
                return Err(ConfigProblem::Invalid {
                    path,
                    key: format!("{prefix}.name"),
                    reason: format!("tenant name {name:?} is used twice; names must be unique"),
                });
            }
            tenants.push(Tenant {
                name,
                enabled,
                url,
                customer_id,
                allow_http: keys.allow_http.unwrap_or(false),
                key_id: secret_source(keys.key_id_env, keys.key_id_file, "IOT_KEY_ID"),
                access_key: secret_source(
                    keys.access_key_env,
                    keys.access_key_file,
                    "IOT_ACCESS_KEY",
                ),
                page_size,
                requests_per_minute: keys.requests_per_minute.unwrap_or(60),
            });
        }
        Ok(tenants)
    }
}

fn secret_source(env: &Option<String>, file: &Option<PathBuf>, default_env: &str) -> SecretSource {
    SecretSource {
        env: Some(env.clone().unwrap_or_else(|| default_env.to_owned())),
        file: file.clone(),
    }
}
