# bitsight-collector: collect 100,000 findings across 20 companies from a loopback synthetic
# portfolio (the real client, cursor, formatter, delivery loop and checkpoints) to a file
# sink, in each format. The synthetic server runs in the same process, so its CPU and
# memory are included. Targets (json): >= 200,000 findings/s, < 64 MiB peak RSS.
cargo build -q --release -p bitsight-collector >&2
bitsight_out=$(mktemp -d)
for bitsight_format in json xdm cef; do
  bitsight_line=$(target/release/bitsight-collector demo --companies 20 --findings-per-company 5000 \
    --format "$bitsight_format" --file "$bitsight_out/findings.$bitsight_format" 2>&1 >/dev/null \
    | grep -E "^  $bitsight_format: ")
  # "  json: 100000 findings in 0.412 s (242718 findings/s), each exactly once"
  figure "bitsight_collect_$bitsight_format" \
    "$(sed -E 's/.*\(([0-9]+) findings\/s\).*/\1/' <<<"$bitsight_line")" findings/s
done
rm -f "$bitsight_out"/findings.*
figure bitsight_collect_json_peak_rss "$(peak_rss_mib target/release/bitsight-collector demo \
  --companies 20 --findings-per-company 5000 --format json --file "$bitsight_out/findings.json")" MiB
rm -rf "$bitsight_out"
