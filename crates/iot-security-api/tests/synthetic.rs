//! The client against the synthetic tenant: the real path end to end, incremental
//! cursors, faults.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{bounded, drain};
use futures::StreamExt;
use iot_security_api::synthetic::{Fault, RecordKind, TenantSpec, serve};
use iot_security_api::{
    AlertQuery, ApiError, Auth, Client, Cursor, DeviceQuery, Record, ReportStatus, StatusReport,
    VulnerabilityQuery,
};
use time::macros::datetime;

const SPEC: TenantSpec = TenantSpec {
    seed: 7,
    devices: 2_345,
    alerts: 1_234,
    vulnerabilities: 1_111,
};

#[tokio::test]
async fn every_record_arrives_once_and_matches_the_generator() {
    let server = serve(SPEC).await.unwrap();
    let client = Client::new(server.client_config()).unwrap();
    let (devices, error) = bounded(drain(client.devices(&DeviceQuery::default()))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(devices.len(), 2_345);
    let ids: HashSet<_> = devices
        .iter()
        .map(|d| d.deviceid.clone().unwrap())
        .collect();
    assert_eq!(ids.len(), devices.len());
    assert_eq!(devices[1234], SPEC.device(1234));
    let (alerts, error) = bounded(drain(client.alerts(&AlertQuery::default()))).await;
    assert!(error.is_none());
    assert_eq!(alerts.len(), 1_234);
    assert_eq!(alerts[17], SPEC.alert(17));
    let (vulnerabilities, error) = bounded(drain(
        client.vulnerabilities(&VulnerabilityQuery::default()),
    ))
    .await;
    assert!(error.is_none());
    assert_eq!(vulnerabilities.len(), 1_111);
    // 3 device pages, 2 alert pages, 2 vulnerability pages.
    assert_eq!(server.requests(), 7);
    server.shutdown().await;
}

#[test]
fn generation_is_deterministic_realistic_and_hostile() {
    insta::assert_json_snapshot!("synthetic_device_3", SPEC.device(3));
    insta::assert_json_snapshot!("synthetic_alert_2", SPEC.alert(2));
    insta::assert_json_snapshot!("synthetic_vulnerability_1", SPEC.vulnerability(1));
    assert_eq!(SPEC.device(99), SPEC.device(99));
    let other = TenantSpec { seed: 8, ..SPEC };
    assert_ne!(SPEC.device(10).model, other.device(10).model);
    let hostnames: Vec<String> = (0..100)
        .filter_map(|i| SPEC.device(i).hostname.map(String::from))
        .collect();
    for needle in ["|", "=", "\\", "\r\n", "東京"] {
        assert!(
            hostnames.iter().any(|h| h.contains(needle)),
            "no hostname has {needle:?}"
        );
    }
    let static_ip = SPEC.device(49);
    assert_eq!(static_ip.deviceid, static_ip.ip_address);
    assert!(static_ip.mac_address.is_none());
    assert!((0..50).any(|i| SPEC.alert(i).description.unwrap().contains('\n')));
    assert!((0..50).any(|i| {
        SPEC.vulnerability(i)
            .remediate_instruction
            .unwrap()
            .contains('|')
    }));
}

#[tokio::test]
async fn stime_filters_and_descending_order() {
    let server = serve(SPEC).await.unwrap();
    let client = Client::new(server.client_config()).unwrap();
    // Devices: three share each minute from the epoch; minute 100 starts at index 300.
    let query = DeviceQuery {
        stime: Some(datetime!(2025-01-01 01:40 UTC)),
        detail: false,
        ..DeviceQuery::default()
    };
    let (devices, _) = bounded(drain(client.devices(&query))).await;
    assert_eq!(devices.len(), 2_345 - 300);
    assert_eq!(devices[0].deviceid, SPEC.device(300).deviceid);
    assert!(
        devices[0].vendor.is_none(),
        "detail=false sends the core fields only"
    );
    let query = DeviceQuery {
        sort_direction: iot_security_api::SortDirection::Desc,
        ..DeviceQuery::default()
    };
    let first = bounded(async { client.devices(&query).next().await })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first, SPEC.device(2_344));
}

