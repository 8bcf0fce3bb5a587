//! The client against httpmock servers serving fixtures: endpoints, parameters, paging
//! edges and failures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{
    ACCESS_KEY, CUSTOMER, KEY_ID, bounded, config, device_page, drain, drain_list, fixture,
};
use futures::StreamExt;
use httpmock::Method::{GET, POST};
use httpmock::MockServer;
use iot_security_api::{
    AlertQuery, ApiError, Auth, Client, ConfigError, DeviceQuery, MAX_OFFSET, ReportStatus,
    ScmCredentials, Secret, StatusReport, VulnerabilityQuery, VulnerabilitySeverity,
    VulnerabilityStatus,
};
use time::macros::datetime;

#[tokio::test]
async fn devices_send_every_parameter_and_decode_the_fixture() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/pub/v4.0/device/list")
                .query_param("customerid", CUSTOMER)
                .query_param("offset", "0")
                .query_param("pagelength", "1000")
                .query_param("detail", "true")
                .query_param("sortfield", "MAC")
                .query_param("sortdirection", "asc")
                .query_param("stime", "2024-05-01T00:00:00.000Z")
                .query_param_missing("pageLength")
                .header("X-Key-Id", KEY_ID)
                .header("X-Access-Key", ACCESS_KEY);
            then.status(200).body(fixture("devices_page.json"));
        })
        .await;
    let client = Client::new(config(&server.base_url())).unwrap();
    let query = DeviceQuery {
        stime: Some(datetime!(2024-05-01 00:00 UTC)),
        ..DeviceQuery::default()
    };
    let (devices, error) = bounded(drain_list(client.devices(&query))).await;
    assert!(error.is_none(), "{error:?}");
    mock.assert_calls_async(1).await;
    assert_eq!(devices.len(), 3);
    insta::assert_json_snapshot!("devices_page", devices);
    let first = &devices[0];
    assert_eq!(first.os_firmware_version.as_deref(), Some("10.12.114"));
    assert_eq!(first.vlan.as_deref(), Some("120"));
    assert_eq!(first.traffic_restricted, Some(false));
    assert_eq!(first.field("AET").unwrap().to_string(), "AXIS-CAM");
    let second = &devices[1];
    assert_eq!(second.ip_address.as_deref(), Some("10.30.4.9"));
    assert_eq!(second.confidence_score, Some(75));
    assert_eq!(second.risk_score, Some(35));
    assert_eq!(second.traffic_restricted, Some(true));
    assert!(
        second.extra.contains_key("AD_Username"),
        "a null known field is kept"
    );
}

#[tokio::test]
async fn a_base_url_with_or_without_trailing_slash_or_prefix_works() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path("/pub/v4.0/device/list");
            then.status(200).body(fixture("devices_empty.json"));
        })
        .await;
    for base in [
        server.base_url(),
        format!("{}/", server.base_url()),
        format!("{}/pub/v4.0", server.base_url()),
        format!("{}/pub/v4.0/", server.base_url()),
    ] {
        let client = Client::new(config(&base)).unwrap();
        let (devices, error) = bounded(drain(client.devices(&DeviceQuery::default()))).await;
        assert!(devices.is_empty() && error.is_none(), "{base}: {error:?}");
    }
    mock.assert_calls_async(4).await;
}

#[test]
fn configuration_is_validated() {
    let mut plain = config("http://127.0.0.1:1");
    plain.allow_http = false;
    assert!(matches!(
        Client::new(plain),
        Err(ConfigError::NotHttps { .. })
    ));
    for page_size in [0, 1001] {
        let mut bad = config("http://127.0.0.1:1");
        bad.page_size = page_size;
        let error = Client::new(bad).unwrap_err();
        assert!(matches!(error, ConfigError::PageSize { .. }));
        assert!(error.to_string().contains("1 to 1000"));
    }
    assert!(matches!(
        Client::new(config("not a url")),
        Err(ConfigError::InvalidUrl { .. })
    ));
    let mut no_customer = config("http://127.0.0.1:1");
    no_customer.customer_id = " ".into();
    assert!(matches!(
        Client::new(no_customer),
        Err(ConfigError::Empty {
            field: "customer_id"
        })
    ));
    let mut no_key = config("http://127.0.0.1:1");
    no_key.auth = Auth::api_key("kid", "");
    assert!(matches!(
        Client::new(no_key),
        Err(ConfigError::Empty {
            field: "access_key"
        })
    ));
    let mut bad_key = config("http://127.0.0.1:1");
    bad_key.auth = Auth::api_key("kid", "line\nbreak");
    let error = Client::new(bad_key).unwrap_err();
    assert!(
        !error.to_string().contains("line"),
        "the credential itself is never shown"
    );
    let mut https = config("https://acme.iot.paloaltonetworks.com");
    https.allow_http = false;
    assert!(Client::new(https).is_ok());
}

