//! No credential ever reaches Debug output, errors or logs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{ACCESS_KEY, KEY_ID, bounded, config, drain, fixture};
use httpmock::Method::{GET, POST};
use httpmock::MockServer;
use iot_security_api::{
    AlertQuery, Auth, Client, DeviceQuery, ScmCredentials, Secret, VulnerabilityQuery,
};

const CLIENT_SECRET: &str = "scm-SECRET-42";
const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.synthetic-test-token.sig";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_secret_in_logs_errors_or_debug() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/pub/v4.0/device/list");
            then.status(200).body(fixture("devices_page.json"));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/pub/v4.0/alert/list");
            then.status(429)
                .header("Retry-After", "0")
                .body(fixture("error_429.json"));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/pub/v4.0/vulnerability/list");
            then.status(403).body(fixture("error_403.json"));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/pub/v4.0/device");
            then.status(200)
                .delay(Duration::from_millis(500))
                .body("{}");
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth2/access_token");
            then.status(200).body(fixture("token.json"));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/iot/pub/v1/device/list");
            then.status(500).body("{\"code\":500,\"msg\":\"boom\"}");
        })
        .await;

    let mut api_config = config(&server.base_url());
    api_config.request_timeout = Duration::from_millis(100);
    let mut scm_config = config(&server.base_url());
    scm_config.auth = Auth::StrataCloudManager(ScmCredentials {
        token_url: format!("{}/oauth2/access_token", server.base_url()),
        ..ScmCredentials::new("client-1", Secret::new(CLIENT_SECRET), "1")
    });
    let mut shown = vec![format!("{api_config:?}"), format!("{scm_config:?}")];
    let client = Client::new(api_config).unwrap();
    let scm = Client::new(scm_config).unwrap();
    shown.push(format!("{client:?} {scm:?}"));

    let (devices, _) = bounded(drain(client.devices(&DeviceQuery::default()))).await;
    assert_eq!(devices.len(), 3);
    let errors = [
        bounded(drain(client.alerts(&AlertQuery::default())))
            .await
            .1
            .unwrap(),
        bounded(drain(
            client.vulnerabilities(&VulnerabilityQuery::default()),
        ))
        .await
        .1
        .unwrap(),
        bounded(client.device("x")).await.unwrap_err(),
        bounded(drain(scm.devices(&DeviceQuery::default())))
            .await
            .1
            .unwrap(),
    ];
    for error in &errors {
        shown.push(format!("{error} {error:?}"));
    }
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("retrying"),
        "the client logged its retries: {logs}"
    );
    shown.push(logs);
    for text in &shown {
        for secret in [ACCESS_KEY, KEY_ID, CLIENT_SECRET, TOKEN, "Y2xpZW50LTE6"] {
            assert!(!text.contains(secret), "{secret} leaked into: {text}");
        }
    }
}
