# bitsight-collector: collect 100,000 findings across 20 companies from a loopback synthetic
# portfolio to a file sink, in each format, with `run --once` (the real client, cursor,
# formatter, delivery loop, file sink and per-batch durable cursor commits). The
# synthetic API runs in a process of its own, so the figures are the collector's:
# findings/s over the process's whole life (start to exit) and its peak RSS.
# Targets (json): >= 200,000 findings/s, < 64 MiB peak RSS.
cargo build -q --release -p bitsight-collector >&2
bitsight_bin="$PWD/target/release/bitsight-collector"
bitsight_dir=$(mktemp -d)

coproc BITSIGHT_SERVE { "$bitsight_bin" serve-synthetic --dir "$bitsight_dir" --companies 20 --findings-per-company 5000; }
# "ready 100000"
read -r _ bitsight_served <&"${BITSIGHT_SERVE[0]}"

for bitsight_format in json xdm cef; do
  bitsight_start=$(date +%s.%N)
  bitsight_rss=$(peak_rss_mib "$bitsight_bin" run --once --config "$bitsight_dir/$bitsight_format.toml")
  bitsight_end=$(date +%s.%N)
  bitsight_lines=$(wc -l <"$bitsight_dir/out.$bitsight_format")
  if [ "$bitsight_lines" -ne "$bitsight_served" ]; then
    echo "bitsight-collector $bitsight_format: $bitsight_lines records for $bitsight_served findings" >&2
  fi
  figure "bitsight_collect_$bitsight_format" \
    "$(echo "$bitsight_lines / ($bitsight_end - $bitsight_start)" | bc -l | xargs printf '%.0f')" findings/s
  figure "bitsight_collect_${bitsight_format}_peak_rss" "$bitsight_rss" MiB
  rm -f "$bitsight_dir/out.$bitsight_format"
done

exec {BITSIGHT_SERVE[1]}>&-
# "requests N": API requests the three runs made (pages, company lists, ...).
read -r _ bitsight_requests <&"${BITSIGHT_SERVE[0]}" || true
wait "$BITSIGHT_SERVE_PID" 2>/dev/null || true
figure bitsight_collect_api_requests_per_run "$(( ${bitsight_requests:-0} / 3 ))" requests
rm -rf "$bitsight_dir"
