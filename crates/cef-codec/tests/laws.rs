//! Property tests of the codec's laws.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{Ipv4Addr, Ipv6Addr};

use cef_codec::keys::{self, Key, KeyKind};
use cef_codec::{
    Band, BuildError, CefVersion, Decoder, Event, EventBuilder, EventWriter, HeaderTemplate,
    LengthPolicy, MacAddress, Severity, TemplateOptions, TimeFormat,
};
use proptest::prelude::*;
use time::OffsetDateTime;

/// Text that leans on the characters CEF treats specially, with any Unicode around them.
fn tricky_text() -> impl Strategy<Value = String> {
    let special = prop::sample::select(vec![
        "\\", "|", "=", "\n", "\r", "\r\n", " ", "  ", "\\n", "\\=", " a=", " key=x", "CEF:0|",
        "\u{0}", "\t", "é", "😀",
    ]);
    let piece = prop_oneof![
        3 => special.prop_map(str::to_owned),
        2 => "[a-zA-Z0-9_.:/-]{1,8}",
        1 => any::<String>(),
    ];
    prop::collection::vec(piece, 0..8).prop_map(|pieces| pieces.concat())
}

#[derive(Debug, Clone)]
enum Field {
    Text(keys::TextKey, String),
    Vendor(String, String),
    Label(&'static keys::KeyDef, String),
    Int(keys::IntKey, i32),
    Port(keys::PortKey, u16),
    Long(keys::LongKey, i64),
    Float(keys::FloatKey, f64),
    Ipv4(keys::Ipv4Key, Ipv4Addr),
    Ipv6(keys::Ipv6Key, Ipv6Addr),
    Mac(keys::MacKey, [u8; 6]),
    Time(keys::TimeKey, i64),
}

fn field() -> impl Strategy<Value = Field> {
    let text_keys = prop::sample::select(vec![
        keys::MSG,
        keys::ACT,
        keys::EXTERNAL_ID,
        keys::CS1,
        keys::CS6_LABEL,
        keys::DVCHOST,
        keys::FLEX_STRING2,
        keys::REQUEST,
    ]);
    let vendor_key =
        "[A-Za-z0-9_]{1,12}".prop_filter("not a dictionary key", |k| keys::lookup(k).is_none());
    let labeled = prop::sample::select(vec![
        keys::CS1.def(),
        keys::CN2.def(),
        keys::CFP3.def(),
        keys::C6A4.def(),
        keys::FLEX_DATE1.def(),
        keys::DEVICE_CUSTOM_DATE2.def(),
    ]);
    // Times within the years the text form can write.
    let millis = -62_135_596_800_000i64..253_402_300_799_000;
    prop_oneof![
        4 => (text_keys, tricky_text()).prop_map(|(k, v)| Field::Text(k, v)),
        2 => (vendor_key, tricky_text()).prop_map(|(k, v)| Field::Vendor(k, v)),
        1 => (labeled, tricky_text()).prop_map(|(k, v)| Field::Label(k, v)),
        1 => any::<i32>().prop_map(|v| Field::Int(keys::CNT, v)),
        1 => any::<u16>().prop_map(|v| Field::Port(keys::DPT, v)),
        1 => any::<i64>().prop_map(|v| Field::Long(keys::CN1, v)),
        1 => any::<f64>().prop_filter("finite", |v| v.is_finite()).prop_map(|v| Field::Float(keys::CFP2, v)),
        1 => any::<u32>().prop_map(|v| Field::Ipv4(keys::SRC, Ipv4Addr::from(v))),
        1 => any::<u128>().prop_map(|v| Field::Ipv6(keys::C6A3, Ipv6Addr::from(v))),
        1 => any::<[u8; 6]>().prop_map(|v| Field::Mac(keys::SMAC, v)),
        1 => millis.prop_map(|v| Field::Time(keys::RT, v)),
    ]
}

fn severity() -> impl Strategy<Value = Severity> {
    prop_oneof![
        (0u8..=10).prop_map(|l| Severity::new(l).unwrap()),
        prop::sample::select(vec![
            Band::Unknown,
            Band::Low,
            Band::Medium,
            Band::High,
            Band::VeryHigh
        ])
        .prop_map(Severity::from),
    ]
}

#[derive(Debug, Clone)]
struct Spec {
    v1: bool,
    header: [String; 5],
    severity: Severity,
    fields: Vec<Field>,
    text_times: bool,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        any::<bool>(),
        [
            tricky_text(),
            tricky_text(),
            tricky_text(),
            tricky_text(),
            tricky_text(),
        ],
        severity(),
        prop::collection::vec(field(), 0..16),
        any::<bool>(),
    )
        .prop_map(|(v1, header, severity, fields, text_times)| Spec {
            v1,
            header,
            severity,
            fields,
            text_times,
        })
}