#[tokio::test]
async fn incremental_runs_neither_lose_nor_double_records_at_the_boundary() {
    let server = serve(TenantSpec {
        alerts: 101,
        ..SPEC
    })
    .await
    .unwrap();
    let client = Client::new(server.client_config()).unwrap();
    let mut cursor = Cursor::new(None);
    let mut delivered: Vec<String> = Vec::new();
    let run = async |cursor: &mut Cursor| {
        let query = AlertQuery {
            stime: cursor.stime(),
            ..AlertQuery::default()
        };
        let (alerts, error) = bounded(drain(client.alerts(&query))).await;
        assert!(error.is_none());
        let mut fresh = Vec::new();
        for alert in alerts.iter().filter(|alert| cursor.is_new(*alert)) {
            fresh.push(alert.id().unwrap().to_owned());
        }
        for alert in &alerts {
            if cursor.is_new(alert) {
                cursor.advance(alert);
            }
        }
        fresh
    };
    delivered.extend(run(&mut cursor).await);
    assert_eq!(delivered.len(), 101);
    // Alert 101 shares its timestamp with alert 100 (two a timestamp): the boundary.
    server.add(RecordKind::Alerts, 5);
    let second = run(&mut cursor).await;
    assert_eq!(second.len(), 5, "{second:?}");
    delivered.extend(second);
    assert!(run(&mut cursor).await.is_empty());
    let unique: HashSet<_> = delivered.iter().collect();
    assert_eq!(unique.len(), 106);
    // The cursor survives a restart.
    let saved = serde_json::to_string(&cursor).unwrap();
    let mut restored: Cursor = serde_json::from_str(&saved).unwrap();
    assert_eq!(restored, cursor);
    server.add(RecordKind::Alerts, 1);
    assert_eq!(run(&mut restored).await, ["alert-0000006a"]);
}