#[tokio::test]
async fn paging_continues_after_exactly_a_full_page_and_stops_on_an_empty_one() {
    let server = MockServer::start_async().await;
    let full = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/pub/v4.0/device/list")
                .query_param("offset", "0");
            then.status(200)
                .body(device_page((0..1000).map(|i| format!("d{i}"))));
        })
        .await;
    let empty = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/pub/v4.0/device/list")
                .query_param("offset", "1000");
            then.status(200).body(fixture("devices_empty.json"));
        })
        .await;
    let client = Client::new(config(&server.base_url())).unwrap();
    let (devices, error) = bounded(drain(client.devices(&DeviceQuery::default()))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(devices.len(), 1000);
    full.assert_calls_async(1).await;
    empty.assert_calls_async(1).await;
}

#[tokio::test]
async fn paging_never_trusts_the_total_and_stops_on_a_short_page() {
    let server = MockServer::start_async().await;
    let mut cfg = config(&server.base_url());
    cfg.page_size = 2;
    // Pages claim a huge total; the short second page ends the stream anyway.
    let first = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/pub/v4.0/device/list")
                .query_param("offset", "0")
                .query_param("pagelength", "2");
            then.status(200).body(device_page(["a".into(), "b".into()]));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/pub/v4.0/device/list")
                .query_param("offset", "2");
            then.status(200).body(device_page(["c".into()]));
        })
        .await;
    let client = Client::new(cfg).unwrap();
    let (devices, error) = bounded(drain(client.devices(&DeviceQuery::default()))).await;
    assert!(error.is_none());
    let ids: Vec<_> = devices
        .iter()
        .map(|d| d.deviceid.clone().unwrap())
        .collect();
    assert_eq!(ids, ["a", "b", "c"]);
    first.assert_calls_async(1).await;
    second.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_list_started_at_an_offset_pages_on_from_it_and_still_dedupes() {
    let server = MockServer::start_async().await;
    let mut cfg = config(&server.base_url());
    cfg.page_size = 2;
    let from_start = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/pub/v4.0/device/list")
                .query_param("offset", "0");
            then.status(200).body(device_page(["a".into(), "b".into()]));
        })
        .await;
    let mut pages = Vec::new();
    // The set shifted by one between the first two pages: `f` comes again.
    for (offset, ids) in [
        ("4", vec!["e", "f"]),
        ("6", vec!["f", "g"]),
        ("8", vec!["h"]),
    ] {
        let page = device_page(ids.into_iter().map(str::to_owned));
        let mock = server
            .mock_async(|when, then| {
                when.method(GET)
                    .path("/pub/v4.0/device/list")
                    .query_param("offset", offset)
                    .query_param("pagelength", "2");
                then.status(200).body(page);
            })
            .await;
        pages.push(mock);
    }
    let client = Client::new(cfg).unwrap();
    assert_eq!(client.page_size(), 2);
    let query = DeviceQuery::default().starting_at(4);
    let (devices, error) = bounded(drain(client.devices(&query))).await;
    assert!(error.is_none(), "{error:?}");
    let ids: Vec<_> = devices
        .iter()
        .map(|d| d.deviceid.clone().unwrap())
        .collect();
    assert_eq!(ids, ["e", "f", "g", "h"]);
    from_start.assert_calls_async(0).await;
    for page in pages {
        page.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn alert_and_vulnerability_lists_send_their_start_offset() {
    let server = MockServer::start_async().await;
    let alerts = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/pub/v4.0/alert/list")
                .query_param("offset", "3000")
                .query_param("pagelength", "1000");
            then.status(200).body(r#"{"items":[]}"#);
        })
        .await;
    let vulnerabilities = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/pub/v4.0/vulnerability/list")
                .query_param("offset", "7000")
                .query_param("groupby", "device");
            then.status(200).body(r#"{"items":[]}"#);
        })
        .await;
    let client = Client::new(config(&server.base_url())).unwrap();
    let query = AlertQuery::default().starting_at(3_000);
    assert_eq!(query.offset, 3_000);
    let (records, error) = bounded(drain(client.alerts(&query))).await;
    assert!(records.is_empty() && error.is_none(), "{error:?}");
    let query = VulnerabilityQuery {
        offset: 7_000,
        ..VulnerabilityQuery::default()
    };
    let (records, error) = bounded(drain(client.vulnerabilities(&query))).await;
    assert!(records.is_empty() && error.is_none(), "{error:?}");
    alerts.assert_calls_async(1).await;
    vulnerabilities.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_start_offset_past_the_largest_fails_without_a_request() {
    let server = MockServer::start_async().await;
    let largest = MAX_OFFSET.to_string();
    let any = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/pub/v4.0/device/list")
                .query_param("offset", largest.as_str());
            then.status(200).body(device_page(["a".into()]));
        })
        .await;
    let client = Client::new(config(&server.base_url())).unwrap();
    for offset in [MAX_OFFSET + 1, u64::MAX] {
        let query = DeviceQuery::default().starting_at(offset);
        let (devices, error) = bounded(drain(client.devices(&query))).await;
        assert!(devices.is_empty());
        let error = error.expect("an invalid offset fails");
        assert!(
            matches!(
                error,
                ApiError::InvalidOffset {
                    max: MAX_OFFSET,
                    ..
                }
            ),
            "{error:?}"
        );
        assert_eq!(error.place().and_then(|place| place.offset), Some(offset));
        assert_eq!(
            error.to_string(),
            format!(
                "device/list at offset {offset}: the start offset is larger than the largest allowed, {MAX_OFFSET}"
            )
        );
    }
    any.assert_calls_async(0).await;
    // The largest itself is asked for (and pages on without overflowing).
    let query = DeviceQuery::default().starting_at(MAX_OFFSET);
    let (devices, error) = bounded(drain(client.devices(&query))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(devices.len(), 1);
    any.assert_calls_async(1).await;
}

