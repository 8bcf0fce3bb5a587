//! Error types: one for configuration, one for API calls.

use std::fmt;

/// A configuration the client refuses.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The base URL (or token URL) does not parse.
    #[error("invalid {what} {url:?}: {source}")]
    InvalidUrl {
        /// Which URL: `base_url` or `token_url`.
        what: &'static str,
        /// The URL as given.
        url: String,
        /// Why it does not parse.
        source: url::ParseError,
    },
    /// The URL is not https and `allow_http` is off.
    #[error("{what} {url:?} is not https; set allow_http only for loopback test servers")]
    NotHttps {
        /// Which URL: `base_url` or `token_url`.
        what: &'static str,
        /// The URL as given.
        url: String,
    },
    /// The page size is outside 1..=1000.
    #[error("page_size {page_size} is out of range: the API serves 1 to 1000 records per page")]
    PageSize {
        /// The page size asked for.
        page_size: u32,
    },
    /// A required value is empty.
    #[error("{field} is empty")]
    Empty {
        /// The empty field.
        field: &'static str,
    },
    /// A credential has characters an HTTP header cannot carry.
    #[error("{field} has characters an HTTP header cannot carry")]
    Credential {
        /// The credential's name (never its value).
        field: &'static str,
    },
    /// The HTTP client could not be built (TLS roots, for example).
    #[error("could not build the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
}

/// Where a call went: the API endpoint and, for lists, the page offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// The endpoint below the API prefix, such as `device/list`.
    pub endpoint: &'static str,
    /// The page offset of a list call.
    pub offset: Option<u64>,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(offset) => write!(f, "{} at offset {offset}", self.endpoint),
            None => f.write_str(self.endpoint),
        }
    }
}

/// A failed API call. Every variant names the endpoint and offset; none carries a
/// credential.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// HTTP 401 or 403: the credentials or their role are wrong. Not retried.
    #[error(
        "{place}: HTTP {status}, access denied ({message}); check the key id and access key \
         (or the client credentials) and that their role may read this API"
    )]
    Unauthorized {
        /// Where.
        place: Place,
        /// 401 or 403.
        status: u16,
        /// The server's `msg`, or the start of its body.
        message: String,
    },
    /// Another HTTP error status that is not retried (400, 404, ...), or a retried
    /// status (429, 5xx) after the last retry.
    #[error("{place}: HTTP {status} after {attempts} attempt(s): {message}")]
    Status {
        /// Where.
        place: Place,
        /// The status code.
        status: u16,
        /// Attempts made.
        attempts: u32,
        /// The server's `msg`, or the start of its body.
        message: String,
    },
    /// The connection failed, reset or timed out on every attempt.
    #[error("{place}: {kind} after {attempts} attempt(s): {source}")]
    Transport {
        /// Where.
        place: Place,
        /// `timeout`, `connection failed` or `transport error`.
        kind: &'static str,
        /// Attempts made.
        attempts: u32,
        /// The last error (its URL removed).
        source: reqwest::Error,
    },
    /// The body is not the JSON the endpoint documents (truncated, not JSON, wrong shape).
    #[error("{place}: response is not valid JSON of the expected shape: {source}")]
    Decode {
        /// Where.
        place: Place,
        /// The parser's error, with line and column.
        source: serde_json::Error,
    },
    /// The JSON is valid but lacks the list the endpoint documents.
    #[error("{place}: response has no `{key}` array")]
    MissingList {
        /// Where.
        place: Place,
        /// The missing key (`devices` or `items`).
        key: &'static str,
    },
    /// Strata Cloud Manager refused or failed to issue a token.
    #[error("OAuth2 token request failed: {message}")]
    Token {
        /// What went wrong (never the secret).
        message: String,
    },
    /// A list query asked to start past [`MAX_OFFSET`](crate::MAX_OFFSET); no request
    /// was sent.
    #[error("{place}: the start offset is larger than the largest allowed, {max}")]
    InvalidOffset {
        /// The list, and the offset asked for.
        place: Place,
        /// The largest offset allowed.
        max: u64,
    },
}

impl ApiError {
    /// Where the failed call went (`None` for a token failure).
    pub fn place(&self) -> Option<Place> {
        match self {
            Self::Unauthorized { place, .. }
            | Self::Status { place, .. }
            | Self::Transport { place, .. }
            | Self::Decode { place, .. }
            | Self::MissingList { place, .. }
            | Self::InvalidOffset { place, .. } => Some(*place),
            Self::Token { .. } => None,
        }
    }

    /// The HTTP status, when the server answered with an error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Unauthorized { status, .. } | Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}
