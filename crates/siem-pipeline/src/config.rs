//! The TOML pieces both daemons share, and the helpers to load and show them.
//!
//! A binary composes its own top-level struct from these pieces (`[siem]`, `[output]`,
//! `[state]`, `[logging]`, `[metrics]`) next to its own sections, and loads it with
//! [`load_config`]. Every struct denies unknown keys, so a typo is an error that names the
//! file, the line, the key path and what is allowed, never a silently ignored setting.
//!
//! Secrets are never stored in the config itself: the config names an environment variable
//! or a file ([`SecretSource`]) and the binary resolves it with [`SecretSource::resolve`],
//! handing over its environment lookup as a value (library crates never read the
//! environment on their own).

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

/// Reads and deserializes a TOML config file into `T`.
///
/// Errors name the file, the line and column, the dotted key path and toml's explanation
/// (for unknown keys and bad enum values, the list of what is allowed).
pub fn load_config<T: DeserializeOwned>(path: &Path) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_config(&text, path)
}

/// Deserializes TOML text into `T`; `origin` names the text's file in errors.
pub fn parse_config<T: DeserializeOwned>(text: &str, origin: &Path) -> Result<T, ConfigError> {
    let parse_error = |error: toml::de::Error, key: String| {
        let (line, column) = error
            .span()
            .map_or((0, 0), |span| line_and_column(text, span.start));
        ConfigError::Invalid {
            path: origin.to_path_buf(),
            line,
            column,
            key,
            message: error.message().trim_end().to_owned(),
        }
    };
    let deserializer =
        toml::Deserializer::parse(text).map_err(|error| parse_error(error, String::new()))?;
    serde_path_to_error::deserialize(deserializer).map_err(|error| {
        let key = error.path().to_string();
        // serde_path_to_error writes "." for the document root.
        let key = if key == "." { String::new() } else { key };
        parse_error(error.into_inner(), key)
    })
}

/// 1-based line and column (in characters) of a byte offset.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// Renders a config as TOML for `--print-config`: secrets show as `***` (see [`Secret`]).
///
/// Config structs hold only the names of secrets (env var, file), never their values, so
/// the effective config is safe to print; a resolved [`Secret`] serializes as `***`.
pub fn to_masked_toml<T: Serialize>(config: &T) -> Result<String, ConfigRenderError> {
    toml::to_string_pretty(config).map_err(ConfigRenderError)
}

/// A config file could not be read or is not valid.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        /// The config file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not match the expected shape.
    #[error("{}:{line}:{column}: {}{message}", path.display(), key_prefix(key))]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// 1-based line of the offending text (0 when unknown).
        line: usize,
        /// 1-based column of the offending text (0 when unknown).
        column: usize,
        /// Dotted key path of the offending value (`output.kind`), empty for syntax errors.
        key: String,
        /// What is wrong and what is allowed.
        message: String,
    },
}

fn key_prefix(key: &str) -> String {
    if key.is_empty() {
        String::new()
    } else {
        format!("key `{key}`: ")
    }
}

/// The config could not be rendered as TOML.
#[derive(Debug, thiserror::Error)]
#[error("cannot render config as TOML: {0}")]
pub struct ConfigRenderError(#[source] toml::ser::Error);

/// A span of time written as `30s`, `15m`, `1h`, `3d`, `500ms` or a sum such as `1h30m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(std::time::Duration);

impl Duration {
    /// Wraps a standard duration.
    pub const fn new(duration: std::time::Duration) -> Self {
        Self(duration)
    }

    /// Whole seconds.
    pub const fn from_secs(secs: u64) -> Self {
        Self(std::time::Duration::from_secs(secs))
    }

    /// The standard duration.
    pub const fn get(self) -> std::time::Duration {
        self.0
    }
}

impl From<Duration> for std::time::Duration {
    fn from(duration: Duration) -> Self {
        duration.0
    }
}

impl From<std::time::Duration> for Duration {
    fn from(duration: std::time::Duration) -> Self {
        Self(duration)
    }
}

/// A duration string that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration {input:?}: {reason}; write a number and a unit (ms, s, m, h, d), e.g. \"30s\", \"15m\", \"1h30m\", \"3d\""
)]
pub struct DurationError {
    input: String,
    reason: &'static str,
}