#[tokio::test]
async fn the_reported_total_is_known_once_the_first_page_arrived() {
    let server = MockServer::start_async().await;
    let mut cfg = config(&server.base_url());
    cfg.page_size = 2;
    let pages = [
        (
            "0",
            r#"{"total": 5, "devices": [{"deviceid": "a"}, {"deviceid": "b"}]}"#,
        ),
        // The set grew while it was paged; a total sent as a string still counts.
        (
            "2",
            r#"{"total": "6", "devices": [{"deviceid": "c"}, {"deviceid": "d"}]}"#,
        ),
        ("4", r#"{"devices": [{"deviceid": "e"}]}"#),
    ];
    for (offset, body) in pages {
        server
            .mock_async(|when, then| {
                when.method(GET)
                    .path("/pub/v4.0/device/list")
                    .query_param("offset", offset);
                then.status(200).body(body);
            })
            .await;
    }
    let client = Client::new(cfg).unwrap();
    let mut devices = client.devices(&DeviceQuery::default());
    assert_eq!(devices.total(), None, "no page fetched yet");
    let mut totals = Vec::new();
    bounded(async {
        while let Some(device) = devices.next().await {
            device.unwrap();
            totals.push(devices.total());
        }
    })
    .await;
    // The last page sent no total: the latest one reported stays.
    assert_eq!(totals, [Some(5), Some(5), Some(6), Some(6), Some(6)]);
    assert_eq!(devices.total(), Some(6));
    assert!(format!("{devices:?}").contains("Some(6)"));

    let empty = MockServer::start_async().await;
    empty
        .mock_async(|when, then| {
            when.method(GET).path("/pub/v4.0/alert/list");
            then.status(200).body(r#"{"total": 0, "items": []}"#);
        })
        .await;
    let client = Client::new(config(&empty.base_url())).unwrap();
    let mut alerts = client.alerts(&AlertQuery::default());
    assert!(bounded(alerts.next()).await.is_none());
    assert_eq!(alerts.total(), Some(0));
}

#[tokio::test]
async fn a_set_that_shifts_while_paged_repeats_no_record() {
    let server = MockServer::start_async().await;
    let mut cfg = config(&server.base_url());
    cfg.page_size = 3;
    // New records arrive at the front between the calls: page two starts with "c" again.
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/pub/v4.0/device/list")
                .query_param("offset", "0");
            then.status(200)
                .body(device_page(["a", "b", "c"].map(String::from)));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/pub/v4.0/device/list")
                .query_param("offset", "3");
            then.status(200)
                .body(device_page(["b", "c", "d"].map(String::from)));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/pub/v4.0/device/list")
                .query_param("offset", "6");
            then.status(200).body(device_page(["e".into()]));
        })
        .await;
    let client = Client::new(cfg).unwrap();
    let (devices, error) = bounded(drain(client.devices(&DeviceQuery::default()))).await;
    assert!(error.is_none());
    let ids: Vec<_> = devices
        .iter()
        .map(|d| d.deviceid.clone().unwrap())
        .collect();
    assert_eq!(ids, ["a", "b", "c", "d", "e"]);
}

