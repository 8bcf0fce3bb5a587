//! The client against httpmock servers serving the fixtures in `fixtures/bitsight/`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bitsight_api::{
    AffectsRatingReason, AlertsQuery, ApiError, AssetCategory, Client, ClientConfig,
    FindingsExpand, FindingsQuery, FindingsSort, Grade, RiskCategory, RiskVector, Secret,
    SeverityCategory,
};
use futures::{StreamExt, TryStreamExt};
use httpmock::prelude::*;
use time::macros::date;
use url::Url;

const TOKEN: &str = "test-token-5f1e9c";
/// base64("test-token-5f1e9c:")
const AUTHORIZATION: &str = "Basic dGVzdC10b2tlbi01ZjFlOWM6";
const GUID: &str = "a940bb61-33c4-42c9-9231-c8194c305db3";
const FINDINGS_PATH: &str = "/ratings/v1/companies/a940bb61-33c4-42c9-9231-c8194c305db3/findings";

fn fixture(name: &str, server: &MockServer) -> String {
    let path = format!(
        "{}/../../fixtures/bitsight/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path)
        .unwrap()
        .replace("{{BASE}}", &server.base_url())
}

fn config(server: &MockServer) -> ClientConfig {
    ClientConfig {
        allow_http: true,
        max_retries: 3,
        rate_limit_wait: Duration::from_millis(200),
        backoff_base: Duration::from_millis(5),
        backoff_max: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        ..ClientConfig::new(Secret::new(TOKEN))
            .with_base_url(Url::parse(&server.base_url()).unwrap())
    }
}

fn client(server: &MockServer) -> Client {
    Client::new(config(server)).unwrap()
}

async fn bounded<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), future)
        .await
        .expect("test took too long")
}

/// Findings query matching the fixtures' links (limit 2).
fn small_query() -> FindingsQuery {
    FindingsQuery {
        page_size: 2,
        ..FindingsQuery::default()
    }
}

async fn mock_findings_pages(server: &MockServer) {
    let page1 = fixture("findings_page1.json", server);
    let page2 = fixture("findings_page2.json", server);
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path(FINDINGS_PATH)
                .query_param("offset", "0")
                .query_param("sort", "first_seen")
                .header("authorization", AUTHORIZATION);
            then.status(200)
                .header("content-type", "application/json")
                .body(page1);
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path(FINDINGS_PATH)
                .query_param("offset", "2");
            then.status(200)
                .header("content-type", "application/json")
                .body(page2);
        })
        .await;
}

#[tokio::test]
async fn companies_with_auth_user_agent_and_my_company() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/ratings/v1/companies")
                .header("authorization", AUTHORIZATION)
                .header("user-agent", bitsight_api::USER_AGENT)
                .header("accept", "application/json");
            then.status(200).body(fixture("companies.json", &server));
        })
        .await;
    let companies = bounded(client(&server).companies()).await.unwrap();
    mock.assert_async().await;
    assert_eq!(companies.my_company.as_deref(), Some(GUID));
    assert_eq!(companies.companies.len(), 2);
    let vendor = &companies.companies[1];
    assert_eq!(vendor.name(), Some("Vendor \"Pipes|Equals=\" Ltd"));
    assert_eq!(
        vendor.rating(),
        Some(630.0),
        "a rating sent as text still reads"
    );
    assert_eq!(vendor.subscription_type(), Some("My Subsidiary"));
    assert!(companies.extra.contains_key("countries"));
}

#[tokio::test]
async fn company_details() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("/ratings/v1/companies/{GUID}"));
            then.status(200)
                .body(fixture("company_details.json", &server));
        })
        .await;
    let details = bounded(client(&server).company(GUID)).await.unwrap();
    assert_eq!(details.guid(), GUID);
    assert_eq!(
        details.current_rating(),
        Some((740.0, Some(date!(2024 - 05 - 20))))
    );
    assert!(details.rating_details().unwrap().contains_key("open_ports"));
    assert!(details.extra().contains_key("permissions"));
}