const DURATION_UNITS: [(&str, u64); 5] = [
    ("ms", 1),
    ("s", 1_000),
    ("m", 60_000),
    ("h", 3_600_000),
    ("d", 86_400_000),
];

impl FromStr for Duration {
    type Err = DurationError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let error = |reason| DurationError {
            input: input.to_owned(),
            reason,
        };
        let mut rest = input.trim();
        if rest.is_empty() {
            return Err(error("it is empty"));
        }
        let mut total_ms: u64 = 0;
        while !rest.is_empty() {
            let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            if digits == 0 {
                return Err(error("expected a number"));
            }
            let (number, after) = rest.split_at(digits);
            let number: u64 = number
                .parse()
                .map_err(|_| error("the number is too large"))?;
            let unit_len = after.len()
                - after
                    .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                    .len();
            let (unit, after) = after.split_at(unit_len);
            let Some(&(_, unit_ms)) = DURATION_UNITS.iter().find(|(name, _)| *name == unit) else {
                return Err(error(if unit.is_empty() {
                    "a unit is missing"
                } else {
                    "unknown unit"
                }));
            };
            total_ms = number
                .checked_mul(unit_ms)
                .and_then(|ms| total_ms.checked_add(ms))
                .ok_or_else(|| error("it is too large"))?;
            rest = after;
        }
        Ok(Self(std::time::Duration::from_millis(total_ms)))
    }
}

impl fmt::Display for Duration {
    /// The shortest form that parses back to the same value (`90s` prints as `1m30s`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ms = self.0.as_millis();
        if ms == 0 {
            return f.write_str("0s");
        }
        for (unit, unit_ms) in DURATION_UNITS.iter().rev() {
            let unit_ms = u128::from(*unit_ms);
            if ms >= unit_ms {
                write!(f, "{}{unit}", ms / unit_ms)?;
                ms %= unit_ms;
            }
        }
        Ok(())
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;
        impl serde::de::Visitor<'_> for DurationVisitor {
            type Value = Duration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration string such as \"30s\", \"15m\", \"1h\" or \"3d\"")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Duration, E> {
                text.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(DurationVisitor)
    }
}

/// A size in bytes written as a number or with a unit: `1048576`, `512KiB`, `100MiB`, `1GB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteSize(pub u64);

/// A size string that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid size {input:?}; write bytes as a number, or with a unit (B, KB, MB, GB, KiB, MiB, GiB), e.g. \"100MiB\""
)]
pub struct ByteSizeError {
    input: String,
}

const SIZE_UNITS: [(&str, u64); 7] = [
    ("B", 1),
    ("KB", 1_000),
    ("MB", 1_000_000),
    ("GB", 1_000_000_000),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
];

impl FromStr for ByteSize {
    type Err = ByteSizeError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let error = || ByteSizeError {
            input: input.to_owned(),
        };
        let text = input.trim();
        let digits = text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let (number, unit) = text.split_at(digits);
        let number: u64 = number.parse().map_err(|_| error())?;
        let unit = unit.trim();
        let multiplier = if unit.is_empty() {
            1
        } else {
            SIZE_UNITS
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case(unit))
                .map(|(_, multiplier)| *multiplier)
                .ok_or_else(error)?
        };
        number.checked_mul(multiplier).map(Self).ok_or_else(error)
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Number(bytes) => Ok(Self(bytes)),
            Raw::Text(text) => text.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// A secret value (API key, token, access key). Debug, Display and Serialize print `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that must send it (an auth header).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("***")
    }
}

/// Where a secret comes from: an environment variable or a file (the file wins when both
/// are named, since an operator who wrote a path meant it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretSource {
    /// Name of the environment variable holding the secret.
    pub env: Option<String>,
    /// Path of a file holding the secret (surrounding whitespace is trimmed).
    pub file: Option<PathBuf>,
}