fn build(spec: &Spec) -> Event<'_> {
    builder(spec).build().unwrap()
}

fn builder(spec: &Spec) -> EventBuilder<'_> {
    spec.fields.iter().fold(header(spec, None), add)
}

/// A builder with the spec's header and time format, without header field `missing`
/// (0-4 the text fields, 5 the severity).
fn header(spec: &Spec, missing: Option<u8>) -> EventBuilder<'_> {
    let [vendor, product, version, id, name] = &spec.header;
    let mut builder: EventBuilder<'_> = Event::builder()
        .cef_version(if spec.v1 {
            CefVersion::V1
        } else {
            CefVersion::V0
        })
        .time_format(if spec.text_times {
            TimeFormat::Text
        } else {
            TimeFormat::EpochMillis
        });
    let set = |field: u8| missing != Some(field);
    if set(0) {
        builder = builder.vendor(vendor.as_str());
    }
    if set(1) {
        builder = builder.product(product.as_str());
    }
    if set(2) {
        builder = builder.device_version(version.as_str());
    }
    if set(3) {
        builder = builder.signature_id(id.as_str());
    }
    if set(4) {
        builder = builder.name(name.as_str());
    }
    if set(5) {
        builder = builder.severity(spec.severity);
    }
    builder
}

fn add<'a>(builder: EventBuilder<'a>, field: &'a Field) -> EventBuilder<'a> {
    match field {
        Field::Text(k, v) => builder.text(*k, v.as_str()),
        Field::Vendor(k, v) => builder.vendor_field(k, v.as_str()),
        Field::Label(def, v) => match def.kind() {
            KeyKind::Text { .. } => builder.label(keys::CS1, v.as_str()),
            KeyKind::Long => builder.label(keys::CN2, v.as_str()),
            KeyKind::Float => builder.label(keys::CFP3, v.as_str()),
            KeyKind::Ipv6 => builder.label(keys::C6A4, v.as_str()),
            _ if def.name() == "flexDate1" => builder.label(keys::FLEX_DATE1, v.as_str()),
            _ => builder.label(keys::DEVICE_CUSTOM_DATE2, v.as_str()),
        },
        Field::Int(k, v) => builder.int(*k, *v),
        Field::Port(k, v) => builder.port(*k, *v),
        Field::Long(k, v) => builder.long(*k, *v),
        Field::Float(k, v) => builder.float(*k, *v),
        Field::Ipv4(k, v) => builder.ipv4(*k, *v),
        Field::Ipv6(k, v) => builder.ipv6(*k, *v),
        Field::Mac(k, v) => builder.mac(*k, MacAddress(*v)),
        Field::Time(k, v) => builder.time(*k, millis(*v)),
    }
}

fn millis(millis: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).unwrap()
}

/// A mistake, or a late setting that changes what the pairs before it become.
#[derive(Debug, Clone)]
enum Twist {
    RejectLongValues,
    SwitchTimeFormat,
    NotFinite,
    InvalidVendorKey,
    DictionaryKeyAsVendorKey,
    NoLabelSlot,
    /// A header field left unset, as [`header`] numbers them.
    MissingHeader(u8),
    /// A time the text format cannot write (year 0 or before), in milliseconds.
    AncientTime(i64),
}

fn twist() -> impl Strategy<Value = Twist> {
    prop_oneof![
        3 => Just(Twist::RejectLongValues),
        3 => Just(Twist::SwitchTimeFormat),
        1 => Just(Twist::NotFinite),
        1 => Just(Twist::InvalidVendorKey),
        1 => Just(Twist::DictionaryKeyAsVendorKey),
        1 => Just(Twist::NoLabelSlot),
        1 => (0u8..6).prop_map(Twist::MissingHeader),
        2 => (-377_705_116_800_000i64..-62_135_596_800_001).prop_map(Twist::AncientTime),
    ]
}