#[tokio::test]
async fn a_server_that_ignores_offset_does_not_loop_forever() {
    let server = MockServer::start_async().await;
    let mut cfg = config(&server.base_url());
    cfg.page_size = 2;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path("/pub/v4.0/device/list");
            then.status(200)
                .body(device_page(["a", "b"].map(String::from)));
        })
        .await;
    let client = Client::new(cfg).unwrap();
    let (devices, error) = bounded(drain(client.devices(&DeviceQuery::default()))).await;
    assert!(error.is_none());
    assert_eq!(devices.len(), 2);
    // Three pages, plus at most one prefetched page that was dropped unread.
    let calls = mock.calls_async().await;
    assert!((3..=4).contains(&calls), "{calls} calls");
}

#[tokio::test]
async fn alerts_send_their_filters() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/pub/v4.0/alert/list")
                .query_param("customerid", CUSTOMER)
                .query_param("type", "policy_alert")
                .query_param("resolved", "no")
                .query_param("sortfield", "date")
                .query_param("sortdirection", "asc")
                .query_param("stime", "2024-05-14T09:28:00.000Z")
                .query_param("updatedCreatedAfter", "2024-05-13T00:00:00.000Z")
                .query_param("offset", "0")
                .query_param("pagelength", "1000");
            then.status(200).body(fixture("alerts_page.json"));
        })
        .await;
    let client = Client::new(config(&server.base_url())).unwrap();
    let query = AlertQuery {
        stime: Some(datetime!(2024-05-14 11:28 +02:00)),
        updated_created_after: Some(datetime!(2024-05-13 00:00 UTC)),
        resolved: Some(false),
        ..AlertQuery::default()
    };
    let (alerts, error) = bounded(drain(client.alerts(&query))).await;
    assert!(error.is_none(), "{error:?}");
    mock.assert_calls_async(1).await;
    insta::assert_json_snapshot!("alerts_page", alerts);
    assert_eq!(
        alerts[0].msg_field("toURL").unwrap().to_string(),
        "http://c2.example.net/a?x=1&y=2"
    );
    assert_eq!(
        alerts[0]
            .msg_field("generationTimestamp")
            .unwrap()
            .to_string(),
        "1715679000000"
    );
    assert_eq!(alerts[1].severity_number, Some(3));
    assert_eq!(alerts[1].msg.as_ref().unwrap().id.as_deref(), Some("7713"));
    // The page's `deviceTags` entry of the first alert's device rides on that alert.
    assert_eq!(
        alerts[0].device_tags.as_ref().unwrap().value(),
        &serde_json::json!({"deviceid": "00:1b:44:11:3a:b7", "tagIdList": ["5f2a"], "allTags": []})
    );
    assert!(alerts[1].device_tags.is_none(), "no entry for its device");
}

