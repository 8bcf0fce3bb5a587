//! The loopback HTTP server of a synthetic tenant.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use bytes::Bytes;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::render::{self, RecordKind};
use super::{ACCESS_KEY, CUSTOMER_ID, KEY_ID, TenantSpec};
use crate::config::{Auth, ClientConfig, MAX_PAGE_SIZE};
use crate::time_format::parse_timestamp;

/// A fault the server injects into the requests that match it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The next `times` requests (any endpoint) get 429 with this `Retry-After` (seconds).
    TooManyRequests {
        /// `Retry-After` seconds; `None` sends no header.
        retry_after: Option<u64>,
        /// How many requests it hits.
        times: u32,
    },
    /// The next `times` list requests of `kind` at `offset` get 500.
    ServerError {
        /// Which list.
        kind: RecordKind,
        /// Which page offset.
        offset: u64,
        /// How many requests it hits.
        times: u32,
    },
    /// The next `times` list requests of `kind` at `offset` get a 200 whose JSON body is
    /// cut in half.
    Truncated {
        /// Which list.
        kind: RecordKind,
        /// Which page offset.
        offset: u64,
        /// How many requests it hits.
        times: u32,
    },
    /// The next `times` requests (any endpoint) are answered only after `delay`.
    Slow {
        /// How long each waits.
        delay: Duration,
        /// How many requests it hits.
        times: u32,
    },
}

impl Fault {
    fn remaining(&mut self) -> &mut u32 {
        match self {
            Self::TooManyRequests { times, .. }
            | Self::ServerError { times, .. }
            | Self::Truncated { times, .. }
            | Self::Slow { times, .. } => times,
        }
    }

    fn hits(&self, list: Option<(RecordKind, u64)>) -> bool {
        match self {
            Self::TooManyRequests { .. } | Self::Slow { .. } => true,
            Self::ServerError { kind, offset, .. } | Self::Truncated { kind, offset, .. } => {
                list == Some((*kind, *offset))
            }
        }
    }
}

/// The live range `[first, end)` of one record kind.
#[derive(Default)]
struct Range {
    first: AtomicU64,
    end: AtomicU64,
}

impl Range {
    fn bounds(&self) -> (u64, u64) {
        let first = self.first.load(Ordering::SeqCst);
        let end = self.end.load(Ordering::SeqCst);
        (first.min(end), end)
    }
}

struct Tenant {
    spec: TenantSpec,
    devices: Range,
    alerts: Range,
    vulnerabilities: Range,
    faults: Mutex<Vec<Fault>>,
    requests: AtomicU64,
    /// Every list request's type and `offset`, in arrival order (16 bytes each).
    list_requests: Mutex<Vec<(RecordKind, u64)>>,
    status_reports: Mutex<Vec<serde_json::Value>>,
    /// Rendered list pages by what they contain, once [`ServerHandle::cache_pages`] is on.
    page_cache: Mutex<Option<HashMap<PageKey, Bytes>>>,
}

/// Everything a list page's body depends on.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct PageKey {
    kind: RecordKind,
    first: u64,
    end: u64,
    offset: u64,
    length: u64,
    descending: bool,
    detail: bool,
}

impl Tenant {
    fn range(&self, kind: RecordKind) -> &Range {
        match kind {
            RecordKind::Devices => &self.devices,
            RecordKind::Alerts => &self.alerts,
            RecordKind::Vulnerabilities => &self.vulnerabilities,
        }
    }

    /// The fault this request meets, if any (consuming one of its hits).
    fn take_fault(&self, list: Option<(RecordKind, u64)>) -> Option<Fault> {
        let mut faults = self.faults.lock().unwrap_or_else(PoisonError::into_inner);
        let position = faults.iter().position(|fault| fault.hits(list))?;
        let fault = faults.get_mut(position)?;
        let hit = fault.clone();
        let remaining = fault.remaining();
        *remaining = remaining.saturating_sub(1);
        if *remaining == 0 {
            faults.remove(position);
        }
        Some(hit)
    }
}

