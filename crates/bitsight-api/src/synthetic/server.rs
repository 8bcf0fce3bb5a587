//! The loopback HTTP server over a [`SyntheticPortfolio`].

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use time::Date;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use url::{Url, form_urlencoded};

use super::generate::{
    SynthCompany, SynthFinding, SyntheticPortfolio, risk_category, write_finding,
};
use crate::lenient::{format_date, parse_date};
use crate::vocab::{AssetCategory, Grade, RiskCategory, RiskVector, SeverityCategory};
use crate::{ClientConfig, Secret};

/// The token [`serve`] accepts (as the Basic-auth user name, empty password).
pub const SYNTHETIC_TOKEN: &str = "synthetic-bitsight-token";

/// A failure to inject, for testing how clients cope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer the next `times` requests (any endpoint) with 429, with this
    /// `Retry-After` in seconds, or none.
    RateLimit {
        /// The `Retry-After` header's seconds; `None` sends no header.
        retry_after: Option<u64>,
        /// How many requests get the 429.
        times: u32,
    },
    /// Answer the next `times` findings requests at `offset` with this status (500,
    /// 502, 524, ...).
    ServerError {
        /// The HTTP status to send.
        status: u16,
        /// The page offset it applies to.
        at_offset: u64,
        /// How many requests get it.
        times: u32,
    },
    /// Answer the next `times` findings requests at `offset` with an empty page that
    /// still announces the full `count`.
    EmptyPage {
        /// The page offset it applies to.
        at_offset: u64,
        /// How many requests get it.
        times: u32,
    },
    /// Answer the next `times` findings requests at `offset` with truncated JSON.
    MalformedJson {
        /// The page offset it applies to.
        at_offset: u64,
        /// How many requests get it.
        times: u32,
    },
}

impl Fault {
    fn applies(&self, is_findings: bool, offset: u64) -> bool {
        match self {
            Self::RateLimit { times, .. } => *times > 0,
            Self::ServerError {
                at_offset, times, ..
            }
            | Self::EmptyPage { at_offset, times }
            | Self::MalformedJson { at_offset, times } => {
                is_findings && *at_offset == offset && *times > 0
            }
        }
    }

    fn exhausted(&self) -> bool {
        match self {
            Self::RateLimit { times, .. }
            | Self::ServerError { times, .. }
            | Self::EmptyPage { times, .. }
            | Self::MalformedJson { times, .. } => *times == 0,
        }
    }

    fn consume(&mut self) {
        match self {
            Self::RateLimit { times, .. }
            | Self::ServerError { times, .. }
            | Self::EmptyPage { times, .. }
            | Self::MalformedJson { times, .. } => *times = times.saturating_sub(1),
        }
    }
}

/// The server's state. Pages are rendered under a shared read lock on the portfolio, so
/// requests for different companies (or pages) render in parallel; only changes to the
/// portfolio (`add_findings`, ...) take it exclusively.
struct Shared {
    portfolio: RwLock<SyntheticPortfolio>,
    faults: Mutex<Vec<Fault>>,
    authorization: String,
    base: String,
    requests: AtomicU64,
}

type SharedState = Arc<Shared>;

/// What the renderers read: the portfolio as it is and the server's own URL.
struct View<'a> {
    portfolio: &'a SyntheticPortfolio,
    base: &'a str,
}