/// The spec's builder with the twists, each after the field its index picks.
fn twisted<'a>(spec: &'a Spec, twists: &[(prop::sample::Index, Twist)]) -> EventBuilder<'a> {
    let missing = twists.iter().find_map(|(_, twist)| match twist {
        Twist::MissingHeader(field) => Some(*field),
        _ => None,
    });
    let mut text_times = spec.text_times;
    let mut builder = header(spec, missing);
    for at in 0..=spec.fields.len() {
        for (_, twist) in twists
            .iter()
            .filter(|(index, _)| index.index(spec.fields.len() + 1) == at)
        {
            builder = match twist {
                Twist::RejectLongValues => builder.length_policy(LengthPolicy::Reject),
                Twist::SwitchTimeFormat => {
                    text_times = !text_times;
                    builder.time_format(if text_times {
                        TimeFormat::Text
                    } else {
                        TimeFormat::EpochMillis
                    })
                }
                Twist::NotFinite => builder.float(keys::CFP1, f64::NAN),
                Twist::InvalidVendorKey => builder.vendor_field("bad key", "x"),
                Twist::DictionaryKeyAsVendorKey => builder.vendor_field("msg", "x"),
                Twist::NoLabelSlot => builder.label(keys::SRC, "x"),
                Twist::MissingHeader(_) => builder,
                Twist::AncientTime(at) => builder.time(keys::END, millis(*at)),
            };
        }
        if let Some(field) = spec.fields.get(at) {
            builder = add(builder, field);
        }
    }
    builder
}

/// Header text for a template: usually tricky, sometimes over the vendor, product, device
/// version or name limits.
fn header_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => tricky_text(),
        1 => "[a-zé|\\\\\n]{25,70}",
        1 => "[a-zé=]{505,520}",
    ]
}

fn add_to_writer<'o>(writer: EventWriter<'o>, field: &Field) -> EventWriter<'o> {
    match field {
        Field::Text(k, v) => writer.text(*k, v),
        Field::Vendor(k, v) => writer.vendor_field(k, v),
        Field::Label(def, v) => match def.kind() {
            KeyKind::Text { .. } => writer.label(keys::CS1, v),
            KeyKind::Long => writer.label(keys::CN2, v),
            KeyKind::Float => writer.label(keys::CFP3, v),
            KeyKind::Ipv6 => writer.label(keys::C6A4, v),
            _ if def.name() == "flexDate1" => writer.label(keys::FLEX_DATE1, v),
            _ => writer.label(keys::DEVICE_CUSTOM_DATE2, v),
        },
        Field::Int(k, v) => writer.int(*k, *v),
        Field::Port(k, v) => writer.port(*k, *v),
        Field::Long(k, v) => writer.long(*k, *v),
        Field::Float(k, v) => writer.float(*k, *v),
        Field::Ipv4(k, v) => writer.ipv4(*k, *v),
        Field::Ipv6(k, v) => writer.ipv6(*k, *v),
        Field::Mac(k, v) => writer.mac(*k, MacAddress(*v)),
        Field::Time(k, v) => writer.time(*k, millis(*v)),
    }
}

/// A mistake in a method call, or a time the text format cannot write, as the template
/// path can meet them (its settings are fixed, and it has no unset header field).
fn writer_twist() -> impl Strategy<Value = Twist> {
    prop_oneof![
        1 => Just(Twist::NotFinite),
        1 => Just(Twist::InvalidVendorKey),
        1 => Just(Twist::DictionaryKeyAsVendorKey),
        1 => Just(Twist::NoLabelSlot),
        2 => (-377_705_116_800_000i64..-62_135_596_800_001).prop_map(Twist::AncientTime),
    ]
}