impl SecretSource {
    /// A source reading the environment variable `name`.
    pub fn env(name: impl Into<String>) -> Self {
        Self {
            env: Some(name.into()),
            file: None,
        }
    }

    /// Resolves the secret. `what` names it in errors (`output.api_key`); `lookup_env` is
    /// the binary's environment lookup, e.g. `|name| std::env::var(name).ok()`.
    pub fn resolve(
        &self,
        what: &str,
        lookup_env: impl Fn(&str) -> Option<String>,
    ) -> Result<Secret, SecretError> {
        let value = if let Some(path) = &self.file {
            std::fs::read_to_string(path)
                .map_err(|source| SecretError::File {
                    what: what.to_owned(),
                    path: path.clone(),
                    source,
                })?
                .trim()
                .to_owned()
        } else if let Some(name) = &self.env {
            lookup_env(name).ok_or_else(|| SecretError::EnvUnset {
                what: what.to_owned(),
                name: name.clone(),
            })?
        } else {
            return Err(SecretError::NoSource {
                what: what.to_owned(),
            });
        };
        if value.trim().is_empty() {
            return Err(SecretError::Empty {
                what: what.to_owned(),
            });
        }
        Ok(Secret(value))
    }
}

/// A secret could not be resolved. Never carries the secret's value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// Neither an env var nor a file was named.
    #[error(
        "{what}: no source configured; name an environment variable (`*_env`) or a file (`*_file`)"
    )]
    NoSource {
        /// Which secret.
        what: String,
    },
    /// The named environment variable is not set.
    #[error("{what}: environment variable {name} is not set")]
    EnvUnset {
        /// Which secret.
        what: String,
        /// The variable's name.
        name: String,
    },
    /// The named file could not be read.
    #[error("{what}: cannot read secret file {}: {source}", path.display())]
    File {
        /// Which secret.
        what: String,
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The secret is empty.
    #[error("{what}: the secret is empty")]
    Empty {
        /// Which secret.
        what: String,
    },
}

/// `[siem]`: where syslog goes. Mapped onto the transport's settings by the syslog sink.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiemConfig {
    /// Receiver host name or address.
    pub host: String,
    /// Receiver port; the protocol's usual port when absent.
    #[serde(default)]
    pub port: Option<u16>,
    /// Transport protocol.
    #[serde(default = "SiemConfig::default_protocol")]
    pub protocol: SyslogProtocol,
    /// Stream framing; the protocol's default when absent (TCP `lf`, TLS and RELP octet counting).
    #[serde(default)]
    pub framing: Option<SyslogFraming>,
    /// Syslog message format.
    #[serde(default = "SiemConfig::default_format")]
    pub format: SyslogFormat,
    /// Syslog facility name (`user`, `local0`...).
    #[serde(
        default = "SiemConfig::default_facility",
        deserialize_with = "facility_name"
    )]
    pub facility: String,
    /// Path of a Unix socket (protocols `unix-datagram`, `unix-stream`; default `/dev/log`).
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// How long one batch keeps reconnecting and re-sending before it is handed back.
    #[serde(default)]
    pub retry_timeout: Option<Duration>,
    /// TLS: PEM trust anchors; the system's roots when absent.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// TLS: PEM client certificate chain for mutual TLS.
    #[serde(default)]
    pub client_cert_file: Option<PathBuf>,
    /// TLS: PEM client private key for mutual TLS.
    #[serde(default)]
    pub client_key_file: Option<PathBuf>,
    /// TLS: verify the server's certificate (turning this off is explicit and warned about).
    #[serde(default = "default_true")]
    pub verify: bool,
    /// TLS: server name for SNI and verification; `host` when absent.
    #[serde(default)]
    pub server_name: Option<String>,
    /// APP-NAME in each syslog header; the binary's name when absent.
    #[serde(default)]
    pub app_name: Option<String>,
    /// HOSTNAME in each syslog header; the machine's when absent.
    #[serde(default)]
    pub hostname: Option<String>,
}