// A panic elsewhere cannot leave the portfolio half-updated in a way that matters here.
impl Shared {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, SyntheticPortfolio> {
        self.portfolio
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, SyntheticPortfolio> {
        self.portfolio
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn faults(&self) -> std::sync::MutexGuard<'_, Vec<Fault>> {
        self.faults.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running synthetic server. Dropping it stops the server.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    base_url: Url,
    token: Secret,
    shared: SharedState,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("companies", &self.read().companies.len())
            .field("faults", &*self.faults())
            .field("requests", &self.requests.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Serves `portfolio` on `127.0.0.1:0` with [`SYNTHETIC_TOKEN`].
///
/// # Errors
/// When no loopback port can be bound.
pub async fn serve(portfolio: SyntheticPortfolio) -> std::io::Result<ServerHandle> {
    serve_with_token(portfolio, Secret::new(SYNTHETIC_TOKEN)).await
}

/// Serves `portfolio` on `127.0.0.1:0`, accepting only `token`.
///
/// # Errors
/// When no loopback port can be bound.
pub async fn serve_with_token(
    portfolio: SyntheticPortfolio,
    token: Secret,
) -> std::io::Result<ServerHandle> {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let base_url = Url::parse(&format!("http://{addr}/")).map_err(std::io::Error::other)?;
    let shared = Arc::new(Shared {
        portfolio: RwLock::new(portfolio),
        faults: Mutex::new(Vec::new()),
        authorization: format!(
            "Basic {}",
            base64(format!("{}:", token.expose()).as_bytes())
        ),
        base: format!("http://{addr}"),
        requests: AtomicU64::new(0),
    });
    let router = Router::new()
        .fallback(handle)
        .with_state(Arc::clone(&shared));
    let (shutdown, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, router).with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
        // The server only stops on shutdown or when the listener fails; either way, done.
        let _ = server.await;
    });
    Ok(ServerHandle {
        addr,
        base_url,
        token,
        shared,
        shutdown: Some(shutdown),
        task: Some(task),
    })
}

impl ServerHandle {
    /// The bound address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/`.
    #[must_use]
    pub fn base_url(&self) -> Url {
        self.base_url.clone()
    }

    /// A client configuration for this server: its URL and token, http allowed, and
    /// short waits (100 ms after a bare 429, backoff from 10 ms to 1 s) so fault tests
    /// run fast.
    #[must_use]
    pub fn client_config(&self) -> ClientConfig {
        ClientConfig {
            allow_http: true,
            rate_limit_wait: Duration::from_millis(100),
            backoff_base: Duration::from_millis(10),
            backoff_max: Duration::from_secs(1),
            ..ClientConfig::new(self.token.clone()).with_base_url(self.base_url())
        }
    }

    /// Adds `count` findings first seen on `first_seen` to company `company` (by
    /// index) while the server runs; returns how many were added.
    pub fn add_findings(&self, company: usize, count: usize, first_seen: Date) -> usize {
        self.shared.write().add_findings(company, count, first_seen)
    }

    /// Moves the last-seen date of company `company`'s `count` earliest findings to
    /// `last_seen` while the server runs; returns how many moved.
    pub fn touch_findings(&self, company: usize, count: usize, last_seen: Date) -> usize {
        self.shared
            .write()
            .touch_findings(company, count, last_seen)
    }

    /// Removes company `company`'s `count` earliest findings while the server runs;
    /// returns how many were removed.
    pub fn remove_findings(&self, company: usize, count: usize) -> usize {
        self.shared.write().remove_findings(company, count)
    }

    /// Queues a fault; faults apply in the order injected.
    pub fn inject(&self, fault: Fault) {
        self.shared.faults().push(fault);
    }

    /// Requests answered so far (faults and refusals included).
    #[must_use]
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// Runs `read` on the portfolio as it is now (added findings included).
    pub fn with_portfolio<R>(&self, read: impl FnOnce(&SyntheticPortfolio) -> R) -> R {
        read(&self.shared.read())
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        Body::from(body),
    )
        .into_response()
}

fn detail(status: StatusCode, message: &str) -> Response {
    json_response(
        status,
        json!({ "detail": message }).to_string().into_bytes(),
    )
}

/// A request the server turns down, with the status and Bitsight-style `detail`.
struct Refusal {
    status: StatusCode,
    message: String,
}

impl Refusal {
    fn new(status: StatusCode, message: &str) -> Self {
        Self {
            status,
            message: message.to_owned(),
        }
    }

