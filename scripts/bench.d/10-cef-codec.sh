# cef-codec: encode and decode a realistic 15-field IoT Security device event (criterion,
# pinned to one core), beside Python cefevent writing the same record in the same run.
# The headline cef_encode is what a bulk caller pays per record: typed values in, bytes out
# (cef-codec's fastest path, a HeaderTemplate made once per run writing each event straight
# into the caller's buffer, against cefevent's set_field()s + build_cef(), both escaping as
# they go). Every value is opaque to the compiler (black_box), as a record's values come from
# data. cef_encode_template_instructions counts it under callgrind (repeatable under load).
# cef_encode_from_builder is the same record from an EventBuilder per event
# (EventBuilder::encode_into), cef_encode_via_event through build() and Event::encode_into.
# cef_encode_prebuilt is writing an already built event, which in
# cef-codec is a copy of escaped text; cefevent's peer for it formats an event whose fields
# are already set.
cargo bench -q -p cef-codec --bench cef --no-run >&2
taskset -c 0 cargo bench -q -p cef-codec --bench cef -- --warm-up-time 1 --measurement-time 5 >&2
cef_encode=$(criterion_rate cef/encode 1)
figure cef_encode "$cef_encode" events/s
figure cef_encode_from_builder "$(criterion_rate cef/encode_from_builder 1)" events/s
figure cef_encode_via_event "$(criterion_rate cef/encode_via_event 1)" events/s
figure cef_encode_prebuilt "$(criterion_rate cef/encode_prebuilt 1)" events/s
figure cef_decode "$(criterion_rate cef/decode 1)" events/s
figure cef_decode_lenient "$(criterion_rate cef/decode_lenient 1)" events/s
if command -v valgrind >/dev/null; then
  cargo build -q --release -p cef-codec --example encode_many >&2
  for path in template builder; do
    instructions=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null \
      --toggle-collect="encode_many::encode_$path" target/release/examples/encode_many "$path" 10000 2>&1 |
      awk '/Collected :/ { print $4 }')
    figure "cef_encode_${path}_instructions" "$((instructions / 10000))" instructions/event
  done
fi

cef_python=$(python_venv cefevent)
read -r cef_py_encode_prebuilt cef_py_encode < <(taskset -c 0 "$cef_python" - <<'PY'
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
figure cef_encode_speedup_vs_cefevent "$(awk -v a="$cef_encode" -v b="$cef_py_encode" 'BEGIN { printf "%.0f\n", a / b }')" x
figure cef_encode_prebuilt_python_cefevent "$cef_py_encode_prebuilt" events/s
