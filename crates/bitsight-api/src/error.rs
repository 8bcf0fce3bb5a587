//! Typed errors. None of them carries the token: requests send it in a header only,
//! and URLs with credentials are refused up front.

use std::fmt;

/// Where a failed request went: method and path, plus the company and page offset when
/// the request had them. Query strings are left out to keep messages short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `GET /ratings/v1/companies/{guid}/findings` and the like.
    pub path: String,
    /// The company GUID the request was about, if any.
    pub company: Option<String>,
    /// The `offset` of the page, for paged endpoints.
    pub offset: Option<u64>,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GET {}", self.path)?;
        match (&self.company, self.offset) {
            (Some(company), Some(offset)) => write!(f, " (company {company}, offset {offset})"),
            (Some(company), None) => write!(f, " (company {company})"),
            (None, Some(offset)) => write!(f, " (offset {offset})"),
            (None, None) => Ok(()),
        }
    }
}

/// A [`ClientConfig`](crate::ClientConfig) that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The base URL is neither https nor (with `allow_http`) http.
    #[error(
        "base URL scheme `{scheme}` is not allowed: use https (http only with allow_http, for loopback test servers)"
    )]
    Scheme {
        /// The scheme that was given.
        scheme: String,
    },
    /// The base URL carries a user name or password; the token belongs in `token`.
    #[error("base URL must not carry credentials: put the API token in `token`")]
    CredentialsInUrl,
    /// The base URL has no host.
    #[error("base URL has no host")]
    NoHost,
    /// `max_in_flight` is 0.
    #[error("max_in_flight must be at least 1")]
    NoConcurrency,
    /// The token is empty.
    #[error("the API token is empty")]
    EmptyToken,
    /// The token or user agent cannot be sent as an HTTP header.
    #[error("the {what} contains characters that cannot be sent in an HTTP header")]
    BadHeader {
        /// Which value: "API token" or "user agent".
        what: &'static str,
    },
    /// The HTTP stack could not be set up.
    #[error("cannot build the HTTP client: {0}")]
    Http(#[source] reqwest::Error),
}

/// A failed API call or a stream that had to stop.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// An argument cannot be put in a request (an empty or dot-only company GUID).
    #[error("invalid {name}: {reason}")]
    InvalidArgument {
        /// The argument's name.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// 401: the token was refused.
    #[error(
        "{endpoint}: 401 Unauthorized: Bitsight refused the API token; check that the token is current (Settings > API in Bitsight) and sent whole"
    )]
    Unauthorized {
        /// The request.
        endpoint: Endpoint,
    },
    /// 403: the token may not see this resource.
    #[error(
        "{endpoint}: 403 Forbidden: the token's user or company has no access here; check that the company is in your portfolio and the token has the needed role"
    )]
    Forbidden {
        /// The request.
        endpoint: Endpoint,
    },
    /// 404: no such resource.
    #[error("{endpoint}: 404 Not Found: check the company GUID (see companies()) and the base URL")]
    NotFound {
        /// The request.
        endpoint: Endpoint,
    },
    /// Any other status that retrying will not fix (400, 422, ...).
    #[error("{endpoint}: HTTP {status}: {message}")]
    Status {
        /// The request.
        endpoint: Endpoint,
        /// The HTTP status code.
        status: u16,
        /// The start of the response body, as Bitsight's explanation.
        message: String,
    },
    /// 429s, 5xx, timeouts or resets went on past the retry maximum.
    #[error("{endpoint}: gave up after {attempts} attempts; last failure: {last_failure}")]
    RetriesExhausted {
        /// The request.
        endpoint: Endpoint,
        /// Attempts made, the first one included.
        attempts: u32,
        /// What the last attempt met.
        last_failure: String,
    },
    /// A request could not be sent at all (not a transient failure).
    #[error("{endpoint}: request failed: {source}")]
    Transport {
        /// The request.
        endpoint: Endpoint,
        /// The HTTP stack's error.
        #[source]
        source: reqwest::Error,
    },
    /// A `links.next` pointing at another scheme, host or port: the token is not sent there.
    #[error("{endpoint}: refusing to follow next link `{next}`: it leaves the configured API host")]
    ForeignNextLink {
        /// The request whose page carried the link.
        endpoint: Endpoint,
        /// The link, without any query string.
        next: String,
    },
    /// The response body is not the JSON shape the endpoint documents.
    #[error("{endpoint}: malformed response: {source}")]
    Decode {
        /// The request.
        endpoint: Endpoint,
        /// What the JSON parser met, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// A page came back empty, again and again, before `count` results were delivered:
    /// following on would skip results, so the stream stops instead.
    #[error(
        "{endpoint}: page came back empty after {delivered} of {count} results; stopping rather than skipping results"
    )]
    IncompletePage {
        /// The request.
        endpoint: Endpoint,
        /// Results delivered so far.
        delivered: u64,
        /// The `count` the API announced.
        count: u64,
    },
}

impl ApiError {
    /// The request the error is about, when there was one.
    #[must_use]
    pub fn endpoint(&self) -> Option<&Endpoint> {
        match self {
            Self::InvalidArgument { .. } => None,
            Self::Unauthorized { endpoint }
            | Self::Forbidden { endpoint }
            | Self::NotFound { endpoint }
            | Self::Status { endpoint, .. }
            | Self::RetriesExhausted { endpoint, .. }
            | Self::Transport { endpoint, .. }
            | Self::ForeignNextLink { endpoint, .. }
            | Self::Decode { endpoint, .. }
            | Self::IncompletePage { endpoint, .. } => Some(endpoint),
        }
    }
}