/// A running synthetic tenant. Dropping it stops the server.
pub struct ServerHandle {
    address: SocketAddr,
    tenant: Arc<Tenant>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerHandle")
            .field("address", &self.address)
            .field("spec", &self.tenant.spec)
            .finish_non_exhaustive()
    }
}

/// Serves `spec` on `127.0.0.1` at a free port, until the handle is shut down or dropped.
pub async fn serve(spec: TenantSpec) -> std::io::Result<ServerHandle> {
    let tenant = Arc::new(Tenant {
        spec,
        devices: Range::default(),
        alerts: Range::default(),
        vulnerabilities: Range::default(),
        faults: Mutex::new(Vec::new()),
        requests: AtomicU64::new(0),
        list_requests: Mutex::new(Vec::new()),
        status_reports: Mutex::new(Vec::new()),
        page_cache: Mutex::new(None),
    });
    tenant.devices.end.store(spec.devices, Ordering::SeqCst);
    tenant.alerts.end.store(spec.alerts, Ordering::SeqCst);
    tenant
        .vulnerabilities
        .end
        .store(spec.vulnerabilities, Ordering::SeqCst);
    let router = Router::new()
        .route("/pub/v4.0/device/list", get(device_list))
        .route("/pub/v4.0/device", get(device_single))
        .route("/pub/v4.0/device/ip", get(device_by_ip))
        .route("/pub/v4.0/alert/list", get(alert_list))
        .route("/pub/v4.0/alert", get(alert_single))
        .route("/pub/v4.0/vulnerability/list", get(vulnerability_list))
        .route("/pub/v4.0/vulnerability", get(vulnerability_single))
        .route("/pub/v4.0/xsoar/status", post(status_report))
        .with_state(Arc::clone(&tenant));
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let address = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async {
            // A dropped sender stops the server as well as a sent signal.
            let _ = stopped.await;
        };
        if let Err(error) = axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::warn!(%error, "synthetic tenant server stopped");
        }
    });
    Ok(ServerHandle {
        address,
        tenant,
        stop: Some(stop),
        task: Some(task),
    })
}

impl ServerHandle {
    /// The server's address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The tenant being served.
    pub fn spec(&self) -> TenantSpec {
        self.tenant.spec
    }

    /// A client configuration for this server: its URL, the synthetic credentials,
    /// `allow_http`, no rate limit and short retry delays (10 ms up to 1 s).
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new(
            self.base_url(),
            CUSTOMER_ID,
            Auth::api_key(KEY_ID, ACCESS_KEY),
        );
        config.allow_http = true;
        config.requests_per_minute = 0;
        config.retry_base_delay = Duration::from_millis(10);
        config.max_retry_delay = Duration::from_secs(1);
        config
    }

    /// Adds `count` records of `kind`, dated after every existing one.
    pub fn add(&self, kind: RecordKind, count: u64) {
        self.tenant
            .range(kind)
            .end
            .fetch_add(count, Ordering::SeqCst);
    }

    /// Retires the `count` oldest records of `kind` (the set shrinks from the front).
    pub fn retire(&self, kind: RecordKind, count: u64) {
        let range = self.tenant.range(kind);
        let end = range.end.load(Ordering::SeqCst);
        let _ = range
            .first
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |first| {
                Some(first.saturating_add(count).min(end))
            });
    }

    /// The live index range `first..end` of `kind` (records are `spec().device(i)` etc.).
    pub fn live(&self, kind: RecordKind) -> std::ops::Range<u64> {
        let (first, end) = self.tenant.range(kind).bounds();
        first..end
    }

    /// Queues a fault.
    pub fn inject(&self, fault: Fault) {
        self.tenant
            .faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(fault);
    }

    /// Requests served so far (including refused ones).
    pub fn requests(&self) -> u64 {
        self.tenant.requests.load(Ordering::SeqCst)
    }

    /// The `offset` of every list request of `kind` so far, in arrival order (refused
    /// ones and the client's prefetches included): shows where a client started paging.
    pub fn list_offsets(&self, kind: RecordKind) -> Vec<u64> {
        self.tenant
            .list_requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|(asked, _)| *asked == kind)
            .map(|(_, offset)| *offset)
            .collect()
    }

    /// The status reports posted so far.
    pub fn status_reports(&self) -> Vec<serde_json::Value> {
        self.tenant
            .status_reports
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Keeps every list page rendered from now on and serves it again from memory when
    /// the same page is asked for: a benchmark then measures the client, not the record
    /// generator. The cache grows with the distinct pages served (about 1 MiB per 1000
    /// detailed devices), so only benchmarks should turn it on.
    pub fn cache_pages(&self) {
        let mut cache = self
            .tenant
            .page_cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        cache.get_or_insert_with(HashMap::new);
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

type Params = Query<HashMap<String, String>>;

fn json_response(status: StatusCode, body: impl Into<Body>) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn api_error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "code": status.as_u16(), "msg": message });
    json_response(status, body.to_string())
}