#[tokio::test]
async fn alerts_carry_their_devices_tags_wherever_the_map_comes_in_the_page() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/pub/v4.0/alert/list");
            then.status(200)
                .body(fixture("alerts_device_tags_first.json"));
        })
        .await;
    let client = Client::new(config(&server.base_url())).unwrap();
    let mut stream = client.alerts(&AlertQuery::default());
    let (alerts, error) = bounded(drain(&mut stream)).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(stream.total(), Some(3));
    let tags: Vec<_> = alerts
        .iter()
        .map(|alert| alert.field("deviceTags").map(|tags| tags.to_string()))
        .collect();
    let camera = r#"{"deviceid":"00:1b:44:11:3a:b7","tagIdList":["5f2a","77c1"],"allTags":[{"tagType":"user","tagValue":"lobby|east=1","tagId":"5f2a"},{"tagType":"system","tagValue":"Überwachung","tagId":"77c1"}]}"#;
    assert_eq!(
        tags,
        [
            Some(camera.to_owned()),
            Some(camera.to_owned()),
            None,
            // An alert that carries its own entry keeps it.
            Some(r#"{"deviceid":"10.30.4.9","tagIdList":["own"]}"#.to_owned()),
        ]
    );
    // Written back under the wire name, so a JSON consumer sees what the API sent.
    let written = serde_json::to_value(&alerts[0]).unwrap();
    assert_eq!(written["deviceTags"]["tagIdList"][1], "77c1");
}

#[tokio::test]
async fn vulnerabilities_ask_for_instances_with_their_filters() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/pub/v4.0/vulnerability/list")
                .query_param("customerid", CUSTOMER)
                .query_param("groupby", "device")
                .query_param("stime", "2024-05-01T00:00:00.000Z")
                .query_param("status", "Confirmed")
                .query_param("severity", "High")
                .query_param("name", "CVE-2021-44228")
                .query_param("deviceid", "00:1b:44:11:3a:b7");
            then.status(200).body(fixture("vulnerabilities_page.json"));
        })
        .await;
    let client = Client::new(config(&server.base_url())).unwrap();
    let query = VulnerabilityQuery {
        stime: Some(datetime!(2024-05-01 00:00 UTC)),
        status: Some(VulnerabilityStatus::Confirmed),
        severity: Some(VulnerabilitySeverity::High),
        name: Some("CVE-2021-44228".into()),
        deviceid: Some("00:1b:44:11:3a:b7".into()),
        ..VulnerabilityQuery::default()
    };
    let (vulnerabilities, error) = bounded(drain(client.vulnerabilities(&query))).await;
    assert!(error.is_none(), "{error:?}");
    mock.assert_calls_async(1).await;
    insta::assert_json_snapshot!("vulnerabilities_page", vulnerabilities);
}