    fn into_response(self) -> Response {
        detail(self.status, &self.message)
    }
}

/// The request's query, decoded, in order.
struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn list(&self, name: &str) -> Vec<&str> {
        self.get(name)
            .map(|value| {
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn date(&self, name: &str) -> Result<Option<Date>, Refusal> {
        match self.get(name) {
            None => Ok(None),
            Some(text) => parse_date(text).map(Some).ok_or_else(|| {
                Refusal::new(
                    StatusCode::BAD_REQUEST,
                    &format!("{name}: expected YYYY-MM-DD"),
                )
            }),
        }
    }

    fn number(&self, name: &str, default: u64) -> Result<u64, Refusal> {
        match self.get(name) {
            None => Ok(default),
            Some(text) => text.parse().map_err(|_| {
                Refusal::new(
                    StatusCode::BAD_REQUEST,
                    &format!("{name}: expected a whole number"),
                )
            }),
        }
    }

    /// These parameters with `offset` set to `offset`.
    fn with_offset(&self, offset: u64) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        let mut seen = false;
        for (key, value) in &self.0 {
            if key == "offset" {
                query.append_pair(key, &offset.to_string());
                seen = true;
            } else {
                query.append_pair(key, value);
            }
        }
        if !seen {
            query.append_pair("offset", &offset.to_string());
        }
        query.finish()
    }
}

/// A page of `count` items from `offset`: writes the envelope around `write_items`.
fn paged(
    base: &str,
    path: &str,
    params: &Params,
    offset: u64,
    limit: u64,
    count: u64,
    write_items: impl FnOnce(&mut Vec<u8>),
) -> Response {
    let link = |offset: u64| json!(format!("{base}{path}?{}", params.with_offset(offset)));
    let next = if offset.saturating_add(limit) < count {
        link(offset + limit)
    } else {
        serde_json::Value::Null
    };
    let previous = if offset > 0 {
        link(offset.saturating_sub(limit))
    } else {
        serde_json::Value::Null
    };
    let mut body = Vec::with_capacity(1024 * usize::try_from(limit).unwrap_or(100));
    body.extend_from_slice(
        format!("{{\"links\":{{\"next\":{next},\"previous\":{previous}}},\"count\":{count},\"results\":[").as_bytes(),
    );
    write_items(&mut body);
    body.extend_from_slice(b"]}");
    json_response(StatusCode::OK, body)
}

async fn handle(State(shared): State<SharedState>, request: Request) -> Response {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let authorized = request
        .headers()
        .get(header::AUTHORIZATION)
        .is_some_and(|value| value.as_bytes() == shared.authorization.as_bytes());
    if !authorized {
        return detail(StatusCode::UNAUTHORIZED, "Invalid token.");
    }
    let path = request.uri().path().to_owned();
    let params = Params(
        form_urlencoded::parse(request.uri().query().unwrap_or_default().as_bytes())
            .into_owned()
            .collect(),
    );
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let is_findings = matches!(
        segments.as_slice(),
        ["ratings", "v1", "companies", _, "findings"]
    );
    let offset = params
        .get("offset")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let fault = {
        let mut faults = shared.faults();
        let fault = faults
            .iter_mut()
            .find(|fault| fault.applies(is_findings, offset))
            .map(|fault| {
                fault.consume();
                fault.clone()
            });
        faults.retain(|fault| !fault.exhausted());
        fault
    };
    let current = shared.read();
    let state = &View {
        portfolio: &current,
        base: &shared.base,
    };
    if let Some(fault) = fault {
        return fault_response(&fault, state, &segments, offset);
    }
    let result = match segments.as_slice() {
        ["ratings", "v1", "companies"] => Ok(companies(state)),
        ["ratings", "v1", "companies", guid] => {
            company_of(state, guid).map(|c| company_details(state, c))
        }
        ["ratings", "v1", "companies", guid, "findings"] => {
            company_of(state, guid).and_then(|c| findings(state, c, &path, &params))
        }
        ["ratings", "v1", "companies", guid, "findings", "summary"] => {
            company_of(state, guid).and_then(|c| summary(c, &params))
        }
        ["ratings", "v1", "companies", guid, "findings", "statistics"] => {
            company_of(state, guid).and_then(|c| statistics(c, &params))
        }
        ["ratings", "v2", "portfolio"] => portfolio(state, &path, &params),
        ["ratings", "v2", "alerts"] => alerts(state, &path, &params),
        _ => Err(Refusal::new(StatusCode::NOT_FOUND, "Not found.")),
    };
    result.unwrap_or_else(Refusal::into_response)
}

fn fault_response(fault: &Fault, state: &View<'_>, segments: &[&str], offset: u64) -> Response {
    match fault {
        Fault::RateLimit { retry_after, .. } => {
            let mut response = detail(StatusCode::TOO_MANY_REQUESTS, "Rate Limit Reached");
            if let Some(seconds) = retry_after
                && let Ok(value) = header::HeaderValue::from_str(&seconds.to_string())
            {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            response
        }
        Fault::ServerError { status, .. } => {
            let status = StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            detail(status, "Internal server error.")
        }
        Fault::EmptyPage { .. } => {
            let count = segments
                .get(3)
                .and_then(|guid| state.portfolio.companies.iter().find(|c| c.guid == *guid))
                .map_or(0, |company| company.findings.len());
            let body = json!({ "links": { "next": null, "previous": null }, "count": count, "results": [] });
            json_response(StatusCode::OK, body.to_string().into_bytes())
        }
        Fault::MalformedJson { .. } => json_response(
            StatusCode::OK,
            format!("{{\"links\":{{\"next\":null}},\"count\":{offset},\"results\":[{{\"temporary_id\":\"x\"").into_bytes(),
        ),
    }
}

fn company_of<'a>(state: &'a View<'_>, guid: &str) -> Result<&'a SynthCompany, Refusal> {
    state
        .portfolio
        .companies
        .iter()
        .find(|company| company.guid == guid)
        .ok_or_else(|| {
            Refusal::new(
                StatusCode::NOT_FOUND,
                "No company with that GUID in your portfolio.",
            )
        })
}

fn company_summary(state: &View<'_>, company: &SynthCompany) -> serde_json::Value {
    let last = format_date(state.portfolio.spec.last_date);
    json!({
        "guid": company.guid,
        "custom_id": null,
        "name": company.name,
        "shortname": company.name,
        "network_size_v4": 256,
        "rating": company.rating,
        "rating_date": last,
        "date_added": format_date(state.portfolio.spec.first_date),
        "industry": "Technology",
        "industry_slug": "technology",
        "sub_industry": "Software",
        "sub_industry_slug": "software",
        "type": "CURATED",
        "logo": "",
        "sparkline": "",
        "external_id": null,
        "subscription_type": "Continuous Monitoring",
        "subscription_type_key": "continuous_monitoring",
        "primary_domain": company.domain,
        "security_grade": null,
        "grade_date": null,
        "display_url": format!("{}/app/spm/company/{}/overview/", state.base, company.guid),
        "href": format!("{}/ratings/v1/companies/{}", state.base, company.guid),
    })
}

fn companies(state: &View<'_>) -> Response {
    let list: Vec<_> = state
        .portfolio
        .companies
        .iter()
        .map(|c| company_summary(state, c))
        .collect();
    let mine = state
        .portfolio
        .companies
        .first()
        .map(|c| json!({ "guid": c.guid }));
    let body = json!({
        "companies": list,
        "my_company": mine,
        "countries": [],
        "created": format_date(state.portfolio.spec.first_date),
        "rating_date": format_date(state.portfolio.spec.last_date),
    });
    json_response(StatusCode::OK, body.to_string().into_bytes())
}

fn company_details(state: &View<'_>, company: &SynthCompany) -> Response {
    let details: serde_json::Map<String, serde_json::Value> = RiskVector::KNOWN
        .iter()
        .enumerate()
        .map(|(order, vector)| {
            (
                vector.as_str().to_owned(),
                json!({
                    "name": vector.label(),
                    "rating": company.rating,
                    "grade": "B",
                    "percentile": 50,
                    "category": risk_category(vector),
                    "category_order": 0,
                    "beta": false,
                    "order": order,
                    "display_url": "",
                }),
            )
        })
        .collect();
    let mut body = company_summary(state, company);
    if let Some(fields) = body.as_object_mut() {
        fields.insert(
            "description".into(),
            json!(format!("{} (synthetic)", company.name)),
        );
        fields.insert("ipv4_count".into(), json!(256));
        fields.insert("people_count".into(), json!(1000));
        fields.insert(
            "homepage".into(),
            json!(format!("https://{}", company.domain)),
        );
        fields.insert(
            "ratings".into(),
            json!([{ "rating": company.rating, "rating_date": format_date(state.portfolio.spec.last_date), "range": "Intermediate" }]),
        );
        fields.insert("rating_details".into(), serde_json::Value::Object(details));
    }
    json_response(StatusCode::OK, body.to_string().into_bytes())
}

/// The findings filters of one request.
struct FindingFilter {
    first_seen_gte: Option<Date>,
    first_seen_lte: Option<Date>,
    last_seen_gte: Option<Date>,
    last_seen_lte: Option<Date>,
    severity_gte: Option<f64>,
    vectors: Vec<RiskVector>,
    categories: Vec<RiskCategory>,
    grades: Vec<Grade>,
    assets: Vec<AssetCategory>,
    affects_rating: Option<bool>,
}

impl FindingFilter {
    fn from_params(params: &Params) -> Result<Self, Refusal> {
        let severity_gte = match params.get("severity_gte") {
            None => None,
            Some(text) => Some(text.parse::<f64>().map_err(|_| {
                Refusal::new(StatusCode::BAD_REQUEST, "severity_gte: expected a number")
            })?),
        };
        let affects_rating = match params.get("affects_rating") {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => {
                return Err(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    "affects_rating: expected true or false",
                ));
            }
        };
        Ok(Self {
            first_seen_gte: params.date("first_seen_gte")?,
            first_seen_lte: params.date("first_seen_lte")?,
            last_seen_gte: params.date("last_seen_gte")?,
            last_seen_lte: params.date("last_seen_lte")?,
            severity_gte,
            vectors: params
                .list("risk_vector")
                .into_iter()
                .map(RiskVector::parse)
                .collect(),
            categories: params
                .list("risk_category")
                .into_iter()
                .map(RiskCategory::parse)
                .collect(),
            grades: params
                .list("details.grade")
                .into_iter()
                .map(Grade::parse)
                .collect(),
            assets: params
                .list("assets.category")
                .into_iter()
                .map(AssetCategory::parse)
                .collect(),
            affects_rating,
        })
    }

    fn keeps(&self, finding: &SynthFinding) -> bool {
        let vector = finding.risk_vector();
        self.first_seen_gte.is_none_or(|d| finding.first_seen >= d)
            && self.first_seen_lte.is_none_or(|d| finding.first_seen <= d)
            && self.last_seen_gte.is_none_or(|d| finding.last_seen >= d)
            && self.last_seen_lte.is_none_or(|d| finding.last_seen <= d)
            && self
                .severity_gte
                .is_none_or(|min| finding.severity() >= min)
            && (self.vectors.is_empty() || self.vectors.contains(vector))
            && (self.categories.is_empty()
                || self
                    .categories
                    .contains(&RiskCategory::parse(risk_category(vector))))
            && (self.grades.is_empty() || self.grades.contains(finding.grade()))
            && (self.assets.is_empty() || self.assets.contains(finding.asset_category()))
            && self
                .affects_rating
                .is_none_or(|affects| finding.affects_rating == affects)
    }

    /// True when no filter but `first_seen_gte` is set.
    fn only_first_seen_gte(&self) -> bool {
        self.first_seen_lte.is_none()
            && self.last_seen_gte.is_none()
            && self.last_seen_lte.is_none()
            && self.severity_gte.is_none()
            && self.vectors.is_empty()
            && self.categories.is_empty()
            && self.grades.is_empty()
            && self.assets.is_empty()
            && self.affects_rating.is_none()
    }

    /// Findings are kept sorted by first_seen: the index of the first candidate.
    fn first_candidate(&self, company: &SynthCompany) -> usize {
        self.first_seen_gte.map_or(0, |gte| {
            company.findings.partition_point(|f| f.first_seen < gte)
        })
    }

    fn select<'a>(&self, company: &'a SynthCompany) -> Vec<&'a SynthFinding> {
        company.findings[self.first_candidate(company)..]
            .iter()
            .filter(|f| self.keeps(f))
            .collect()
    }
}

fn findings(
    state: &View<'_>,
    company: &SynthCompany,
    path: &str,
    params: &Params,
) -> Result<Response, Refusal> {
    let filter = FindingFilter::from_params(params)?;
    let limit = params.number("limit", 100)?.clamp(1, 1000);
    let offset = params.number("offset", 0)?;
    let attributed = params.list("expand").contains(&"attributed_companies");
    let window = |len: usize| {
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(len);
        let end = start
            .saturating_add(usize::try_from(limit).unwrap_or(1000))
            .min(len);
        start..end
    };
    let sort = params.get("sort");
    // The common case (sorted by first_seen, at most a first_seen_gte filter) pages
    // straight through the stored order without copying it.
    let (count, page): (usize, Vec<&SynthFinding>) = if sort == Some("first_seen")
        && filter.only_first_seen_gte()
    {
        let candidates = &company.findings[filter.first_candidate(company)..];
        (
            candidates.len(),
            candidates[window(candidates.len())].iter().collect(),
        )
    } else {
        let mut selected = filter.select(company);
        match sort {
            Some("first_seen") => {}
            Some("-first_seen") => selected.reverse(),
            Some("last_seen") => selected.sort_by_key(|f| (f.last_seen, f.seq)),
            Some("-last_seen") => selected.sort_by_key(|f| std::cmp::Reverse((f.last_seen, f.seq))),
            // Bitsight's default: by severity, so findings added later land mid-list and
            // unsorted offset paging skips them.
            None => selected.sort_by_key(|f| (std::cmp::Reverse(f.severity_tenths), f.salt)),
            Some(_) => return Err(Refusal::new(StatusCode::BAD_REQUEST, "sort: unknown field")),
        }
        let range = window(selected.len());
        (selected.len(), selected[range].to_vec())
    };
    let count = u64::try_from(count).unwrap_or(u64::MAX);
    Ok(paged(
        state.base,
        path,
        params,
        offset,
        limit,
        count,
        |out| {
            for (i, finding) in page.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_finding(out, company, finding, attributed);
            }
        },
    ))
}