#[tokio::test]
async fn findings_follow_links_next_and_keep_every_field() {
    let server = MockServer::start_async().await;
    mock_findings_pages(&server).await;
    let findings: Vec<_> = bounded(client(&server).findings(GUID, &small_query()).try_collect())
        .await
        .unwrap();
    assert_eq!(findings.len(), 3);

    let expired = &findings[0];
    assert_eq!(expired.first_seen(), Some(date!(2024 - 05 - 01)));
    assert_eq!(expired.severity(), Some(10.0));
    assert_eq!(expired.severity_category(), Some(SeverityCategory::Severe));
    assert_eq!(expired.grade(), Some(&Grade::Bad));
    assert_eq!(expired.assets()[0].category, Some(AssetCategory::Critical));
    assert_eq!(expired.tags(), ["prod", "mail"]);
    assert!(expired.extra().unwrap().contains_key("pcap_id"));

    let port = &findings[1];
    assert_eq!(
        port.severity(),
        Some(7.0),
        "severity sent as text still reads"
    );
    assert_eq!(port.rolledup_observation_id(), "");
    assert_eq!(
        port.assets().len(),
        1,
        "a non-object asset is skipped, not fatal"
    );
    assert_eq!(
        port.assets()[0].category,
        None,
        "empty category reads as none"
    );
    assert_eq!(port.risk_vector(), Some(&RiskVector::OpenPorts));

    let spf = &findings[2];
    assert_eq!(spf.risk_vector(), Some(&RiskVector::Spf));
    assert_eq!(spf.grade(), Some(&Grade::Other("SHINY_NEW_GRADE".into())));

    // Serialised back whole: every field, in the received order, numbers as sent, one line.
    let page1: serde_json::Value =
        serde_json::from_str(&fixture("findings_page1.json", &server)).unwrap();
    let shipped = serde_json::to_string(port).unwrap();
    assert!(!shipped.contains('\n'));
    assert!(shipped.contains(r#""nested":[1,2.50,"x"]"#));
    let shipped_value: serde_json::Value = serde_json::from_str(&shipped).unwrap();
    assert_eq!(shipped_value, page1["results"][1]);
    let keys: Vec<&String> = shipped_value.as_object().unwrap().keys().collect();
    let sent: Vec<&String> = page1["results"][1].as_object().unwrap().keys().collect();
    assert_eq!(keys, sent);
    insta::assert_yaml_snapshot!(
        findings
            .iter()
            .map(bitsight_api::Finding::identity)
            .collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn every_findings_filter_is_sent() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(FINDINGS_PATH)
                .query_param("first_seen_gte", "2024-05-01")
                .query_param("first_seen_lte", "2024-05-31")
                .query_param("last_seen_gte", "2024-05-02")
                .query_param("last_seen_lte", "2024-06-30")
                .query_param("severity_gte", "7")
                .query_param("risk_vector", "SPF,open_ports")
                .query_param("risk_category", "Diligence,Compromised Systems")
                .query_param("details.grade", "WARN,BAD")
                .query_param("assets.category", "high,critical")
                .query_param("affects_rating", "true")
                .query_param("impacts_risk_vector_details", "AFFECTS_RATING,GRACE_PERIOD")
                .query_param("expand", "attributed_companies,affects_rating_details")
                .query_param("unsampled", "true")
                .query_param("sort", "last_seen")
                .query_param("limit", "1000")
                .query_param("offset", "0");
            then.status(200)
                .body(r#"{"links":{"next":null,"previous":null},"count":0,"results":[]}"#);
        })
        .await;
    let query = FindingsQuery {
        first_seen_gte: Some(date!(2024 - 05 - 01)),
        first_seen_lte: Some(date!(2024 - 05 - 31)),
        last_seen_gte: Some(date!(2024 - 05 - 02)),
        last_seen_lte: Some(date!(2024 - 06 - 30)),
        risk_vectors: vec![
            RiskVector::from_label("SPF").unwrap(),
            RiskVector::OpenPorts,
        ],
        risk_categories: vec![RiskCategory::Diligence, RiskCategory::CompromisedSystems],
        grades: vec![Grade::Warn, Grade::Bad],
        asset_categories: AssetCategory::High.and_above(),
        affects_rating: Some(true),
        affects_rating_reasons: vec![
            AffectsRatingReason::AffectsRating,
            AffectsRatingReason::GracePeriod,
        ],
        expand: vec![
            FindingsExpand::AttributedCompanies,
            FindingsExpand::AffectsRatingDetails,
        ],
        sort: FindingsSort::LastSeen,
        ..FindingsQuery::default()
    }
    .min_severity(&SeverityCategory::Material);
    let findings: Vec<_> = bounded(client(&server).findings(GUID, &query).try_collect())
        .await
        .unwrap();
    assert!(findings.is_empty());
    mock.assert_async().await;
}

#[tokio::test]
async fn next_link_to_another_host_is_refused() {
    let server = MockServer::start_async().await;
    let elsewhere = MockServer::start_async().await;
    let stolen = elsewhere
        .mock_async(|when, then| {
            when.any_request();
            then.status(200)
                .body(r#"{"links":{"next":null},"count":0,"results":[]}"#);
        })
        .await;
    let page =
        fixture("findings_page1.json", &server).replace(&server.base_url(), &elsewhere.base_url());
    server
        .mock_async(|when, then| {
            when.method(GET).path(FINDINGS_PATH);
            then.status(200).body(page);
        })
        .await;
    let results: Vec<_> = bounded(client(&server).findings(GUID, &small_query()).collect()).await;
    assert_eq!(results.len(), 1, "the stream stops at the refusal");
    let error = results.into_iter().next().unwrap().unwrap_err();
    assert!(matches!(error, ApiError::ForeignNextLink { .. }), "{error}");
    assert!(
        !error.to_string().contains("offset=2"),
        "query strings are left out"
    );
    assert_eq!(
        stolen.calls_async().await,
        0,
        "the token never went to the other host"
    );
}

#[tokio::test]
async fn auth_and_not_found_errors_say_what_to_check() {
    let server = MockServer::start_async().await;
    for (guid, status) in [
        ("unauthorized", 401),
        ("forbidden", 403),
        ("missing", 404),
        ("bad", 422),
    ] {
        server
            .mock_async(|when, then| {
                when.method(GET)
                    .path(format!("/ratings/v1/companies/{guid}"));
                then.status(status).body(r#"{"detail": "Invalid input."}"#);
            })
            .await;
    }
    let client = client(&server);
    let mut messages = Vec::new();
    for guid in ["unauthorized", "forbidden", "missing", "bad"] {
        let error = bounded(client.company(guid)).await.unwrap_err();
        messages.push(error.to_string());
    }
    insta::assert_yaml_snapshot!(messages);
}

/// Runs `request` while a first mock answers; once it has been hit, swaps in `then_ok`.
async fn swap_after_first_hit(
    server: &MockServer,
    failing: httpmock::Mock<'_>,
    ok_body: String,
    path: &str,
) {
    let started = Instant::now();
    while failing.calls_async().await == 0 {
        assert!(started.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    failing.delete_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(path);
            then.status(200).body(ok_body);
        })
        .await;
}

#[tokio::test]
async fn rate_limit_with_retry_after_waits_that_long() {
    let server = MockServer::start_async().await;
    let limited = server
        .mock_async(|when, then| {
            when.method(GET).path("/ratings/v1/companies");
            then.status(429)
                .header("retry-after", "1")
                .body(r#"{"detail":"Rate Limit Reached"}"#);
        })
        .await;
    let client = client(&server);
    let started = Instant::now();
    let request = tokio::spawn(async move { client.companies().await });
    swap_after_first_hit(
        &server,
        limited,
        fixture("companies.json", &server),
        "/ratings/v1/companies",
    )
    .await;
    let companies = bounded(request).await.unwrap().unwrap();
    assert_eq!(companies.companies.len(), 2);
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "waited {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn rate_limit_without_retry_after_waits_the_configured_time() {
    let server = MockServer::start_async().await;
    let limited = server
        .mock_async(|when, then| {
            when.method(GET).path("/ratings/v1/companies");
            then.status(429);
        })
        .await;
    let client = client(&server);
    let started = Instant::now();
    let request = tokio::spawn(async move { client.companies().await });
    swap_after_first_hit(
        &server,
        limited,
        fixture("companies.json", &server),
        "/ratings/v1/companies",
    )
    .await;
    bounded(request).await.unwrap().unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(190),
        "waited {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn server_error_mid_paging_is_retried() {
    let server = MockServer::start_async().await;
    let page1 = fixture("findings_page1.json", &server);
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path(FINDINGS_PATH)
                .query_param("offset", "0");
            then.status(200).body(page1);
        })
        .await;
    let failing = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(FINDINGS_PATH)
                .query_param("offset", "2");
            then.status(524).body("A timeout occurred");
        })
        .await;
    let client = client(&server);
    let stream = tokio::spawn(async move {
        client
            .findings(GUID, &small_query())
            .try_collect::<Vec<_>>()
            .await
    });
    swap_after_first_hit(
        &server,
        failing,
        fixture("findings_page2.json", &server),
        FINDINGS_PATH,
    )
    .await;
    let findings = bounded(stream).await.unwrap().unwrap();
    assert_eq!(findings.len(), 3);
}

#[tokio::test]
async fn persistent_server_errors_name_endpoint_company_and_offset() {
    let server = MockServer::start_async().await;
    let page1 = fixture("findings_page1.json", &server);
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path(FINDINGS_PATH)
                .query_param("offset", "0");
            then.status(200).body(page1);
        })
        .await;
    let failing = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(FINDINGS_PATH)
                .query_param("offset", "2");
            then.status(500);
        })
        .await;
    let results: Vec<_> = bounded(client(&server).findings(GUID, &small_query()).collect()).await;
    assert_eq!(results.len(), 3, "two findings, then the error");
    let error = results.into_iter().last().unwrap().unwrap_err();
    assert!(
        matches!(error, ApiError::RetriesExhausted { attempts: 4, .. }),
        "{error}"
    );
    let endpoint = error.endpoint().unwrap();
    assert_eq!(endpoint.company.as_deref(), Some(GUID));
    assert_eq!(endpoint.offset, Some(2));
    insta::assert_snapshot!(error.to_string());
    assert_eq!(failing.calls_async().await, 4);
}