#[tokio::test]
async fn single_record_getters_and_not_found() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/pub/v4.0/device")
                .query_param("deviceid", "00:1b:44:11:3a:b7")
                .query_param("detail", "true");
            then.status(200).body(fixture("device_single.json"));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/pub/v4.0/device/ip")
                .query_param("ip", "10.20.1.15");
            then.status(200).body(fixture("device_single.json"));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/pub/v4.0/alert")
                .query_param("zb_ticketid", "alert-hNMleG1nW");
            then.status(200).body(fixture("alert_single.json"));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/pub/v4.0/vulnerability")
                .query_param("zb_ticketid", "vuln-52f40a58")
                .query_param("groupby", "device");
            then.status(200).body(fixture("vulnerability_single.json"));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/pub/v4.0/alert")
                .query_param("zb_ticketid", "alert-none");
            then.status(200).body(r#"{"items":[]}"#);
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/pub/v4.0/device")
                .query_param("deviceid", "missing");
            then.status(404)
                .body(r#"{"code":404,"msg":"device not found"}"#);
        })
        .await;
    let client = Client::new(config(&server.base_url())).unwrap();
    let device = bounded(client.device("00:1b:44:11:3a:b7"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(device.risk_score, Some(72));
    let by_ip = bounded(client.device_by_ip("10.20.1.15"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_ip, device);
    let alert = bounded(client.alert("alert-hNMleG1nW"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(alert.zb_ticketid.as_deref(), Some("alert-hNMleG1nW"));
    let vulnerability = bounded(client.vulnerability("vuln-52f40a58"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        vulnerability.vulnerability_name.as_deref(),
        Some("CVE-2021-44228")
    );
    assert!(bounded(client.alert("alert-none")).await.unwrap().is_none());
    assert!(bounded(client.device("missing")).await.unwrap().is_none());
}

#[tokio::test]
async fn status_reports_post_the_documented_body() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/pub/v4.0/xsoar/status")
                .query_param("customerid", CUSTOMER)
                .header("content-type", "application/json")
                .json_body(serde_json::json!({
                    "playbook_name": "siembridge bulk export",
                    "integration_name": "siem",
                    "message": "Successfully sent total 3 Devices to SIEM",
                    "status": "success",
                    "type": "device",
                    "timestamp": 1_715_679_000_000i64,
                }));
            then.status(200).body(fixture("status_received.json"));
        })
        .await;
    let client = Client::new(config(&server.base_url())).unwrap();
    let report = StatusReport {
        status: ReportStatus::Success,
        message: "Successfully sent total 3 Devices to SIEM".into(),
        integration_name: "siem".into(),
        playbook_name: "siembridge bulk export".into(),
        asset_type: "device".into(),
        timestamp: datetime!(2024-05-14 09:30 UTC),
    };
    bounded(client.report_status(&report)).await.unwrap();
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn forbidden_and_unauthorized_fail_at_once_with_a_clear_message() {
    for status in [401, 403] {
        let server = MockServer::start_async().await;
        let mock = server
            .mock_async(|when, then| {
                when.method(GET).path("/pub/v4.0/device/list");
                then.status(status).body(fixture("error_403.json"));
            })
            .await;
        let client = Client::new(config(&server.base_url())).unwrap();
        let (devices, error) = bounded(drain(client.devices(&DeviceQuery::default()))).await;
        assert!(devices.is_empty());
        let error = error.unwrap();
        assert!(matches!(error, ApiError::Unauthorized { .. }));
        mock.assert_calls_async(1).await;
        let message = error.to_string();
        assert!(message.contains("device/list at offset 0"), "{message}");
        assert!(
            message.contains("Invalid access key or missing RBAC permission"),
            "{message}"
        );
        insta::assert_snapshot!(format!("unauthorized_{status}"), message);
    }
}

#[tokio::test]
async fn a_429_storm_is_retried_honouring_retry_after_then_fails_naming_the_place() {
    let server = MockServer::start_async().await;
    let storm = server
        .mock_async(|when, then| {
            when.method(GET).path("/pub/v4.0/alert/list");
            then.status(429)
                .header("Retry-After", "0")
                .body(fixture("error_429.json"));
        })
        .await;
    let client = Client::new(config(&server.base_url())).unwrap();
    let (_, error) = bounded(drain(client.alerts(&AlertQuery::default()))).await;
    let error = error.unwrap();
    storm.assert_calls_async(4).await;
    assert_eq!(error.status(), Some(429));
    insta::assert_snapshot!("storm_429", error.to_string());
}

#[tokio::test]
async fn retry_after_is_honoured_as_seconds_and_as_an_http_date() {
    let in_two_seconds = || {
        let imf_fixdate = time::macros::format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        );
        (time::OffsetDateTime::now_utc() + time::Duration::seconds(2))
            .format(imf_fixdate)
            .unwrap()
    };
    // The date is written just before the server starts, so it is 1 to 2 s ahead when the
    // client reads it. Unreadable advice falls back to the jittered backoff (at most
    // 5 ms here).
    let advice: [(fn() -> String, Duration); 3] = [
        (|| "1".to_owned(), Duration::from_secs(1)),
        (in_two_seconds, Duration::from_millis(900)),
        (|| "whenever".to_owned(), Duration::ZERO),
    ];
    for (advice, at_least) in advice {
        let advice = advice();
        let server = MockServer::start_async().await;
        let busy = server
            .mock_async(|when, then| {
                when.method(GET).path("/pub/v4.0/device/list");
                then.status(429)
                    .header("Retry-After", &advice)
                    .body(fixture("error_429.json"));
            })
            .await;
        let mut cfg = config(&server.base_url());
        cfg.max_retries = 1;
        cfg.max_retry_delay = Duration::from_secs(10);
        let client = Client::new(cfg).unwrap();
        let started = std::time::Instant::now();
        let (_, error) = bounded(drain(client.devices(&DeviceQuery::default()))).await;
        let waited = started.elapsed();
        assert_eq!(error.unwrap().status(), Some(429));
        busy.assert_calls_async(2).await;
        assert!(waited >= at_least, "{advice}: waited {waited:?}");
        if at_least.is_zero() {
            assert!(
                waited < Duration::from_millis(900),
                "{advice}: waited {waited:?}"
            );
        }
    }
}

#[tokio::test]
async fn a_429_burst_is_ridden_out_once_the_tenant_recovers() {
    let server = MockServer::start_async().await;
    let burst = server
        .mock_async(|when, then| {
            when.method(GET).path("/pub/v4.0/device/list");
            then.status(429).body(fixture("error_429.json"));
        })
        .await;
    let mut cfg = config(&server.base_url());
    // Enough retries that the client is still trying when the tenant recovers.
    cfg.max_retries = 1000;
    let client = Client::new(cfg).unwrap();
    let stream = client.devices(&DeviceQuery::default());
    let task = tokio::spawn(drain(stream));
    // Let the client meet the storm, then let the tenant recover.
    while burst.calls_async().await < 2 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    burst.delete_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/pub/v4.0/device/list");
            then.status(200).body(fixture("devices_page.json"));
        })
        .await;
    let (devices, error) = bounded(task).await.unwrap();
    assert!(error.is_none(), "{error:?}");
    assert_eq!(devices.len(), 3);
}