/// Writes the spec with a template into `out`, and builds it with a builder set up the same
/// way, each twist applied to both after the field its index picks. The outer error is the
/// template's own, which leaves the builder untwisted.
fn template_and_builder<'a>(
    spec: &'a Spec,
    reject: bool,
    twists: &[(prop::sample::Index, Twist)],
    out: &mut Vec<u8>,
) -> (Result<Result<(), BuildError>, BuildError>, EventBuilder<'a>) {
    let policy = if reject {
        LengthPolicy::Reject
    } else {
        LengthPolicy::Truncate
    };
    let mut builder = header(spec, None).length_policy(policy);
    let [vendor, product, version, id, name] = &spec.header;
    let options = TemplateOptions::default()
        .cef_version(if spec.v1 {
            CefVersion::V1
        } else {
            CefVersion::V0
        })
        .length_policy(policy)
        .time_format(if spec.text_times {
            TimeFormat::Text
        } else {
            TimeFormat::EpochMillis
        });
    let template = match HeaderTemplate::with_options(vendor, product, version, options) {
        Ok(template) => template,
        Err(error) => return (Err(error), spec.fields.iter().fold(builder, add)),
    };
    let mut writer = template.event(out, id, name, spec.severity);
    for at in 0..=spec.fields.len() {
        for (_, twist) in twists
            .iter()
            .filter(|(index, _)| index.index(spec.fields.len() + 1) == at)
        {
            (builder, writer) = match twist {
                Twist::NotFinite => (
                    builder.float(keys::CFP1, f64::NAN),
                    writer.float(keys::CFP1, f64::NAN),
                ),
                Twist::InvalidVendorKey => (
                    builder.vendor_field("bad key", "x"),
                    writer.vendor_field("bad key", "x"),
                ),
                Twist::DictionaryKeyAsVendorKey => (
                    builder.vendor_field("msg", "x"),
                    writer.vendor_field("msg", "x"),
                ),
                Twist::NoLabelSlot => (builder.label(keys::SRC, "x"), writer.label(keys::SRC, "x")),
                Twist::AncientTime(at) => (
                    builder.time(keys::END, millis(*at)),
                    writer.time(keys::END, millis(*at)),
                ),
                _ => (builder, writer),
            };
        }
        if let Some(field) = spec.fields.get(at) {
            builder = add(builder, field);
            writer = add_to_writer(writer, field);
        }
    }
    (Ok(writer.finish()), builder)
}

