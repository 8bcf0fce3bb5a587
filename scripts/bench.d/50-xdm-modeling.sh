# xdm-modeling: `xif run` with siembridge's Bitsight rule over 200,000 synthetic findings
# (NDJSON in and out, one core), beside jq running the same mapping over the same file.
xdm_events=200000
cargo build -q --release -p xif >&2
cargo build -q --release -p xdm-modeling --example bitsight_findings >&2
xdm_input="$BENCH_PEERS/bitsight-findings-$xdm_events.ndjson"
[ -s "$xdm_input" ] || target/release/examples/bitsight_findings "$xdm_events" > "$xdm_input"
xdm_dir=fixtures/modeling-rules/bitsight

# rate SECONDS: events per second, whole.
xdm_rate() { awk -v n="$xdm_events" -v s="$1" 'BEGIN { printf "%d\n", n / s }'; }
# seconds CMD...: wall time of CMD, its output discarded.
xdm_seconds() {
  local start end
  start=$(date +%s.%N)
  "$@" > /dev/null
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.4f\n", b - a }'
}

xdm_xif_s=$(xdm_seconds taskset -c 0 target/release/xif run "$xdm_dir/Bitsight.xif" \
  --schema "$xdm_dir/Bitsight_schema.json" --dataset bitsight_bitsight_raw "$xdm_input" 2>/dev/null)
figure xif_run_bitsight "$(xdm_rate "$xdm_xif_s")" events/s
xdm_jq_s=$(xdm_seconds taskset -c 0 jq -c -f "$xdm_dir/bitsight.jq" "$xdm_input")
figure xif_run_bitsight_jq "$(xdm_rate "$xdm_jq_s")" events/s