#[tokio::test]
async fn a_500_in_mid_paging_fails_naming_the_offset_after_the_records_before_it() {
    let server = MockServer::start_async().await;
    let mut cfg = config(&server.base_url());
    cfg.page_size = 2;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/pub/v4.0/device/list")
                .query_param("offset", "0");
            then.status(200)
                .body(device_page(["a", "b"].map(String::from)));
        })
        .await;
    let failing = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/pub/v4.0/device/list")
                .query_param("offset", "2");
            then.status(500)
                .body(r#"{"code":500,"msg":"Internal server error"}"#);
        })
        .await;
    let client = Client::new(cfg).unwrap();
    let (devices, error) = bounded(drain(client.devices(&DeviceQuery::default()))).await;
    assert_eq!(devices.len(), 2);
    let error = error.unwrap();
    failing.assert_calls_async(4).await;
    assert_eq!(error.place().unwrap().offset, Some(2));
    insta::assert_snapshot!("server_error_mid_paging", error.to_string());
}

#[tokio::test]
async fn truncated_or_non_json_bodies_name_endpoint_and_offset() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/pub/v4.0/device/list");
            then.status(200).body(fixture("devices_truncated.json"));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/pub/v4.0/alert/list");
            then.status(200)
                .header("content-type", "text/html")
                .body(fixture("not_json.html"));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/pub/v4.0/vulnerability/list");
            then.status(200).body(r#"{"ver":"v4.0"}"#);
        })
        .await;
    let client = Client::new(config(&server.base_url())).unwrap();
    let (_, truncated) = bounded(drain(client.devices(&DeviceQuery::default()))).await;
    let (_, html) = bounded(drain(client.alerts(&AlertQuery::default()))).await;
    let (_, missing) = bounded(drain(
        client.vulnerabilities(&VulnerabilityQuery::default()),
    ))
    .await;
    let truncated = truncated.unwrap();
    assert!(matches!(truncated, ApiError::Decode { .. }));
    insta::assert_snapshot!("truncated_body", truncated.to_string());
    insta::assert_snapshot!("html_body", html.unwrap().to_string());
    insta::assert_snapshot!("missing_list", missing.unwrap().to_string());
}