impl SiemConfig {
    fn default_protocol() -> SyslogProtocol {
        SyslogProtocol::Tls
    }
    fn default_format() -> SyslogFormat {
        SyslogFormat::Rfc5424
    }
    fn default_facility() -> String {
        "user".to_owned()
    }

    /// The port to use: the configured one, or the protocol's usual port.
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or(match self.protocol {
            SyslogProtocol::Udp | SyslogProtocol::Tcp => 514,
            SyslogProtocol::Tls => 6514,
            SyslogProtocol::Relp | SyslogProtocol::RelpTls => 2514,
            SyslogProtocol::UnixDatagram | SyslogProtocol::UnixStream => 0,
        })
    }
}

/// Accepts only facility names the transport knows, so a typo fails at load time with
/// its key path.
fn facility_name<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let name = String::deserialize(deserializer)?;
    syslog_transport::Facility::deserialize(serde::de::value::StrDeserializer::<D::Error>::new(
        &name,
    ))?;
    Ok(name)
}

fn default_true() -> bool {
    true
}

/// Syslog transport protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SyslogProtocol {
    /// RFC 5426, one datagram per message, no delivery confirmation.
    Udp,
    /// RFC 6587 plain TCP.
    Tcp,
    /// RFC 5425 TLS.
    Tls,
    /// RELP, acknowledged per message.
    Relp,
    /// RELP over TLS.
    RelpTls,
    /// A local Unix datagram socket such as `/dev/log`.
    #[serde(alias = "unix")]
    UnixDatagram,
    /// A local Unix stream socket.
    UnixStream,
}

/// Stream framing for TCP-like transports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SyslogFraming {
    /// `LEN SP MSG` (RFC 6587 §3.4.1, RFC 5425).
    OctetCounting,
    /// Each message ends with a line feed.
    Lf,
    /// Each message ends with a NUL byte.
    Nul,
}

/// Syslog message header format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SyslogFormat {
    /// RFC 5424.
    Rfc5424,
    /// RFC 3164 (BSD).
    Rfc3164,
}

/// Shape of each record the binary produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecordFormat {
    /// One JSON object per record, as fetched (plus the collector's fields).
    Json,
    /// One JSON object per record, normalized to flat XDM keys.
    Xdm,
    /// One CEF line per record.
    Cef,
}

impl RecordFormat {
    /// Whether records in this format are JSON objects.
    pub fn is_json(self) -> bool {
        matches!(self, Self::Json | Self::Xdm)
    }
}

/// `[output]`: where records go, chosen by `kind`.
///
/// Keys that do not apply to the chosen kind are errors naming the kinds they apply to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", try_from = "RawOutput")]
pub enum OutputConfig {
    /// Records on stdout, one per line.
    Stdout {
        /// Record format; the binary's default when absent.
        #[serde(default)]
        format: Option<RecordFormat>,
    },
    /// Records appended to a file, one per line, fsynced per batch.
    File {
        /// Record format; the binary's default when absent.
        #[serde(default)]
        format: Option<RecordFormat>,
        /// The file to append to.
        path: PathBuf,
        /// Rotate when the file would grow past this size; never when absent.
        #[serde(default)]
        rotate_size: Option<ByteSize>,
        /// How many rotated files to keep (`path.1` newest ... `path.N` oldest).
        #[serde(default = "default_keep_files")]
        keep_files: u32,
    },
    /// Records as syslog messages to the receiver in `[siem]`.
    Syslog {
        /// Record format; the binary's default when absent.
        #[serde(default)]
        format: Option<RecordFormat>,
    },
    /// Cortex XSIAM HTTP log collector.
    Xsiam(XsiamOutput),
    /// Splunk HTTP Event Collector.
    SplunkHec(SplunkHecOutput),
}

fn default_keep_files() -> u32 {
    5
}

/// The kinds of `[output]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum OutputKind {
    Stdout,
    File,
    Syslog,
    Xsiam,
    SplunkHec,
}

impl OutputKind {
    fn name(self) -> &'static str {
        match self {
            Self::Stdout => "stdout",
            Self::File => "file",
            Self::Syslog => "syslog",
            Self::Xsiam => "xsiam",
            Self::SplunkHec => "splunk-hec",
        }
    }
}

