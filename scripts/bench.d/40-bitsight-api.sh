# bitsight-api: stream 100,000 synthetic findings from the loopback server through the
# client (client on one core; the server on its own thread), typed and as light pages
# (text + identity + dates, what the collector needs). Targets: >= 200,000/s, < 50 MiB.
cargo bench -q -p bitsight-api --features synthetic --bench findings_stream -- \
  --warm-up-time 1 --measurement-time 5 >&2
figure bitsight_findings_stream "$(criterion_rate bitsight/findings_stream_100k 100000)" findings/s
figure bitsight_findings_stream_light "$(criterion_rate bitsight/findings_stream_light_100k 100000)" findings/s
cargo build -q --release -p bitsight-api --features synthetic --example stream_synthetic >&2
figure bitsight_findings_stream_peak_rss "$(peak_rss_mib target/release/examples/stream_synthetic 100000)" MiB