#[tokio::test]
async fn slow_responses_hit_the_timeout_and_are_retried() {
    let server = MockServer::start_async().await;
    let slow = server
        .mock_async(|when, then| {
            when.method(GET).path("/pub/v4.0/device/list");
            then.status(200)
                .delay(Duration::from_millis(800))
                .body(fixture("devices_empty.json"));
        })
        .await;
    let mut cfg = config(&server.base_url());
    cfg.request_timeout = Duration::from_millis(100);
    cfg.max_retries = 1;
    let client = Client::new(cfg).unwrap();
    let (_, error) = bounded(drain(client.devices(&DeviceQuery::default()))).await;
    let error = error.unwrap();
    assert!(
        matches!(
            error,
            ApiError::Transport {
                kind: "timeout",
                attempts: 2,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("device/list at offset 0: timeout after 2 attempt(s)")
    );
    assert_eq!(slow.calls_async().await, 2);
}

#[tokio::test]
async fn a_refused_connection_is_a_transport_error() {
    // Bind and drop a listener: nothing listens on that port any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = config(&format!("http://127.0.0.1:{port}"));
    cfg.max_retries = 1;
    let client = Client::new(cfg).unwrap();
    let error = bounded(client.device("x")).await.unwrap_err();
    assert!(
        matches!(error, ApiError::Transport { attempts: 2, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn the_rate_limiter_holds_back_requests_over_the_quota() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(GET).path("/pub/v4.0/device");
            then.status(200).body(fixture("device_single.json"));
        })
        .await;
    let mut cfg = config(&server.base_url());
    cfg.requests_per_minute = 1;
    let client = Client::new(cfg).unwrap();
    bounded(client.device("a")).await.unwrap();
    // The second request of a one-a-minute quota waits about a minute.
    let second = tokio::time::timeout(Duration::from_millis(300), client.device("b")).await;
    assert!(second.is_err(), "the second request waited for the limiter");
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn strata_cloud_manager_uses_bearer_tokens_renewed_before_expiry() {
    let server = MockServer::start_async().await;
    let token = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth2/access_token")
                // Basic base64("client-1:scm-SECRET-42")
                .header("authorization", "Basic Y2xpZW50LTE6c2NtLVNFQ1JFVC00Mg==")
                .form_urlencoded_tuple("grant_type", "client_credentials")
                .form_urlencoded_tuple("scope", "tsg_id:1234567890");
            // 60 s lifetime minus the 60 s margin: renewed before every request.
            then.status(200)
                .body(fixture("token.json").replace("899", "60"));
        })
        .await;
    let api = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/iot/pub/v1/device/list")
                .header(
                    "authorization",
                    "Bearer eyJhbGciOiJSUzI1NiJ9.synthetic-test-token.sig",
                )
                .header_missing("x-access-key");
            then.status(200).body(fixture("devices_empty.json"));
        })
        .await;
    let mut cfg = config(&server.base_url());
    cfg.auth = Auth::StrataCloudManager(ScmCredentials {
        token_url: format!("{}/oauth2/access_token", server.base_url()),
        ..ScmCredentials::new("client-1", Secret::new("scm-SECRET-42"), "1234567890")
    });
    let client = Client::new(cfg).unwrap();
    assert!(client.api_base().as_str().ends_with("/iot/pub/v1/"));
    for _ in 0..2 {
        let (_, error) = bounded(drain(client.devices(&DeviceQuery::default()))).await;
        assert!(error.is_none(), "{error:?}");
    }
    api.assert_calls_async(2).await;
    token.assert_calls_async(2).await;
}

#[tokio::test]
async fn strata_cloud_manager_reuses_a_fresh_token_and_reports_a_refused_one() {
    let server = MockServer::start_async().await;
    let token = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth2/access_token")
                .form_urlencoded_tuple("scope", "tsg_id:1");
            then.status(200).body(fixture("token.json"));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth2/access_token")
                .form_urlencoded_tuple("scope", "tsg_id:2");
            then.status(401)
                .body(r#"{"error":"invalid_client","message":"bad client credentials"}"#);
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/iot/pub/v1/alert/list");
            then.status(200).body(r#"{"items":[]}"#);
        })
        .await;
    let scm = |tsg: &str| {
        let mut cfg = config(&server.base_url());
        cfg.auth = Auth::StrataCloudManager(ScmCredentials {
            token_url: format!("{}/oauth2/access_token", server.base_url()),
            ..ScmCredentials::new("client-1", Secret::new("scm-SECRET-42"), tsg)
        });
        Client::new(cfg).unwrap()
    };
    let good = scm("1");
    for _ in 0..3 {
        let (_, error) = bounded(drain(good.alerts(&AlertQuery::default()))).await;
        assert!(error.is_none());
    }
    token.assert_calls_async(1).await;
    let (_, error) = bounded(drain(scm("2").alerts(&AlertQuery::default()))).await;
    let message = error.unwrap().to_string();
    assert!(
        message.contains("HTTP 401") && message.contains("bad client credentials"),
        "{message}"
    );
    assert!(!message.contains("scm-SECRET-42"));
}
