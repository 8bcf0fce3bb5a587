//! Counters and gauges through the `metrics` facade, and the Prometheus endpoint.
//!
//! The delivery loop records what it fetches, sends, retries and gives up on, per
//! `pipeline` and record `type`, and the time of its last confirmed batch. Sources report
//! their lag with [`record_lag`]. Nothing is recorded anywhere until a binary installs a
//! recorder, e.g. the Prometheus exporter with [`install_prometheus`].

use std::net::SocketAddr;
use std::time::Duration;

use time::OffsetDateTime;

/// Counter: records taken from the source.
pub const RECORDS_FETCHED: &str = "siembridge_records_fetched_total";
/// Counter: records the sink confirmed.
pub const RECORDS_SENT: &str = "siembridge_records_sent_total";
/// Counter: records sent again after the sink handed them back.
pub const RECORDS_RETRIED: &str = "siembridge_records_retried_total";
/// Counter: records given up on.
pub const RECORDS_FAILED: &str = "siembridge_records_failed_total";
/// Gauge: Unix time of the last confirmed batch.
pub const LAST_SUCCESS: &str = "siembridge_last_success_timestamp_seconds";
/// Gauge: how far behind the source the newest delivered record is, in seconds.
pub const LAG: &str = "siembridge_lag_seconds";

/// Registers help texts for every metric (call once, after installing a recorder).
pub fn describe() {
    metrics::describe_counter!(RECORDS_FETCHED, "Records taken from the source.");
    metrics::describe_counter!(RECORDS_SENT, "Records the sink confirmed.");
    metrics::describe_counter!(
        RECORDS_RETRIED,
        "Records sent again after the sink handed them back."
    );
    metrics::describe_counter!(
        RECORDS_FAILED,
        "Records given up on after retries or a permanent sink failure."
    );
    metrics::describe_gauge!(LAST_SUCCESS, "Unix time of the last confirmed batch.");
    metrics::describe_gauge!(
        LAG,
        "Age of the newest delivered record relative to now, in seconds."
    );
}

/// Sets the lag gauge of `pipeline` and `kind`: how old the newest delivered record is.
pub fn record_lag(pipeline: &str, kind: &'static str, lag: Duration) {
    metrics::gauge!(LAG, "pipeline" => pipeline.to_owned(), "type" => kind).set(lag.as_secs_f64());
}

pub(crate) fn count_records(pipeline: &str, kind: &'static str, metric: &'static str, n: u64) {
    metrics::counter!(metric, "pipeline" => pipeline.to_owned(), "type" => kind).increment(n);
}

pub(crate) fn mark_success(pipeline: &str, at: OffsetDateTime) {
    // Unix seconds fit an f64 exactly for the next few million years.
    #[allow(clippy::cast_precision_loss)]
    let seconds = at.unix_timestamp() as f64;
    metrics::gauge!(LAST_SUCCESS, "pipeline" => pipeline.to_owned()).set(seconds);
}

/// Installs the Prometheus exporter as the global recorder, serving `/metrics` on
/// `listen`. Must be called inside a tokio runtime; call it once per process.
pub fn install_prometheus(listen: SocketAddr) -> Result<(), MetricsError> {
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(listen)
        .install()
        .map_err(|source| MetricsError { listen, source })?;
    describe();
    Ok(())
}

/// The Prometheus endpoint could not be started.
#[derive(Debug, thiserror::Error)]
#[error("cannot serve metrics on {listen}: {source}")]
pub struct MetricsError {
    listen: SocketAddr,
    #[source]
    source: metrics_exporter_prometheus::BuildError,
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use bytes::Bytes;
    use tokio_util::sync::CancellationToken;

    use super::*;
    use crate::delivery::{DeliveryOptions, Record, deliver};
    use crate::sink::WriterSink;

    #[test]
    fn the_delivery_loop_reports_per_pipeline_and_type() {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            describe();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .unwrap();
            runtime.block_on(async {
                let records = (0..3).map(|i| {
                    Ok::<_, Infallible>(Record::new(
                        if i == 0 { "devices" } else { "alerts" },
                        Bytes::from_static(b"r"),
                        i,
                    ))
                });
                let mut sink = WriterSink::new(Vec::new(), "memory");
                let options = DeliveryOptions {
                    pipeline: "tenant-a".into(),
                    ..DeliveryOptions::default()
                };
                deliver(
                    futures::stream::iter(records),
                    &mut sink,
                    |_: &i32| Ok::<_, Infallible>(()),
                    &options,
                    &CancellationToken::new(),
                )
                .await
                .unwrap();
            });
            record_lag("tenant-a", "alerts", Duration::from_secs(42));
        });
        let rendered = handle.render();
        let mut lines: Vec<&str> = rendered
            .lines()
            .filter(|line| !line.starts_with(LAST_SUCCESS) && !line.is_empty())
            .collect();
        lines.sort_unstable();
        insta::assert_snapshot!(lines.join("\n"));
        assert!(rendered.contains(&format!("{LAST_SUCCESS}{{pipeline=\"tenant-a\"}}")));
    }
}
