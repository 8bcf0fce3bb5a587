# syslog-transport: our sender and syslog-ng's loggen against the same loopback receiver
# that discards (examples/discard_receiver.rs, one thread, 1 MiB reads; TLS records are
# decrypted in place, so the receiver is not what limits TLS), in one run.
# 300-byte RFC 5424 CEF messages, octet counting; RELP with a window of 1024.
# syslog_tls_of_tcp: our TLS rate as a percentage of our TCP rate (target: at least 70).
# Sourced by scripts/bench (helpers from scripts/bench-lib.sh).

sng_root=$(syslog_ng_root)
cargo build --release -q -p syslog-transport --example discard_receiver >&2
recv_dir=$(mktemp -d)
coproc DISCARD { exec target/release/examples/discard_receiver "$recv_dir"; }
discard_pid=$DISCARD_PID # bash unsets DISCARD_PID once the process ends
read -r recv_ports <&"${DISCARD[0]}"
recv_port() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" <<<"$recv_ports"; }

SIEMBRIDGE_BENCH_RECEIVER="$recv_ports ca=$recv_dir/ca.pem" \
  cargo bench -q -p syslog-transport --bench send -- --warm-up-time 1 --measurement-time 5 >&2

# loggen: its own average rate over 5 seconds, one connection, no rate limit.
loggen_rate() {
  LD_LIBRARY_PATH="$sng_root/usr/lib/syslog-ng" SYSLOGNG_PREFIX="$sng_root/usr" \
    "$sng_root/usr/bin/loggen" "$@" --syslog-proto --size 300 --rate 100000000 --interval 5 \
    2>&1 | sed -n 's/.*average rate = \([0-9]*\).*/\1/p'
}

figure syslog_tcp "$(criterion_rate send/tcp 10000)" msg/s
figure syslog_tcp_loggen "$(loggen_rate --inet --stream 127.0.0.1 "$(recv_port tcp)")" msg/s
figure syslog_tls "$(criterion_rate send/tls 10000)" msg/s
figure syslog_tls_of_tcp "$(( $(criterion_rate send/tls 10000) * 100 / $(criterion_rate send/tcp 10000) ))" %
figure syslog_tls_loggen "$(loggen_rate --use-ssl 127.0.0.1 "$(recv_port tls)")" msg/s
figure syslog_relp "$(criterion_rate send/relp 10000)" msg/s

eval "exec ${DISCARD[1]}>&-"
wait "$discard_pid" 2>/dev/null || true
rm -rf "$recv_dir"
