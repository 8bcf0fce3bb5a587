# cef-codec: encode and decode a realistic 15-field IoT Security device event (criterion,
# pinned to one core), beside Python cefevent writing the same record in the same run.
# cefevent escapes in set_field() and only formats in build_cef(), as cef-codec escapes in
# build() and only copies in encode_into(): so encode is compared with build_cef(), and
# build+encode with set_field()s+build_cef().
cargo bench -q -p cef-codec --bench cef --no-run >&2
taskset -c 0 cargo bench -q -p cef-codec --bench cef -- --warm-up-time 1 --measurement-time 5 >&2
cef_encode=$(criterion_rate cef/encode 1)
cef_build_encode=$(criterion_rate cef/build_encode 1)
figure cef_encode "$cef_encode" events/s
figure cef_decode "$(criterion_rate cef/decode 1)" events/s
figure cef_decode_lenient "$(criterion_rate cef/decode_lenient 1)" events/s
figure cef_build_encode "$cef_build_encode" events/s

cef_python=$(python_venv cefevent)
read -r cef_py_encode cef_py_build_encode < <(taskset -c 0 "$cef_python" - <<'PY'
import time

from cefevent import CEFEvent

# The record of crates/cef-codec/benches/cef.rs.

HEADER = [
    ("deviceVendor", "PaloAltoNetworks"),
    ("deviceProduct", "PANWIOT"),
    ("deviceVersion", "1.0"),
    ("signatureId", "asset"),
    ("name", "Asset Identification"),
    ("severity", 1),
]
FIELDS = [
    ("deviceExternalId", "a4:5e:60:c2:11:01"),
    ("dvchost", "infusion-pump-03"),
    ("src", "10.12.40.7"),
    ("deviceMacAddress", "A4:5E:60:C2:11:01"),  # cefevent has no `dvcmac`
    ("cs1Label", "Profile"),
    ("cs1", "BD Alaris Infusion Pump"),
    ("cs2Label", "Category"),
    ("cs2", "Infusion System"),
    ("cs3Label", "Vendor"),
    ("cs3", "Becton, Dickinson and Company"),
    ("cs4Label", "Site"),
    ("cs4", "Ward 3 = East wing"),
    ("rt", 1795492800250),
    ("cn1Label", "Risk score"),
    ("cn1", 72),
]


def build():
    event = CEFEvent(strict=True)
    for name, value in HEADER + FIELDS:
        event.set_field(name, value)
    return event


def rate(work, seconds=2.0):
    """Calls per second of work(), over about `seconds`."""
    calls, start = 0, time.perf_counter()
    while True:
        for _ in range(200):
            work()
        calls += 200
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return int(calls / elapsed)


event = build()
assert event.build_cef().count("=") >= 15, event.build_cef()
print(rate(event.build_cef), rate(lambda: build().build_cef()))
PY
)
figure cef_encode_python_cefevent "$cef_py_encode" events/s
figure cef_build_encode_python_cefevent "$cef_py_build_encode" events/s
figure cef_encode_speedup_vs_cefevent "$(awk -v a="$cef_encode" -v b="$cef_py_encode" 'BEGIN { printf "%.0f\n", a / b }')" x
figure cef_build_encode_speedup_vs_cefevent "$(awk -v a="$cef_build_encode" -v b="$cef_py_build_encode" 'BEGIN { printf "%.0f\n", a / b }')" x