/// Every `[output]` key of every kind, so that each value is checked (with its line and
/// key path) before the kind decides which keys apply.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutput {
    kind: OutputKind,
    format: Option<RecordFormat>,
    path: Option<PathBuf>,
    rotate_size: Option<ByteSize>,
    keep_files: Option<u32>,
    url: Option<Url>,
    api_key_env: Option<String>,
    api_key_file: Option<PathBuf>,
    token_env: Option<String>,
    token_file: Option<PathBuf>,
    compression: Option<Compression>,
    log_format: Option<XsiamLogFormat>,
    max_request_size: Option<ByteSize>,
    allow_http: Option<bool>,
    ca_file: Option<PathBuf>,
    index: Option<String>,
    sourcetype: Option<String>,
    source: Option<String>,
    host: Option<String>,
    acks: Option<bool>,
    ack_timeout: Option<Duration>,
}

impl RawOutput {
    /// The keys that were given, with the kinds each applies to.
    fn given_keys(&self) -> Vec<(&'static str, &'static [OutputKind])> {
        use OutputKind::{File, SplunkHec, Xsiam};
        const FILE: &[OutputKind] = &[File];
        const XSIAM: &[OutputKind] = &[Xsiam];
        const HEC: &[OutputKind] = &[SplunkHec];
        const HTTP: &[OutputKind] = &[Xsiam, SplunkHec];
        let mut keys = Vec::new();
        let mut check = |given: bool, key, kinds| {
            if given {
                keys.push((key, kinds));
            }
        };
        check(self.path.is_some(), "path", FILE);
        check(self.rotate_size.is_some(), "rotate_size", FILE);
        check(self.keep_files.is_some(), "keep_files", FILE);
        check(self.url.is_some(), "url", HTTP);
        check(self.api_key_env.is_some(), "api_key_env", XSIAM);
        check(self.api_key_file.is_some(), "api_key_file", XSIAM);
        check(self.token_env.is_some(), "token_env", HEC);
        check(self.token_file.is_some(), "token_file", HEC);
        check(self.compression.is_some(), "compression", HTTP);
        check(self.log_format.is_some(), "log_format", XSIAM);
        check(self.max_request_size.is_some(), "max_request_size", HTTP);
        check(self.allow_http.is_some(), "allow_http", HTTP);
        check(self.ca_file.is_some(), "ca_file", HTTP);
        check(self.index.is_some(), "index", HEC);
        check(self.sourcetype.is_some(), "sourcetype", HEC);
        check(self.source.is_some(), "source", HEC);
        check(self.host.is_some(), "host", HEC);
        check(self.acks.is_some(), "acks", HEC);
        check(self.ack_timeout.is_some(), "ack_timeout", HEC);
        keys
    }
}

impl TryFrom<RawOutput> for OutputConfig {
    type Error = String;