#[tokio::test]
async fn faults_are_retried_or_reported_with_their_place() {
    let server = serve(SPEC).await.unwrap();
    let client = Client::new(server.client_config()).unwrap();
    server.inject(Fault::TooManyRequests {
        retry_after: Some(0),
        times: 3,
    });
    server.inject(Fault::ServerError {
        kind: RecordKind::Devices,
        offset: 1000,
        times: 2,
    });
    let (devices, error) = bounded(drain(client.devices(&DeviceQuery::default()))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(devices.len(), 2_345);
    assert_eq!(server.requests(), 3 + 3 + 2);

    server.inject(Fault::ServerError {
        kind: RecordKind::Devices,
        offset: 2000,
        times: 100,
    });
    let (devices, error) = bounded(drain(client.devices(&DeviceQuery::default()))).await;
    assert_eq!(devices.len(), 2_000);
    let error = error.unwrap();
    assert!(
        error
            .to_string()
            .starts_with("device/list at offset 2000: HTTP 500 after 6 attempt(s)"),
        "{error}"
    );

    let server = serve(SPEC).await.unwrap();
    let client = Client::new(server.client_config()).unwrap();
    server.inject(Fault::Truncated {
        kind: RecordKind::Alerts,
        offset: 1000,
        times: 1,
    });
    let (alerts, error) = bounded(drain(client.alerts(&AlertQuery::default()))).await;
    assert_eq!(alerts.len(), 1000);
    let error = error.unwrap();
    assert!(matches!(error, ApiError::Decode { .. }));
    assert!(
        error.to_string().starts_with("alert/list at offset 1000:"),
        "{error}"
    );

    let mut config = server.client_config();
    config.request_timeout = Duration::from_millis(100);
    config.max_retries = 0;
    server.inject(Fault::Slow {
        delay: Duration::from_millis(400),
        times: 1,
    });
    let error = bounded(Client::new(config).unwrap().alert("alert-00000001"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            ApiError::Transport {
                kind: "timeout",
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn cached_pages_are_the_rendered_ones_and_follow_the_live_set() {
    let server = serve(SPEC).await.unwrap();
    server.cache_pages();
    let client = Client::new(server.client_config()).unwrap();
    let (first, error) = bounded(drain(client.devices(&DeviceQuery::default()))).await;
    assert!(error.is_none(), "{error:?}");
    let (again, error) = bounded(drain(client.devices(&DeviceQuery::default()))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(first, again);
    assert_eq!(again[2_000], SPEC.device(2_000));
    // A grown set is a different page, not a stale cached one.
    server.add(RecordKind::Devices, 10);
    let (grown, error) = bounded(drain(client.devices(&DeviceQuery::default()))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(grown.len(), 2_355);
    // Faults still apply to cached pages.
    server.inject(Fault::Truncated {
        kind: RecordKind::Devices,
        offset: 0,
        times: 1,
    });
    let (devices, error) = bounded(drain(client.devices(&DeviceQuery::default()))).await;
    assert!(devices.is_empty());
    assert!(matches!(error, Some(ApiError::Decode { .. })), "{error:?}");
}

#[tokio::test]
async fn a_set_retired_from_the_front_while_paged_never_repeats_a_record() {
    let server = serve(SPEC).await.unwrap();
    let client = Client::new(server.client_config()).unwrap();
    let mut stream = std::pin::pin!(client.devices(&DeviceQuery::default()));
    let mut ids = HashSet::new();
    let mut count = 0;
    while let Some(device) = bounded(stream.next()).await {
        let device = device.unwrap();
        count += 1;
        assert!(ids.insert(device.deviceid.unwrap()), "repeated");
        if count == 10 {
            // Retiring shifts later pages toward the front: some are skipped in this run,
            // none is repeated.
            server.retire(RecordKind::Devices, 500);
        }
    }
    assert_eq!(count, 2_345 - 500);
    assert_eq!(server.live(RecordKind::Devices), 500..2_345);
}

#[tokio::test]
async fn credentials_customer_and_page_size_are_checked() {
    let server = serve(SPEC).await.unwrap();
    let mut wrong_key = server.client_config();
    wrong_key.auth = Auth::api_key("synthetic-key-id", "wrong");
    let error = bounded(Client::new(wrong_key).unwrap().device("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ApiError::Unauthorized { status: 403, .. }),
        "{error:?}"
    );
    let mut wrong_customer = server.client_config();
    wrong_customer.customer_id = "other".into();
    let error = bounded(Client::new(wrong_customer).unwrap().device("x"))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(400));
}

#[tokio::test]
async fn single_records_and_status_reports() {
    let server = serve(SPEC).await.unwrap();
    let client = Client::new(server.client_config()).unwrap();
    let id = SPEC.device(5).deviceid.unwrap();
    assert_eq!(
        bounded(client.device(&id)).await.unwrap(),
        Some(SPEC.device(5))
    );
    let static_ip = SPEC.device(49);
    assert_eq!(
        bounded(client.device_by_ip(static_ip.ip_address.as_deref().unwrap()))
            .await
            .unwrap(),
        Some(static_ip)
    );
    assert_eq!(
        bounded(client.device("00:00:00:00:00:01")).await.unwrap(),
        None
    );
    let alert_id = SPEC.alert(9).zb_ticketid.unwrap();
    assert_eq!(
        bounded(client.alert(&alert_id)).await.unwrap(),
        Some(SPEC.alert(9))
    );
    let vuln_id = SPEC.vulnerability(3).zb_ticketid.unwrap();
    assert_eq!(
        bounded(client.vulnerability(&vuln_id)).await.unwrap(),
        Some(SPEC.vulnerability(3))
    );
    assert_eq!(
        bounded(client.vulnerability("vuln-ffffffff"))
            .await
            .unwrap(),
        None
    );
    let report = StatusReport {
        status: ReportStatus::Error,
        message: "Failed to get alert list from IoT cloud.".into(),
        integration_name: "siem".into(),
        playbook_name: "siembridge incremental export".into(),
        asset_type: "alert".into(),
        timestamp: datetime!(2025-01-01 00:00 UTC),
    };
    bounded(client.report_status(&report)).await.unwrap();
    let reports = server.status_reports();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0]["status"], "error");
    assert_eq!(reports[0]["timestamp"], 1_735_689_600_000i64);
}

#[tokio::test]
async fn lists_started_at_an_offset_ask_for_it_first_and_page_on_from_there() {
    let server = serve(SPEC).await.unwrap();
    let client = Client::new(server.client_config()).unwrap();
    let query = DeviceQuery::default().starting_at(1_000);
    let (devices, error) = bounded(drain(client.devices(&query))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(devices.len(), 2_345 - 1_000);
    assert_eq!(devices[0], SPEC.device(1_000));
    assert_eq!(devices.last(), Some(&SPEC.device(2_344)));
    // The full page at 1000, then the short one at 2000 that ends the stream.
    assert_eq!(server.list_offsets(RecordKind::Devices), [1_000, 2_000]);

    // An offset inside a page is taken as it is; the short page there ends the list.
    let query = VulnerabilityQuery::default().starting_at(500);
    let (vulnerabilities, error) = bounded(drain(client.vulnerabilities(&query))).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(vulnerabilities.len(), 1_111 - 500);
    assert_eq!(vulnerabilities[0], SPEC.vulnerability(500));
    assert_eq!(server.list_offsets(RecordKind::Vulnerabilities), [500]);

    // At the list's end: one empty page, no record.
    let query = AlertQuery::default().starting_at(1_234);
    let (alerts, error) = bounded(drain(client.alerts(&query))).await;
    assert!(error.is_none(), "{error:?}");
    assert!(alerts.is_empty());
    assert_eq!(server.list_offsets(RecordKind::Alerts), [1_234]);
    server.shutdown().await;
}
