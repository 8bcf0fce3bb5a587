# Helpers shared by the parts in scripts/bench.d/. Sourced, not run.

BENCH_PEERS="${BENCH_PEERS:-$PWD/.bench-peers}"
mkdir -p "$BENCH_PEERS"

# figure NAME VALUE UNIT: the one output format of scripts/bench.
figure() { printf '%s: %s %s\n' "$1" "$2" "$3"; }

# python_venv PKG...: a venv under .bench-peers with these PyPI packages; prints its python.
python_venv() {
  local venv="$BENCH_PEERS/venv"
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" >&2
  fi
  "$venv/bin/pip" install -q --disable-pip-version-check "$@" >&2
  echo "$venv/bin/python"
}

# syslog_ng_root: installs the real receivers when missing; prints syslog-ng's unpacked root.
syslog_ng_root() {
  if [ -z "${SIEMBRIDGE_SYSLOG_NG_ROOT:-}" ] || [ ! -x "$SIEMBRIDGE_SYSLOG_NG_ROOT/usr/sbin/syslog-ng" ]; then
    eval "$(scripts/install-receivers)"
  fi
  echo "$SIEMBRIDGE_SYSLOG_NG_ROOT"
}

# criterion_rate BENCH_ID ELEMENTS_PER_ITER: items per second from criterion's mean estimate
# (target/criterion/BENCH_ID/new/estimates.json, nanoseconds per iteration).
criterion_rate() {
  local file="target/criterion/$1/new/estimates.json"
  jq -r --argjson n "$2" '($n * 1e9 / .mean.point_estimate) | floor' "$file"
}

# peak_rss_mib CMD...: runs CMD (its stdout to stderr) and prints its peak resident memory in MiB.
peak_rss_mib() {
  local out
  out=$(mktemp)
  /usr/bin/time -f '%M' -o "$out" "$@" >&2
  awk '{ printf "%.1f\n", $1 / 1024 }' "$out"
  rm -f "$out"
}