fn severity_counts(findings: &[&SynthFinding]) -> serde_json::Value {
    let mut counts = serde_json::Map::new();
    for category in SeverityCategory::KNOWN {
        let n = findings
            .iter()
            .filter(|f| SeverityCategory::of_severity(f.severity()) == *category)
            .count();
        counts.insert(category.as_str().to_owned(), json!(n));
    }
    serde_json::Value::Object(counts)
}

fn summary(company: &SynthCompany, params: &Params) -> Result<Response, Refusal> {
    let selected = FindingFilter::from_params(params)?.select(company);
    let per_vector: Vec<_> = RiskVector::KNOWN
        .iter()
        .filter_map(|vector| {
            let of_vector: Vec<_> = selected
                .iter()
                .copied()
                .filter(|f| f.risk_vector() == vector)
                .collect();
            (!of_vector.is_empty()).then(|| {
                json!({
                    "risk_vector": vector.as_str(),
                    "risk_vector_label": vector.label(),
                    "count": of_vector.len(),
                    "severity_counts": severity_counts(&of_vector),
                })
            })
        })
        .collect();
    Ok(json_response(
        StatusCode::OK,
        json!(per_vector).to_string().into_bytes(),
    ))
}

fn statistics(company: &SynthCompany, params: &Params) -> Result<Response, Refusal> {
    let selected = FindingFilter::from_params(params)?.select(company);
    let affecting = selected.iter().filter(|f| f.affects_rating).count();
    let body = json!({
        "count": selected.len(),
        "severity_category": severity_counts(&selected),
        "affects_rating": { "true": affecting, "false": selected.len() - affecting },
    });
    Ok(json_response(StatusCode::OK, body.to_string().into_bytes()))
}

