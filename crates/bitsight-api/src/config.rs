//! Client settings, as plain values: the library never reads files or the environment.

use std::time::Duration;

use url::Url;

use crate::Secret;

/// Bitsight's public API root.
pub const DEFAULT_BASE_URL: &str = "https://api.bitsighttech.com";

/// The `User-Agent` every request carries: `siembridge/<crate version>`.
pub const USER_AGENT: &str = concat!("siembridge/", env!("CARGO_PKG_VERSION"));

/// How a [`Client`](crate::Client) talks to Bitsight.
///
/// Build one with [`ClientConfig::new`] and adjust the public fields.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Scheme, host and port of the API (a path prefix is kept). Default [`DEFAULT_BASE_URL`].
    pub base_url: Url,
    /// The API token, sent as the Basic-auth user name with an empty password.
    pub token: Secret,
    /// The `User-Agent` header. Default [`USER_AGENT`].
    pub user_agent: String,
    /// Requests in flight at once, shared by every clone of the client. Bitsight advises 3.
    pub max_in_flight: usize,
    /// Limit for establishing a connection.
    pub connect_timeout: Duration,
    /// Limit for one whole request, body included.
    pub request_timeout: Duration,
    /// Retries of one request after a 429, a 5xx, a timeout or a reset; then a typed error.
    pub max_retries: u32,
    /// Wait after a 429 that carries no `Retry-After`. Bitsight advises one minute.
    pub rate_limit_wait: Duration,
    /// First delay of the exponential backoff (before jitter).
    pub backoff_base: Duration,
    /// Ceiling of the exponential backoff.
    pub backoff_max: Duration,
    /// Lets an `http://` base URL through (loopback test servers). Off: https only.
    pub allow_http: bool,
}

impl ClientConfig {
    /// Bitsight's defaults for this token: the public API root, 3 requests in flight,
    /// 10 s to connect, 120 s per request, 5 retries, 60 s after a bare 429.
    #[must_use]
    pub fn new(token: Secret) -> Self {
        Self {
            base_url: default_base_url(),
            token,
            user_agent: USER_AGENT.to_owned(),
            max_in_flight: 3,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(120),
            max_retries: 5,
            rate_limit_wait: Duration::from_secs(60),
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            allow_http: false,
        }
    }

    /// The same settings against another API root (a proxy, or a loopback test server).
    #[must_use]
    pub fn with_base_url(mut self, base_url: Url) -> Self {
        self.base_url = base_url;
        self
    }
}

#[allow(clippy::expect_used)] // a constant, checked by the unit test below
fn default_base_url() -> Url {
    Url::parse(DEFAULT_BASE_URL).expect("the default base URL is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_bitsight_advice() {
        let config = ClientConfig::new(Secret::new("t"));
        assert_eq!(config.base_url.as_str(), "https://api.bitsighttech.com/");
        assert_eq!(config.max_in_flight, 3);
        assert_eq!(config.rate_limit_wait, Duration::from_secs(60));
        assert!(config.user_agent.starts_with("siembridge/"));
        assert!(!config.allow_http);
        assert!(!format!("{config:?}").contains("\"t\""));
    }
}
