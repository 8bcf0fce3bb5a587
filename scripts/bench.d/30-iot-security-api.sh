# iot-security-api: stream 200,000 devices (detail=true) from the synthetic tenant over
# loopback HTTP in pages of 1000, rate limit lifted; and the client's peak memory doing it.
# Sourced by scripts/bench (helpers from scripts/bench-lib.sh).
cargo bench -q -p iot-security-api --bench stream_devices -- --warm-up-time 1 --measurement-time 5 >&2
figure iot_devices_stream "$(criterion_rate iot_devices/stream_200k 200000)" records/s
figure iot_devices_parse "$(criterion_rate iot_devices/parse_page_1000 1000)" records/s
cargo build -q --release -p iot-security-api --example stream_devices >&2
figure iot_devices_stream_peak_rss "$(peak_rss_mib target/release/examples/stream_devices 200000)" MiB