/// A refused request, turned into the API's `{"code", "msg"}` error response.
struct Refusal {
    status: StatusCode,
    message: String,
    retry_after: Option<u64>,
}

impl Refusal {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    fn into_response(self) -> Response {
        let mut response = api_error(self.status, &self.message);
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Counts the request, applies faults, checks credentials and `customerid`.
async fn admit(
    tenant: &Tenant,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
    list: Option<RecordKind>,
) -> Result<Option<Fault>, Refusal> {
    tenant.requests.fetch_add(1, Ordering::SeqCst);
    let offset = params
        .get("offset")
        .and_then(|offset| offset.parse().ok())
        .unwrap_or(0);
    if let Some(kind) = list {
        tenant
            .list_requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((kind, offset));
    }
    let fault = tenant.take_fault(list.map(|kind| (kind, offset)));
    match &fault {
        Some(Fault::Slow { delay, .. }) => tokio::time::sleep(*delay).await,
        Some(Fault::TooManyRequests { retry_after, .. }) => {
            let mut refusal = Refusal::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests, rate limit of 60 queries per minute per tenant",
            );
            refusal.retry_after = *retry_after;
            return Err(refusal);
        }
        Some(Fault::ServerError { .. }) => {
            return Err(Refusal::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal server error",
            ));
        }
        _ => {}
    }
    let key_id = headers.get("x-key-id").map(HeaderValue::as_bytes);
    let access_key = headers.get("x-access-key").map(HeaderValue::as_bytes);
    if key_id != Some(KEY_ID.as_bytes()) || access_key != Some(ACCESS_KEY.as_bytes()) {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            "Invalid access key or key id",
        ));
    }
    if params.get("customerid").map(String::as_str) != Some(CUSTOMER_ID) {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "customerid is missing or unknown",
        ));
    }
    Ok(fault)
}

/// A list request's window: `(offset, pagelength, first index, descending)`.
struct Window {
    offset: u64,
    length: u64,
    first: u64,
    descending: bool,
}

fn window(
    tenant: &Tenant,
    kind: RecordKind,
    params: &HashMap<String, String>,
) -> Result<Window, Refusal> {
    let number = |name: &str, default: u64| match params.get(name) {
        None => Ok(default),
        Some(text) => text.parse::<u64>().map_err(|_| {
            Refusal::new(
                StatusCode::BAD_REQUEST,
                format!("{name} must be a non-negative integer"),
            )
        }),
    };
    let offset = number("offset", 0)?;
    let length = number("pagelength", u64::from(MAX_PAGE_SIZE))?;
    if length > u64::from(MAX_PAGE_SIZE) {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "pagelength must be at most 1000",
        ));
    }
    let (live_first, _) = tenant.range(kind).bounds();
    let first = match params.get("stime").map(String::as_str) {
        None | Some("-1") => live_first,
        Some(text) => match parse_timestamp(text) {
            Some(stime) => kind.first_index_at(stime).max(live_first),
            None => {
                return Err(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    "stime is not an ISO-8601 date",
                ));
            }
        },
    };
    let descending = params.get("sortdirection").map(String::as_str) == Some("desc");
    Ok(Window {
        offset,
        length,
        first,
        descending,
    })
}