#[tokio::test]
async fn malformed_json_is_a_decode_error() {
    let server = MockServer::start_async().await;
    let truncated = fixture("findings_truncated.json", &server);
    server
        .mock_async(|when, then| {
            when.method(GET).path(FINDINGS_PATH);
            then.status(200).body(truncated);
        })
        .await;
    let results: Vec<_> = bounded(client(&server).findings(GUID, &small_query()).collect()).await;
    let error = results.into_iter().next().unwrap().unwrap_err();
    assert!(matches!(error, ApiError::Decode { .. }), "{error}");
    assert!(error.to_string().contains(FINDINGS_PATH), "{error}");
}

#[tokio::test]
async fn empty_page_before_count_is_asked_again_then_refused() {
    let server = MockServer::start_async().await;
    let page1 = fixture("findings_page1.json", &server);
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path(FINDINGS_PATH)
                .query_param("offset", "0");
            then.status(200).body(page1);
        })
        .await;
    let empty = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(FINDINGS_PATH)
                .query_param("offset", "2");
            then.status(200)
                .body(r#"{"links":{"next":null,"previous":null},"count":3,"results":[]}"#);
        })
        .await;
    let results: Vec<_> = bounded(client(&server).findings(GUID, &small_query()).collect()).await;
    assert_eq!(results.len(), 3);
    let error = results.into_iter().last().unwrap().unwrap_err();
    assert!(
        matches!(
            error,
            ApiError::IncompletePage {
                delivered: 2,
                count: 3,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(
        empty.calls_async().await,
        4,
        "asked again max_retries times"
    );
}

#[tokio::test]
async fn portfolio_alerts_summary_and_statistics() {
    let server = MockServer::start_async().await;
    let (p1, p2) = (
        fixture("portfolio_page1.json", &server),
        fixture("portfolio_page2.json", &server),
    );
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/ratings/v2/portfolio")
                .query_param("offset", "0");
            then.status(200).body(p1);
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/ratings/v2/portfolio")
                .query_param("offset", "500");
            then.status(200).body(p2);
        })
        .await;
    let alerts = fixture("alerts.json", &server);
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/ratings/v2/alerts")
                .query_param("alert_date_gte", "2024-05-20")
                .query_param("sort", "alert_date");
            then.status(200).body(alerts);
        })
        .await;
    let summary = fixture("findings_summary.json", &server);
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{FINDINGS_PATH}/summary"))
                .query_param("severity_gte", "7")
                .query_param_missing("limit");
            then.status(200).body(summary);
        })
        .await;
    let statistics = fixture("findings_statistics.json", &server);
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{FINDINGS_PATH}/statistics"));
            then.status(200).body(statistics);
        })
        .await;
    let client = client(&server);
    let portfolio: Vec<_> = bounded(client.portfolio().try_collect()).await.unwrap();
    assert_eq!(
        portfolio
            .iter()
            .map(bitsight_api::PortfolioCompany::guid)
            .collect::<Vec<_>>(),
        [GUID, "b2c3d4e5-0000-4000-8000-00000000beef"]
    );
    let query = AlertsQuery {
        alert_date_gte: Some(date!(2024 - 05 - 20)),
        ..AlertsQuery::default()
    };
    let alerts: Vec<_> = bounded(client.alerts(&query).try_collect()).await.unwrap();
    assert_eq!(alerts[0].guid().as_deref(), Some("12345678"));
    assert_eq!(alerts[1].alert_date(), Some(date!(2024 - 05 - 21)));
    assert!(alerts[1].extra().contains_key("details"));
    let filter = FindingsQuery::default().min_severity(&SeverityCategory::Material);
    let summary = bounded(client.findings_summary(GUID, &filter))
        .await
        .unwrap();
    assert_eq!(summary.0[0]["risk_vector"], "ssl_certificates");
    let statistics = bounded(client.findings_statistics(GUID, &filter))
        .await
        .unwrap();
    assert_eq!(statistics.0["count"], 3);
}

/// A `Write` into a shared buffer, for capturing logs.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn the_token_is_never_logged_nor_in_errors() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut texts = Vec::new();
    runtime.block_on(async {
        let server = MockServer::start_async().await;
        server
            .mock_async(|when, then| {
                when.method(GET).path("/ratings/v1/companies");
                then.status(503);
            })
            .await;
        server
            .mock_async(|when, then| {
                when.method(GET)
                    .path(format!("/ratings/v1/companies/{GUID}"));
                then.status(401);
            })
            .await;
        let client = client(&server);
        texts.push(format!("{client:?}"));
        texts.push(format!("{:?}", client.config()));
        for error in [
            bounded(client.companies()).await.unwrap_err(),
            bounded(client.company(GUID)).await.unwrap_err(),
        ] {
            texts.push(error.to_string());
            texts.push(format!("{error:?}"));
        }
    });
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("retrying Bitsight request"),
        "the logs were captured: {logs}"
    );
    texts.push(logs);
    for text in texts {
        assert!(!text.contains(TOKEN), "token leaked: {text}");
        assert!(
            !text.contains(&AUTHORIZATION[6..]),
            "encoded token leaked: {text}"
        );
    }
}