    fn try_from(raw: RawOutput) -> Result<Self, Self::Error> {
        let kind = raw.kind;
        for (key, kinds) in raw.given_keys() {
            if !kinds.contains(&kind) {
                let applies: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
                return Err(format!(
                    "`{key}` does not apply to kind = \"{}\"; it applies to kind {}",
                    kind.name(),
                    applies.join(" or ")
                ));
            }
        }
        let required = |value: Option<Url>, key: &str| {
            value.ok_or_else(|| format!("kind = \"{}\" needs `{key}`", kind.name()))
        };
        Ok(match kind {
            OutputKind::Stdout => Self::Stdout { format: raw.format },
            OutputKind::Syslog => Self::Syslog { format: raw.format },
            OutputKind::File => Self::File {
                format: raw.format,
                path: raw
                    .path
                    .ok_or_else(|| "kind = \"file\" needs `path`".to_owned())?,
                rotate_size: raw.rotate_size,
                keep_files: raw.keep_files.unwrap_or_else(default_keep_files),
            },
            OutputKind::Xsiam => Self::Xsiam(XsiamOutput {
                format: raw.format,
                url: required(raw.url, "url")?,
                api_key_env: raw.api_key_env,
                api_key_file: raw.api_key_file,
                compression: raw.compression.unwrap_or_default(),
                log_format: raw.log_format,
                max_request_size: raw
                    .max_request_size
                    .unwrap_or_else(default_xsiam_request_size),
                allow_http: raw.allow_http.unwrap_or(false),
                ca_file: raw.ca_file,
            }),
            OutputKind::SplunkHec => Self::SplunkHec(SplunkHecOutput {
                format: raw.format,
                url: required(raw.url, "url")?,
                token_env: raw.token_env,
                token_file: raw.token_file,
                index: raw.index,
                sourcetype: raw.sourcetype,
                source: raw.source,
                host: raw.host,
                acks: raw.acks.unwrap_or(false),
                ack_timeout: raw.ack_timeout.unwrap_or_else(default_ack_timeout),
                compression: raw.compression.unwrap_or_default(),
                max_request_size: raw
                    .max_request_size
                    .unwrap_or_else(default_hec_request_size),
                allow_http: raw.allow_http.unwrap_or(false),
                ca_file: raw.ca_file,
            }),
        })
    }
}

impl OutputConfig {
    /// The configured record format, if any.
    pub fn format(&self) -> Option<RecordFormat> {
        match self {
            Self::Stdout { format } | Self::File { format, .. } | Self::Syslog { format } => {
                *format
            }
            Self::Xsiam(xsiam) => xsiam.format,
            Self::SplunkHec(hec) => hec.format,
        }
    }
}

/// `[output] kind = "xsiam"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XsiamOutput {
    /// Record format; the binary's default when absent.
    #[serde(default)]
    pub format: Option<RecordFormat>,
    /// The collector's base URL (`https://api-TENANT.xdr.REGION.paloaltonetworks.com`);
    /// `/logs/v1/event` is appended unless the URL already ends with it.
    pub url: Url,
    /// Environment variable holding the collector's API key.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// File holding the collector's API key.
    #[serde(default)]
    pub api_key_file: Option<PathBuf>,
    /// Must match the compression chosen when the collector was created.
    #[serde(default)]
    pub compression: Compression,
    /// Must match the collector's log format; from `format` when absent (json and xdm
    /// send JSON, cef sends text).
    #[serde(default)]
    pub log_format: Option<XsiamLogFormat>,
    /// Largest request body before compression.
    #[serde(default = "default_xsiam_request_size")]
    pub max_request_size: ByteSize,
    /// Lets an `http://` URL through (loopback test servers).
    #[serde(default)]
    pub allow_http: bool,
    /// Extra PEM trust anchors, added to the system's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

fn default_xsiam_request_size() -> ByteSize {
    ByteSize(crate::sink::xsiam::DEFAULT_MAX_REQUEST_BYTES as u64)
}

impl XsiamOutput {
    /// Where the API key comes from.
    pub fn api_key_source(&self) -> SecretSource {
        SecretSource {
            env: self.api_key_env.clone(),
            file: self.api_key_file.clone(),
        }
    }
}

/// Request body compression.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compression {
    /// Send bodies as they are.
    #[default]
    None,
    /// gzip bodies and say so with `Content-Encoding: gzip`.
    Gzip,
}

/// The XSIAM collector's log format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum XsiamLogFormat {
    /// One JSON object per line, `Content-Type: application/json`.
    Json,
    /// One raw or CEF line per line, `Content-Type: text/plain`.
    Text,
}