/// The indexes of one page, oldest-first or newest-first.
fn page_indexes(window: &Window, end: u64) -> impl Iterator<Item = u64> {
    let available = end.saturating_sub(window.first);
    let skip = window.offset.min(available);
    let take = window.length.min(available - skip);
    let (first, descending) = (window.first, window.descending);
    (skip..skip + take).map(move |position| {
        if descending {
            end - 1 - position
        } else {
            first + position
        }
    })
}

async fn list(
    tenant: Arc<Tenant>,
    kind: RecordKind,
    headers: HeaderMap,
    params: HashMap<String, String>,
) -> Response {
    let fault = match admit(&tenant, &headers, &params, Some(kind)).await {
        Ok(fault) => fault,
        Err(refusal) => return refusal.into_response(),
    };
    let window = match window(&tenant, kind, &params) {
        Ok(window) => window,
        Err(refusal) => return refusal.into_response(),
    };
    let (_, end) = tenant.range(kind).bounds();
    let total = end.saturating_sub(window.first);
    let spec = tenant.spec;
    let detail = params.get("detail").map(String::as_str) != Some("false");
    if kind == RecordKind::Vulnerabilities
        && params.get("groupby").map(String::as_str) != Some("device")
    {
        return api_error(
            StatusCode::BAD_REQUEST,
            "this synthetic tenant serves vulnerability instances only (groupby=device)",
        );
    }
    let key = PageKey {
        kind,
        first: window.first,
        end,
        offset: window.offset,
        length: window.length,
        descending: window.descending,
        detail,
    };
    let cached = tenant
        .page_cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
        .and_then(|cache| cache.get(&key).cloned());
    let body = match cached {
        Some(body) => body,
        None => match render_page(spec, &window, end, kind, total, detail) {
            Ok(body) => {
                let body = Bytes::from(body);
                if let Some(cache) = tenant
                    .page_cache
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .as_mut()
                {
                    cache.insert(key, body.clone());
                }
                body
            }
            Err(_) => {
                return api_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "could not render the page",
                );
            }
        },
    };
    if matches!(fault, Some(Fault::Truncated { .. })) {
        // Cut in half, on a character boundary (continuation bytes are 0b10xx_xxxx).
        let mut cut = body.len() / 2;
        while body.get(cut).is_some_and(|byte| byte & 0xC0 == 0x80) {
            cut -= 1;
        }
        return json_response(StatusCode::OK, body.slice(..cut));
    }
    json_response(StatusCode::OK, body)
}

/// One list page's JSON body. A page renders in about a millisecond: no need to leave
/// the async worker.
fn render_page(
    spec: TenantSpec,
    window: &Window,
    end: u64,
    kind: RecordKind,
    total: u64,
    detail: bool,
) -> Result<String, std::fmt::Error> {
    let mut body = String::with_capacity(1024 * usize::try_from(window.length).unwrap_or(1000));
    match kind {
        RecordKind::Devices => {
            body.push_str(&format!("{{\"total\":{total},\"devices\":["));
            render_all(&mut body, page_indexes(window, end), |out, index| {
                render::device(out, spec.seed, index, detail)
            })?;
        }
        RecordKind::Alerts => {
            body.push_str(&format!("{{\"total\":{total},\"items\":["));
            render_all(&mut body, page_indexes(window, end), |out, index| {
                render::alert(out, spec.seed, index, spec.devices)
            })?;
        }
        RecordKind::Vulnerabilities => {
            body.push_str("{\"ver\":\"v4.0\",\"api\":\"/vulnerability/list\",\"items\":[");
            render_all(&mut body, page_indexes(window, end), |out, index| {
                render::vulnerability(out, spec.seed, index, spec.devices)
            })?;
        }
    }
    body.push_str("]}");
    Ok(body)
}

fn render_all(
    body: &mut String,
    indexes: impl Iterator<Item = u64>,
    mut render: impl FnMut(&mut String, u64) -> std::fmt::Result,
) -> std::fmt::Result {
    for (position, index) in indexes.enumerate() {
        if position > 0 {
            body.push(',');
        }
        render(body, index)?;
    }
    Ok(())
}

async fn device_list(
    State(tenant): State<Arc<Tenant>>,
    headers: HeaderMap,
    Query(params): Params,
) -> Response {
    list(tenant, RecordKind::Devices, headers, params).await
}