/// Positions of the `|` that are not escaped, reading escapes as pairs.
fn unescaped_pipes(line: &[u8]) -> Vec<usize> {
    let mut pipes = Vec::new();
    let mut at = 0;
    while let Some(&byte) = line.get(at) {
        match byte {
            b'\\' => at += 2,
            b'|' => {
                pipes.push(at);
                at += 1;
            }
            _ => at += 1,
        }
    }
    pipes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn strict_decoding_reads_back_what_was_encoded(spec in spec()) {
        let event = build(&spec);
        let line = event.encode();
        let decoded = Decoder::strict().decode_bytes(&line).unwrap();
        prop_assert_eq!(&decoded, &event);
        prop_assert_eq!(decoded.encode(), line);
        // With a line terminator and a syslog header too.
        let framed = format!("<134>Nov 24 04:00:00 host {event}\n");
        prop_assert_eq!(Decoder::strict().syslog_header(true).decode(&framed).unwrap(), event);
    }

    #[test]
    fn the_builder_writes_what_build_then_encode_writes(
        spec in spec(),
        twists in prop::collection::vec((any::<prop::sample::Index>(), twist()), 0..3),
    ) {
        let builder = twisted(&spec, &twists);
        let mut direct = b"earlier bytes stay ".to_vec();
        let written = builder.clone().encode_into(&mut direct);
        match (written, builder.build()) {
            (Ok(()), Ok(event)) => {
                let line = event.encode();
                prop_assert_eq!(&direct[19..], line.as_slice());
                // And the built event reads back as the decoder reads the line.
                prop_assert_eq!(Decoder::strict().decode_bytes(&direct[19..]).unwrap(), event);
            }
            (Err(direct_error), Err(built_error)) => {
                prop_assert_eq!(direct_error, built_error);
                prop_assert_eq!(direct.as_slice(), b"earlier bytes stay ".as_slice());
            }
            (written, built) => prop_assert!(false, "encode_into: {:?}, build: {:?}", written, built),
        }
    }

    #[test]
    fn a_template_writes_what_the_builder_writes(
        (spec, reject) in (spec(), [header_text(), header_text(), header_text(), header_text(), header_text()], any::<bool>())
            .prop_map(|(spec, header, reject)| (Spec { header, ..spec }, reject)),
        twists in prop::collection::vec((any::<prop::sample::Index>(), writer_twist()), 0..3),
    ) {
        let mut written = b"earlier bytes stay ".to_vec();
        let (result, builder) = template_and_builder(&spec, reject, &twists, &mut written);
        let mut line = b"earlier bytes stay ".to_vec();
        let built = builder.encode_into(&mut line);
        match (result, built) {
            (Ok(Ok(())), Ok(())) => prop_assert_eq!(written, line),
            // A refused template is refused when it is made, before any pair is added: the
            // builder with the same header and pairs refuses it the same way.
            (Ok(Err(template_error)) | Err(template_error), Err(builder_error)) => {
                prop_assert_eq!(template_error, builder_error);
                prop_assert_eq!(written.as_slice(), b"earlier bytes stay ".as_slice());
                prop_assert_eq!(line.as_slice(), b"earlier bytes stay ".as_slice());
            }
            (result, built) => prop_assert!(false, "template: {:?}, builder: {:?}", result, built),
        }
    }

    #[test]
    fn lenient_decoding_agrees_when_the_last_value_has_no_trailing_space(spec in spec()) {
        let event = build(&spec);
        let ends_clean = event.extension().last().is_none_or(|(_, v)| v.trim_end() == v);
        let line = event.to_string();
        if ends_clean {
            prop_assert_eq!(Decoder::lenient().decode(&line).unwrap(), event);
        }
    }

    #[test]
    fn no_encoded_line_holds_a_raw_line_break(spec in spec()) {
        let line = build(&spec).encode();
        prop_assert!(!line.contains(&b'\n') && !line.contains(&b'\r'));
        prop_assert!(!line.contains(&0));
    }

    #[test]
    fn the_header_has_exactly_seven_separators(spec in spec()) {
        let event = build(&spec);
        let line = event.encode();
        let pipes = unescaped_pipes(&line);
        let value_pipes: usize = event.extension().map(|(_, v)| v.matches('|').count()).sum();
        prop_assert_eq!(pipes.len(), 7 + value_pipes);
        // The seventh closes the severity, and everything after it is the extension.
        let extension_start = pipes[6] + 1;
        let header = std::str::from_utf8(&line[..extension_start]).unwrap();
        let closing = format!("|{}|", event.severity());
        prop_assert!(header.ends_with(&closing), "{} does not end with {}", header, closing);
        prop_assert_eq!(extension_start == line.len(), event.extension().len() == 0);
    }

    #[test]
    fn encoded_length_display_and_buffer_agree(spec in spec()) {
        let event = build(&spec);
        let mut buffer = b"earlier bytes stay ".to_vec();
        event.encode_into(&mut buffer);
        let line = event.to_string();
        prop_assert_eq!(&buffer[19..], line.as_bytes());
        prop_assert_eq!(event.encoded_len(), line.len());
    }

    #[test]
    fn truncation_keeps_a_prefix_within_the_limit(text in tricky_text(), reject in any::<bool>()) {
        let policy = if reject { LengthPolicy::Reject } else { LengthPolicy::Truncate };
        let built = Event::builder()
            .vendor("V").product("P").device_version("1").signature_id("i").name("n")
            .severity(Severity::LOW)
            .length_policy(policy)
            .text(keys::THREAT_ATTACK_ID, text.as_str())
            .build();
        let cleaned: String = text.chars().map(|c| if c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r') { '\u{FFFD}' } else { c }).collect();
        match built {
            Ok(event) => {
                let value = event.get("threatAttackID").unwrap_or("");
                prop_assert!(value.chars().count() <= 32);
                prop_assert!(cleaned.starts_with(value));
                prop_assert!(reject || value.chars().count() == cleaned.chars().count().min(32));
                prop_assert!(!reject || value == cleaned);
            }
            Err(error) => {
                prop_assert!(reject && cleaned.chars().count() > 32, "{error}");
            }
        }
    }

    #[test]
    fn decoders_never_panic_and_their_events_encode_safely(line in tricky_text(), prefix in prop::sample::select(vec!["", "CEF:0|", "CEF:1|a|b|c|d|e|5|", "host CEF:0|V|P|1|i|n|Low|k="])) {
        let line = format!("{prefix}{line}");
        for decoder in [Decoder::strict(), Decoder::lenient()] {
            for syslog in [false, true] {
                // Whatever was read can be written again safely.
                if let Ok(event) = decoder.syslog_header(syslog).decode(&line) {
                    let again = event.encode();
                    prop_assert!(!again.iter().any(|b| b.is_ascii_control() && *b != b'\t'));
                    prop_assert_eq!(unescaped_pipes(event.header_text().as_bytes()).len(), 7);
                }
            }
        }
    }
}
