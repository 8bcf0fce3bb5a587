//! Client configuration: plain values, validated by [`Client::new`](crate::Client::new).

use std::time::Duration;

use crate::Secret;

/// Where Strata Cloud Manager issues OAuth2 tokens.
pub const SCM_TOKEN_URL: &str = "https://auth.apps.paloaltonetworks.com/oauth2/access_token";

/// The largest page the API serves (`pagelength`).
pub const MAX_PAGE_SIZE: u32 = 1000;

/// How the client authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    /// A standalone IoT Security tenant (API v4.0): `X-Key-Id` and `X-Access-Key` headers.
    ApiKey {
        /// The access key id.
        key_id: Secret,
        /// The secret access key.
        access_key: Secret,
    },
    /// A Strata Cloud Manager tenant: OAuth2 client credentials and bearer tokens.
    StrataCloudManager(ScmCredentials),
}

/// OAuth2 client credentials of a Strata Cloud Manager service account.
#[derive(Debug, Clone)]
pub struct ScmCredentials {
    /// Token endpoint; [`SCM_TOKEN_URL`] for real tenants.
    pub token_url: String,
    /// The service account's client id.
    pub client_id: String,
    /// The service account's client secret.
    pub client_secret: Secret,
    /// The tenant service group id, sent as scope `tsg_id:<id>`.
    pub tsg_id: String,
}

impl ScmCredentials {
    /// Credentials for the production token endpoint.
    pub fn new(
        client_id: impl Into<String>,
        client_secret: Secret,
        tsg_id: impl Into<String>,
    ) -> Self {
        Self {
            token_url: SCM_TOKEN_URL.to_owned(),
            client_id: client_id.into(),
            client_secret,
            tsg_id: tsg_id.into(),
        }
    }
}

impl Auth {
    /// API key authentication for a standalone tenant.
    pub fn api_key(key_id: impl Into<Secret>, access_key: impl Into<Secret>) -> Self {
        Self::ApiKey {
            key_id: key_id.into(),
            access_key: access_key.into(),
        }
    }

    /// The API prefix below the base URL: `pub/v4.0/` with API keys, `iot/pub/v1/` on
    /// Strata Cloud Manager.
    pub fn api_prefix(&self) -> &'static str {
        match self {
            Self::ApiKey { .. } => "pub/v4.0/",
            Self::StrataCloudManager(_) => "iot/pub/v1/",
        }
    }
}

/// Everything the client needs, as plain values (the binary reads secrets from the
/// environment or files and passes them in).
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Tenant root such as `https://acme.iot.paloaltonetworks.com` (with or without a
    /// trailing slash, with or without the `pub/v4.0/` prefix), or
    /// `https://api.strata.paloaltonetworks.com` for Strata Cloud Manager.
    pub base_url: String,
    /// The tenant's customer id, sent as `customerid` on every call.
    pub customer_id: String,
    /// Credentials.
    pub auth: Auth,
    /// Records per page (`pagelength`), 1 to [`MAX_PAGE_SIZE`].
    pub page_size: u32,
    /// Requests per minute the client allows itself; 0 lifts the limit.
    pub requests_per_minute: u32,
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Time allowed for one request, body included.
    pub request_timeout: Duration,
    /// Retries after the first attempt before a request fails.
    pub max_retries: u32,
    /// First backoff delay; doubled per retry, with full jitter.
    pub retry_base_delay: Duration,
    /// Cap on one backoff delay, and on an honoured `Retry-After`.
    pub max_retry_delay: Duration,
    /// Allows an `http://` base URL (loopback test servers). Off by default.
    pub allow_http: bool,
}

impl ClientConfig {
    /// A configuration with the documented defaults: pages of 1000, 60 requests per
    /// minute, 10 s to connect, 60 s per request, 5 retries from 500 ms up to 60 s.
    pub fn new(base_url: impl Into<String>, customer_id: impl Into<String>, auth: Auth) -> Self {
        Self {
            base_url: base_url.into(),
            customer_id: customer_id.into(),
            auth,
            page_size: MAX_PAGE_SIZE,
            requests_per_minute: 60,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            max_retries: 5,
            retry_base_delay: Duration::from_millis(500),
            max_retry_delay: Duration::from_secs(60),
            allow_http: false,
        }
    }
}