fn portfolio(state: &View<'_>, path: &str, params: &Params) -> Result<Response, Refusal> {
    let limit = params.number("limit", 100)?.clamp(1, 1000);
    let offset = params.number("offset", 0)?;
    let companies = &state.portfolio.companies;
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(companies.len());
    let end = start
        .saturating_add(usize::try_from(limit).unwrap_or(1000))
        .min(companies.len());
    let count = u64::try_from(companies.len()).unwrap_or(u64::MAX);
    Ok(paged(
        state.base,
        path,
        params,
        offset,
        limit,
        count,
        |out| {
            for (i, company) in companies[start..end].iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let _ = serde_json::to_writer(&mut *out, &company_summary(state, company));
            }
        },
    ))
}

const ALERT_TYPES: &[&str] = &[
    "RISK_CATEGORY",
    "PERCENT_CHANGE",
    "RATING_THRESHOLD",
    "NIST_CATEGORY",
];
const ALERT_SEVERITIES: &[&str] = &["WARN", "CRITICAL", "INCREASE", "DECREASE"];

fn alerts(state: &View<'_>, path: &str, params: &Params) -> Result<Response, Refusal> {
    let gte = params.date("alert_date_gte")?;
    let lte = params.date("alert_date_lte")?;
    let company_guid = params.get("company_guid");
    let limit = params.number("limit", 100)?.clamp(1, 1000);
    let offset = params.number("offset", 0)?;
    let spec = &state.portfolio.spec;
    // One alert per company per week of the portfolio's range.
    let mut all = Vec::new();
    for (index, company) in state.portfolio.companies.iter().enumerate() {
        if company_guid.is_some_and(|guid| guid != company.guid) {
            continue;
        }
        let mut date = spec.first_date;
        let mut week: u64 = 0;
        while date <= spec.last_date {
            if gte.is_none_or(|d| date >= d) && lte.is_none_or(|d| date <= d) {
                all.push((date, index as u64 * 100_000 + week, index, week));
            }
            date = date.saturating_add(time::Duration::days(7));
            week += 1;
        }
    }
    all.sort_unstable();
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(all.len());
    let end = start
        .saturating_add(usize::try_from(limit).unwrap_or(1000))
        .min(all.len());
    let count = u64::try_from(all.len()).unwrap_or(u64::MAX);
    Ok(paged(
        state.base,
        path,
        params,
        offset,
        limit,
        count,
        |out| {
            for (i, (date, guid, index, week)) in all[start..end].iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let company = &state.portfolio.companies[*index];
                let kind = usize::try_from(*week).unwrap_or(0);
                let vector = &RiskVector::KNOWN[kind % RiskVector::KNOWN.len()];
                let alert = json!({
                    "guid": guid,
                    "alert_type": ALERT_TYPES[kind % ALERT_TYPES.len()],
                    "alert_date": format_date(*date),
                    "start_date": format_date(date.saturating_sub(time::Duration::days(7))),
                    "company_name": company.name,
                    "company_custom_id": null,
                    "company_guid": company.guid,
                    "company_url": format!("/app/spm/company/{}/overview/", company.guid),
                    "folder_guid": "00000000-0000-4000-8000-000000000001",
                    "folder_name": "Synthetic",
                    "severity": ALERT_SEVERITIES[kind % ALERT_SEVERITIES.len()],
                    "trigger": vector.label(),
                });
                let _ = serde_json::to_writer(&mut *out, &alert);
            }
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }
}
