# iot-security-api: stream 200,000 devices (detail=true) from the synthetic tenant over
# loopback HTTP in pages of 1000, rate limit lifted; the decode of one page alone (as the
# client decodes it); and the client's peak memory doing the stream.
# Sourced by scripts/bench (helpers from scripts/bench-lib.sh).
cargo bench -q -p iot-security-api --bench stream_devices -- --warm-up-time 1 --measurement-time 5 >&2
figure iot_devices_stream "$(criterion_rate iot_devices/stream_200k 200000)" records/s
figure iot_devices_parse "$(criterion_rate iot_devices/parse_page_1000 1000)" records/s
cargo build -q --release -p iot-security-api --example stream_devices --example parse_page >&2
figure iot_devices_stream_peak_rss "$(peak_rss_mib target/release/examples/stream_devices 200000)" MiB
# Instructions per device decoded (3 rounds of a 1000-device page), repeatable under load.
if command -v valgrind >/dev/null; then
  instructions=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    --toggle-collect='parse_page::decode_pages' target/release/examples/parse_page 3 2>&1 |
    awk '/Collected :/ { print $4 }')
  figure iot_devices_parse_instructions "$((instructions / 3000))" instructions/device
fi