/// `[output] kind = "splunk-hec"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplunkHecOutput {
    /// Record format; the binary's default when absent.
    #[serde(default)]
    pub format: Option<RecordFormat>,
    /// HEC base URL (`https://splunk.example:8088`); `/services/collector/event` is appended.
    pub url: Url,
    /// Environment variable holding the HEC token.
    #[serde(default)]
    pub token_env: Option<String>,
    /// File holding the HEC token.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// Target index; the token's default when absent.
    #[serde(default)]
    pub index: Option<String>,
    /// Sourcetype of every event.
    #[serde(default)]
    pub sourcetype: Option<String>,
    /// Source of every event.
    #[serde(default)]
    pub source: Option<String>,
    /// Host of every event.
    #[serde(default)]
    pub host: Option<String>,
    /// Wait for indexer acknowledgement before confirming a batch.
    #[serde(default)]
    pub acks: bool,
    /// How long to wait for indexer acknowledgement.
    #[serde(default = "default_ack_timeout")]
    pub ack_timeout: Duration,
    /// gzip request bodies.
    #[serde(default)]
    pub compression: Compression,
    /// Largest request body before compression.
    #[serde(default = "default_hec_request_size")]
    pub max_request_size: ByteSize,
    /// Lets an `http://` URL through (loopback test servers).
    #[serde(default)]
    pub allow_http: bool,
    /// Extra PEM trust anchors, added to the system's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

fn default_ack_timeout() -> Duration {
    Duration::from_secs(60)
}

fn default_hec_request_size() -> ByteSize {
    ByteSize(crate::sink::hec::DEFAULT_MAX_REQUEST_BYTES as u64)
}

impl SplunkHecOutput {
    /// Where the token comes from.
    pub fn token_source(&self) -> SecretSource {
        SecretSource {
            env: self.token_env.clone(),
            file: self.token_file.clone(),
        }
    }
}

/// `[state]`: where checkpoints live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateConfig {
    /// The state directory (created when missing, locked while in use).
    #[serde(default = "default_state_dir")]
    pub dir: PathBuf,
}

fn default_state_dir() -> PathBuf {
    PathBuf::from("./state")
}

impl Default for StateConfig {
    fn default() -> Self {
        Self {
            dir: default_state_dir(),
        }
    }
}

/// `[logging]`: how logs look on stderr.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoggingConfig {
    /// Human-readable lines or JSON objects.
    #[serde(default)]
    pub format: LogFormat,
    /// A level (`info`) or a tracing filter (`info,siem_pipeline=debug`).
    #[serde(default = "default_log_level")]
    pub level: String,
}

fn default_log_level() -> String {
    "info".to_owned()
}

/// Log line format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Human,
    /// One JSON object per line.
    Json,
}

