//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub, clippy::panic, clippy::expect_used)]

use std::time::Duration;

use futures::StreamExt;
use iot_security_api::{ApiError, Auth, ClientConfig, Records, Secret};

pub const KEY_ID: &str = "kid-7f3a9c";
pub const ACCESS_KEY: &str = "ak-SECRET-d41d8cd98f00b204";
pub const CUSTOMER: &str = "acme";

/// A fixture's text.
pub fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../../fixtures/iot-security/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// A config for a loopback mock server, with fast retries and no rate limit.
pub fn config(base_url: &str) -> ClientConfig {
    let mut config = ClientConfig::new(
        base_url,
        CUSTOMER,
        Auth::api_key(Secret::new(KEY_ID), Secret::new(ACCESS_KEY)),
    );
    config.allow_http = true;
    config.requests_per_minute = 0;
    config.retry_base_delay = Duration::from_millis(5);
    config.max_retry_delay = Duration::from_millis(50);
    config.max_retries = 3;
    config.request_timeout = Duration::from_secs(5);
    config
}

/// Drains a stream: the records before the first error, and that error.
pub async fn drain<T>(
    stream: impl futures::Stream<Item = Result<T, ApiError>>,
) -> (Vec<T>, Option<ApiError>) {
    let mut stream = std::pin::pin!(stream);
    let mut records = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(record) => records.push(record),
            Err(error) => {
                assert!(
                    stream.next().await.is_none(),
                    "a stream ends after its error"
                );
                return (records, Some(error));
            }
        }
    }
    (records, None)
}

/// Bounds a test's run time.
pub async fn bounded<F: std::future::Future>(future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(60), future)
        .await
        .expect("the test finished within 60 s")
}

/// A device list page of `ids`.
pub fn device_page(ids: impl IntoIterator<Item = String>) -> String {
    let devices: Vec<_> = ids
        .into_iter()
        .map(|id| serde_json::json!({"deviceid": id, "hostname": format!("host-{id}")}))
        .collect();
    serde_json::json!({"total": 999_999, "devices": devices}).to_string()
}

/// Drains a list in code generic over its record type, as an embedder's code may be:
/// compiles only while `Records<R>` is a `Stream` whatever `R` is.
pub async fn drain_list<R>(records: Records<R>) -> (Vec<R>, Option<ApiError>) {
    drain(records).await
}