async fn alert_list(
    State(tenant): State<Arc<Tenant>>,
    headers: HeaderMap,
    Query(params): Params,
) -> Response {
    list(tenant, RecordKind::Alerts, headers, params).await
}

async fn vulnerability_list(
    State(tenant): State<Arc<Tenant>>,
    headers: HeaderMap,
    Query(params): Params,
) -> Response {
    list(tenant, RecordKind::Vulnerabilities, headers, params).await
}

/// Answers a single-record request: the record when `index` is live, else 404.
fn single(tenant: &Tenant, kind: RecordKind, index: Option<u64>, wrap_in_items: bool) -> Response {
    let (first, end) = tenant.range(kind).bounds();
    let Some(index) = index.filter(|index| (first..end).contains(index)) else {
        return api_error(StatusCode::NOT_FOUND, "no such record");
    };
    let spec = tenant.spec;
    let mut body = String::new();
    if wrap_in_items {
        body.push_str("{\"items\":[");
    }
    let rendered = match kind {
        RecordKind::Devices => render::device(&mut body, spec.seed, index, true),
        RecordKind::Alerts => render::alert(&mut body, spec.seed, index, spec.devices),
        RecordKind::Vulnerabilities => {
            render::vulnerability(&mut body, spec.seed, index, spec.devices)
        }
    };
    if wrap_in_items {
        body.push_str("]}");
    }
    match rendered {
        Ok(()) => json_response(StatusCode::OK, body),
        Err(_) => api_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "could not render the record",
        ),
    }
}

async fn device_single(
    State(tenant): State<Arc<Tenant>>,
    headers: HeaderMap,
    Query(params): Params,
) -> Response {
    if let Err(refusal) = admit(&tenant, &headers, &params, None).await {
        return refusal.into_response();
    }
    let index = params
        .get("deviceid")
        .and_then(|id| render::device_index_of(id))
        .filter(|index| {
            render::device_id_of(*index) == params.get("deviceid").map_or("", String::as_str)
        });
    single(&tenant, RecordKind::Devices, index, false)
}

async fn device_by_ip(
    State(tenant): State<Arc<Tenant>>,
    headers: HeaderMap,
    Query(params): Params,
) -> Response {
    if let Err(refusal) = admit(&tenant, &headers, &params, None).await {
        return refusal.into_response();
    }
    let index = params
        .get("ip")
        .and_then(|ip| render::device_index_of(ip))
        .filter(|index| render::ip_of(*index) == params.get("ip").map_or("", String::as_str));
    single(&tenant, RecordKind::Devices, index, false)
}

async fn alert_single(
    State(tenant): State<Arc<Tenant>>,
    headers: HeaderMap,
    Query(params): Params,
) -> Response {
    if let Err(refusal) = admit(&tenant, &headers, &params, None).await {
        return refusal.into_response();
    }
    let index = params
        .get("zb_ticketid")
        .and_then(|id| render::ticket_index_of(id, "alert-"));
    single(&tenant, RecordKind::Alerts, index, true)
}

async fn vulnerability_single(
    State(tenant): State<Arc<Tenant>>,
    headers: HeaderMap,
    Query(params): Params,
) -> Response {
    if let Err(refusal) = admit(&tenant, &headers, &params, None).await {
        return refusal.into_response();
    }
    let index = params
        .get("zb_ticketid")
        .and_then(|id| render::ticket_index_of(id, "vuln-"));
    single(&tenant, RecordKind::Vulnerabilities, index, true)
}

async fn status_report(
    State(tenant): State<Arc<Tenant>>,
    headers: HeaderMap,
    Query(params): Params,
    body: axum::body::Bytes,
) -> Response {
    if let Err(refusal) = admit(&tenant, &headers, &params, None).await {
        return refusal.into_response();
    }
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(report) if report.is_object() => {
            tenant
                .status_reports
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(report);
            json_response(StatusCode::OK, "{\"received\":\"yes\"}".to_owned())
        }
        _ => api_error(StatusCode::BAD_REQUEST, "the body must be a JSON object"),
    }
}
