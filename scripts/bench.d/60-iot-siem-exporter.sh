# iot-siem-exporter: bulk export of 40,000 devices, alerts and vulnerabilities from a
# loopback synthetic tenant (rate limit lifted) to a loopback TLS receiver, release build,
# beside a straightforward Python exporter against the same tenant and receiver.
# Sourced by scripts/bench (helpers from scripts/bench-lib.sh).

cargo build --release -q -p iot-siem-exporter >&2
iot_bin="$PWD/target/release/iot-siem-exporter"
iot_dir=$(mktemp -d)

# The tenant and the receivers run in their own process, so the figures are the
# exporter's. Each exporter sends to a receiver of its own (ours: config.toml, the peer:
# endpoints.json), so the counts say what each one delivered.
coproc IOT_SERVE { "$iot_bin" serve-synthetic --dir "$iot_dir" --devices 40000 --alerts 40000 --vulnerabilities 40000; }
read -r _ <&"${IOT_SERVE[0]}"

iot_start=$(date +%s.%N)
iot_rss=$(peak_rss_mib "$iot_bin" bulk --config "$iot_dir/config.toml")
iot_end=$(date +%s.%N)
figure iot_bulk_export_120k "$(echo "$iot_end - $iot_start" | bc -l | xargs printf '%.2f')" s
figure iot_bulk_export_peak_rss "$iot_rss" MiB

# The peer: page through the same API with requests, write naive CEF, send it over TLS
# with octet counting. What a careful script would do, nothing more.
iot_python=$(python_venv requests)
cat > "$iot_dir/peer.py" <<'PY'
import json, socket, ssl, sys, datetime
import requests

ep = json.load(open(sys.argv[1]))
session = requests.Session()
session.headers.update({"X-Key-Id": ep["key_id"], "X-Access-Key": ep["access_key"]})
context = ssl.create_default_context(cafile=ep["ca_file"])
sock = context.wrap_socket(socket.create_connection(("127.0.0.1", ep["syslog_port"])),
                           server_hostname="127.0.0.1")

def esc(value):
    return str(value).replace("\\", "\\\\").replace("=", "\\=").replace("\n", "\\n").replace("\r", "\\r")

def head(value):
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")

def send(lines):
    out = bytearray()
    now = datetime.datetime.now(datetime.timezone.utc).isoformat()
    for line in lines:
        msg = ("<14>1 %s peer iot-peer - - - %s" % (now, line)).encode()
        out += b"%d " % len(msg) + msg
    sock.sendall(out)

for path, key, sig in (("device/list", "devices", "asset"),
                       ("alert/list", "items", "alert"),
                       ("vulnerability/list", "items", "vulnerability")):
    offset = 0
    while True:
        params = {"customerid": ep["customer_id"], "offset": offset, "pagelength": 1000}
        if sig == "asset":
            params["detail"] = "true"
        if sig == "vulnerability":
            params["groupby"] = "device"
        page = session.get(ep["url"] + "/pub/v4.0/" + path, params=params).json()[key]
        lines = []
        for record in page:
            ext = " ".join("%s=%s" % (k.replace("/", "_"), esc(v)) for k, v in record.items()
                           if v not in (None, "", [], {}))
            lines.append("CEF:0|PaloAltoNetworks|PANWIOT|1.0|%s|%s|1|%s"
                         % (sig, head(record.get("name", sig)), ext))
        send(lines)
        if len(page) < 1000:
            break
        offset += 1000
sock.close()
PY
py_start=$(date +%s.%N)
py_rss=$(peak_rss_mib "$iot_python" "$iot_dir/peer.py" "$iot_dir/endpoints.json")
py_end=$(date +%s.%N)
figure iot_bulk_export_120k_python "$(echo "$py_end - $py_start" | bc -l | xargs printf '%.2f')" s
figure iot_bulk_export_peak_rss_python "$py_rss" MiB

# Closing its stdin ends the server: it waits until both counts settle, then prints
# `received OURS peer PEER`.
exec {IOT_SERVE[1]}>&-
iot_received=
read -r _ iot_received _ iot_peer_received <&"${IOT_SERVE[0]}" || true
wait "$IOT_SERVE_PID" 2>/dev/null || true
figure iot_bulk_export_received "${iot_received:-0}" records
echo "# receivers: ours ${iot_received:-?} of 120000, the Python peer's ${iot_peer_received:-?} of 120000" >&2
rm -rf "$iot_dir"