/// `[metrics]`: the Prometheus endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Address to serve `/metrics` on, e.g. `127.0.0.1:9898`.
    pub listen: SocketAddr,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, Serialize)]
    #[serde(deny_unknown_fields)]
    struct Sample {
        #[serde(default)]
        siem: Option<SiemConfig>,
        output: OutputConfig,
        #[serde(default)]
        state: StateConfig,
        #[serde(default)]
        logging: LoggingConfig,
        #[serde(default)]
        metrics: Option<MetricsConfig>,
        poll_interval: Option<Duration>,
    }

    fn parse(text: &str) -> Result<Sample, ConfigError> {
        parse_config(text, Path::new("sample.toml"))
    }

    #[test]
    fn durations_parse_and_print_back() {
        for (text, secs) in [("30s", 30), ("15m", 900), ("1h", 3600), ("3d", 259_200)] {
            let duration: Duration = text.parse().unwrap();
            assert_eq!(duration.get().as_secs(), secs);
            assert_eq!(duration.to_string(), text);
        }
        let mixed: Duration = "1h30m".parse().unwrap();
        assert_eq!(mixed.get().as_secs(), 5400);
        assert_eq!("500ms".parse::<Duration>().unwrap().get().as_millis(), 500);
        assert_eq!("90s".parse::<Duration>().unwrap().to_string(), "1m30s");
    }

    #[test]
    fn bad_durations_say_what_is_allowed() {
        let errors: Vec<String> = ["", "15", "m", "15x", "-1s", "99999999999999999999d"]
            .iter()
            .map(|text| text.parse::<Duration>().unwrap_err().to_string())
            .collect();
        insta::assert_yaml_snapshot!(errors);
    }

    #[test]
    fn sizes_parse() {
        assert_eq!("100MiB".parse::<ByteSize>().unwrap(), ByteSize(100 << 20));
        assert_eq!("10 MB".parse::<ByteSize>().unwrap(), ByteSize(10_000_000));
        assert_eq!("4096".parse::<ByteSize>().unwrap(), ByteSize(4096));
        assert!("ten".parse::<ByteSize>().is_err());
        assert!("5XB".parse::<ByteSize>().is_err());
    }

    #[test]
    fn a_full_config_loads_and_prints_masked() {
        let config = parse(
            r#"
poll_interval = "15m"
[siem]
host = "siem.example"
protocol = "relp-tls"
ca_file = "/etc/ca.pem"
[output]
kind = "xsiam"
format = "json"
url = "https://api-tenant.xdr.example.com"
api_key_env = "XSIAM_KEY"
compression = "gzip"
[state]
dir = "/var/lib/siembridge"
[logging]
format = "json"
level = "debug"
[metrics]
listen = "127.0.0.1:9898"
"#,
        )
        .unwrap();
        assert_eq!(config.siem.as_ref().unwrap().effective_port(), 2514);
        insta::assert_snapshot!(to_masked_toml(&config).unwrap());
    }

    #[test]
    fn config_errors_name_file_line_key_and_choices() {
        let cases = [
            "[output]\nkind = \"stdout\"\nformatt = \"json\"\n",
            "[output]\nkind = \"kafka\"\n",
            "[output]\nkind = \"file\"\nformat = \"yaml\"\npath = \"x\"\n",
            "[output]\nkind = \"file\"\n",
            "poll_interval = \"15 minutes\"\n[output]\nkind = \"stdout\"\n",
            "[output]\nkind = \"stdout\"\n[siem]\nhost = \"h\"\nprotocol = \"sctp\"\n",
            "[output]\nkind = \"stdout\"\n[siem]\nhost = \"h\"\nfacility = \"local9\"\n",
            "[output]\nkind = \"stdout\"\n[state]\ndirectory = \"x\"\n",
            "[output\nkind = \"stdout\"\n",
            "[output]\nkind = \"splunk-hec\"\nurl = \"not a url\"\n",
            "[output]\nkind = \"stdout\"\npath = \"out.ndjson\"\n",
            "[output]\nkind = \"xsiam\"\napi_key_env = \"K\"\n",
            "[output]\nkind = \"splunk-hec\"\nurl = \"https://h:8088\"\nack_timeout = 5\n",
        ];
        let messages: Vec<String> = cases
            .iter()
            .map(|text| parse(text).unwrap_err().to_string())
            .collect();
        insta::assert_yaml_snapshot!(messages);
    }

    #[test]
    fn secrets_resolve_from_env_or_file_and_never_print() {
        let from_env = SecretSource::env("KEY")
            .resolve("output.api_key", |name| {
                (name == "KEY").then(|| "s3cr3t".to_owned())
            })
            .unwrap();
        assert_eq!(from_env.expose(), "s3cr3t");
        assert_eq!(format!("{from_env:?} {from_env}"), "*** ***");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "filekey\n").unwrap();
        let from_file = SecretSource {
            env: Some("KEY".into()),
            file: Some(path),
        }
        .resolve("output.api_key", |_| None)
        .unwrap();
        assert_eq!(from_file.expose(), "filekey");

        let unset = SecretSource::env("MISSING")
            .resolve("output.api_key", |_| None)
            .unwrap_err();
        assert_eq!(
            unset.to_string(),
            "output.api_key: environment variable MISSING is not set"
        );
        let none = SecretSource::default()
            .resolve("output.token", |_| None)
            .unwrap_err();
        assert!(none.to_string().contains("no source configured"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        #[test]
        fn duration_display_parses_back(ms in 0u64..10_000_000_000) {
            let duration = Duration::new(std::time::Duration::from_millis(ms));
            let reparsed: Duration = duration.to_string().parse().unwrap();
            proptest::prop_assert_eq!(reparsed, duration);
        }

        #[test]
        fn duration_parser_never_panics(text in "\\PC{0,12}") {
            let _ = text.parse::<Duration>();
        }
    }
}
