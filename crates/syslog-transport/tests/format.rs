//! The serializer and the framer on their own: snapshots of formatted messages, the
//! RFC's limits, and round trips of any payload through framing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bytes::BytesMut;
use proptest::prelude::*;
use syslog_transport::{
    Deframer, Encoder, Facility, FormatConfig, FormatError, Formatter, Framer, Framing, LineBreaks,
    OversizePolicy, Record, SdElement, Severity, StructuredData, SyslogFormat,
};
use time::OffsetDateTime;
use time::macros::datetime;

const WHEN: OffsetDateTime = datetime!(2026-02-05 07:08:09.010203 +01:00);
const CEF: &[u8] = b"CEF:0|Palo Alto Networks|PANWIOT|1.0|Alert|Port scan|8|src=10.0.0.1 msg=a\\=b";

fn full_config() -> FormatConfig {
    FormatConfig {
        facility: Facility::Local4,
        severity: Severity::Notice,
        hostname: Some("collector-1.example.net".into()),
        app_name: Some("iot-siem-exporter".into()),
        procid: Some("4242".into()),
        msgid: Some("ALERT".into()),
        ..FormatConfig::default()
    }
}

fn format(config: &FormatConfig, payload: &[u8]) -> String {
    let mut out = Vec::new();
    Formatter::new(config)
        .unwrap()
        .write(payload, WHEN, &mut out)
        .unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn rfc5424_messages() {
    insta::assert_snapshot!("rfc5424_full", format(&full_config(), CEF));
    insta::assert_snapshot!("rfc5424_defaults", format(&FormatConfig::default(), CEF));
    let bom = FormatConfig {
        bom: true,
        ..full_config()
    };
    insta::assert_snapshot!("rfc5424_bom", format(&bom, b"utf-8 \xC3\xA9"));
}

#[test]
fn rfc3164_messages() {
    let bsd = FormatConfig {
        format: SyslogFormat::Rfc3164,
        ..full_config()
    };
    insta::assert_snapshot!("rfc3164_full", format(&bsd, CEF));
    let no_pid = FormatConfig {
        procid: None,
        ..bsd.clone()
    };
    let mut out = Vec::new();
    Formatter::new(&no_pid)
        .unwrap()
        .write(b"day 25", datetime!(2026-12-25 23:59:59 UTC), &mut out)
        .unwrap();
    insta::assert_snapshot!("rfc3164_no_pid", String::from_utf8(out).unwrap());
}

#[test]
fn structured_data_is_validated_and_escaped() {
    let sd = StructuredData::new(vec![
        SdElement::new("origin")
            .unwrap()
            .param("ip", "10.0.0.1")
            .unwrap(),
        SdElement::new("siembridge@32473")
            .unwrap()
            .param("note", r#"quote " backslash \ bracket ] done"#)
            .unwrap(),
    ]);
    let formatter = Formatter::with_structured_data(&full_config(), &sd).unwrap();
    let mut out = Vec::new();
    formatter.write(b"msg", WHEN, &mut out).unwrap();
    insta::assert_snapshot!("rfc5424_structured_data", String::from_utf8(out).unwrap());

    let mut out = Vec::new();
    Formatter::new(&full_config())
        .unwrap()
        .write_record(
            &Record {
                payload: b"per record",
                timestamp: WHEN,
                severity: Some(Severity::Critical),
                structured_data: Some(&sd),
            },
            &mut out,
        )
        .unwrap();
    insta::assert_snapshot!("rfc5424_record", String::from_utf8(out).unwrap());

    for bad in [
        "",
        "has space",
        "a=b",
        "quote\"",
        "bracket]",
        &"x".repeat(33),
    ] {
        assert!(SdElement::new(bad).is_err(), "{bad:?} accepted as SD-ID");
        assert!(
            SdElement::new("ok").unwrap().param(bad, "v").is_err(),
            "{bad:?} accepted as PARAM-NAME"
        );
    }
}

#[test]
fn priority_is_facility_times_eight_plus_severity() {
    assert_eq!(
        syslog_transport::priority(Facility::Kern, Severity::Emergency),
        0
    );
    assert_eq!(
        syslog_transport::priority(Facility::User, Severity::Informational),
        14
    );
    assert_eq!(
        syslog_transport::priority(Facility::Local4, Severity::Notice),
        165
    );
    assert_eq!(
        syslog_transport::priority(Facility::Local7, Severity::Debug),
        191
    );
}

#[test]
fn header_fields_over_the_rfc_limits_are_refused() {
    let cases: [(FormatConfig, &str); 6] = [
        (
            FormatConfig {
                hostname: Some("h".repeat(256)),
                ..FormatConfig::default()
            },
            "hostname",
        ),
        (
            FormatConfig {
                app_name: Some("a".repeat(49)),
                ..FormatConfig::default()
            },
            "app_name",
        ),
        (
            FormatConfig {
                procid: Some("p".repeat(129)),
                ..FormatConfig::default()
            },
            "procid",
        ),
        (
            FormatConfig {
                msgid: Some("m".repeat(33)),
                ..FormatConfig::default()
            },
            "msgid",
        ),
        (
            FormatConfig {
                format: SyslogFormat::Rfc3164,
                app_name: Some("t".repeat(33)),
                ..FormatConfig::default()
            },
            "app_name",
        ),
        (
            FormatConfig {
                hostname: Some("two words".into()),
                ..FormatConfig::default()
            },
            "hostname",
        ),
    ];
    for (config, field) in cases {
        let err = Formatter::new(&config).unwrap_err();
        let named = match &err {
            FormatError::FieldTooLong { field, .. }
            | FormatError::InvalidCharacter { field, .. }
            | FormatError::EmptyField { field } => *field,
            FormatError::TimestampOutOfRange { .. } => "timestamp",
        };
        assert_eq!(named, field, "{err}");
    }
    insta::assert_snapshot!(
        "error_hostname_space",
        Formatter::new(&FormatConfig {
            hostname: Some("two words".into()),
            ..FormatConfig::default()
        })
        .unwrap_err()
        .to_string()
    );
}

#[test]
fn rfc5424_parses_back_with_syslog_loose() {
    let text = format(&full_config(), CEF);
    let parsed = syslog_loose::parse_message(&text, syslog_loose::Variant::RFC5424);
    assert_eq!(
        parsed.facility,
        Some(syslog_loose::SyslogFacility::LOG_LOCAL4)
    );
    assert_eq!(
        parsed.severity,
        Some(syslog_loose::SyslogSeverity::SEV_NOTICE)
    );
    assert_eq!(parsed.hostname, Some("collector-1.example.net"));
    assert_eq!(parsed.appname, Some("iot-siem-exporter"));
    assert_eq!(parsed.msgid, Some("ALERT"));
    assert_eq!(parsed.msg, std::str::from_utf8(CEF).unwrap());
    assert_eq!(
        parsed.timestamp.unwrap().timestamp_micros(),
        i64::try_from(WHEN.unix_timestamp_nanos() / 1000).unwrap()
    );
}

#[test]
fn framings_snapshot() {
    let message = b"<14>1 - - - - - a\nb\rc\0d";
    let mut text = String::new();
    for framing in [
        Framing::OctetCounting,
        Framing::Lf,
        Framing::Nul,
        Framing::None,
    ] {
        for breaks in [LineBreaks::Escape, LineBreaks::Space] {
            let mut out = Vec::new();
            Framer::new(framing, breaks).frame(message, &mut out);
            text.push_str(&format!(
                "{framing:?}/{breaks:?}: {:?}\n",
                String::from_utf8_lossy(&out)
            ));
        }
    }
    insta::assert_snapshot!("framings", text);
}

#[test]
fn oversize_messages_are_cut_or_refused() {
    let formatter = Formatter::new(&FormatConfig::default()).unwrap();
    let framer = Framer::new(Framing::None, LineBreaks::Escape);
    let payload = "é".repeat(100);
    let mut cut = Encoder::new(formatter.clone(), framer).with_limit(80, OversizePolicy::Truncate);
    let mut out = Vec::new();
    let outcome = cut.encode(payload.as_bytes(), WHEN, &mut out).unwrap();
    assert!(matches!(outcome, syslog_transport::Encoded::Truncated { from } if from > 80));
    assert!(out.len() <= 80 && out.len() >= 78);
    assert!(std::str::from_utf8(&out).is_ok(), "cut inside a character");

    let mut refuse = Encoder::new(formatter, framer).with_limit(80, OversizePolicy::Reject);
    let mut out = Vec::new();
    let err = refuse
        .encode(payload.as_bytes(), WHEN, &mut out)
        .unwrap_err();
    assert!(out.is_empty());
    insta::assert_snapshot!("error_oversize", err.to_string());
}

fn deframe_all(framing: Framing, wire: &[u8]) -> Vec<Vec<u8>> {
    let mut buf = BytesMut::from(wire);
    let mut deframer = Deframer::new(framing, 1 << 20);
    let mut out = Vec::new();
    while let Some(m) = deframer.next_message(&mut buf).unwrap() {
        out.push(m.to_vec());
    }
    assert!(buf.is_empty(), "bytes left over");
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Octet counting is transparent: any bytes come back exactly, message by message.
    #[test]
    fn octet_counting_round_trips_any_bytes(payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..600), 1..20)) {
        let mut encoder = Encoder::new(
            Formatter::new(&full_config()).unwrap(),
            Framer::new(Framing::OctetCounting, LineBreaks::Escape),
        );
        let mut wire = Vec::new();
        for p in &payloads {
            encoder.encode(p, WHEN, &mut wire).unwrap();
        }
        let messages = deframe_all(Framing::OctetCounting, &wire);
        prop_assert_eq!(messages.len(), payloads.len());
        for (m, p) in messages.iter().zip(&payloads) {
            let (_, body) = common::split_rfc5424(m);
            prop_assert_eq!(body, &p[..]);
        }
    }

    /// Non-transparent framing never lets a payload end its frame early or start a new
    /// one: N payloads give N frames, and payloads without break bytes come back exactly.
    #[test]
    fn delimited_frames_cannot_be_broken(
        payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 1..20),
        nul in any::<bool>(),
        space in any::<bool>(),
    ) {
        let framing = if nul { Framing::Nul } else { Framing::Lf };
        let breaks = if space { LineBreaks::Space } else { LineBreaks::Escape };
        let mut encoder = Encoder::new(Formatter::new(&full_config()).unwrap(), Framer::new(framing, breaks));
        let mut wire = Vec::new();
        for p in &payloads {
            encoder.encode(p, WHEN, &mut wire).unwrap();
        }
        let messages = deframe_all(framing, &wire);
        prop_assert_eq!(messages.len(), payloads.len());
        for (m, p) in messages.iter().zip(&payloads) {
            let (_, body) = common::split_rfc5424(m);
            let breaking = |b: &u8| if nul { *b == 0 } else { *b == b'\n' || *b == b'\r' };
            if !p.iter().any(breaking) {
                prop_assert_eq!(body, &p[..]);
            } else {
                prop_assert!(!body.iter().any(breaking));
            }
        }
    }

    /// Any UTF-8 payload formatted as RFC 5424 parses back with syslog_loose to the same
    /// header and message.
    #[test]
    fn rfc5424_parses_back(payload in "[^\\s][\\PC ]{0,200}[^\\s]", severity in 0u8..8) {
        let severities = [Severity::Emergency, Severity::Alert, Severity::Critical, Severity::Error, Severity::Warning, Severity::Notice, Severity::Informational, Severity::Debug];
        let config = FormatConfig { severity: severities[usize::from(severity)], ..full_config() };
        let text = format(&config, payload.as_bytes());
        let parsed = syslog_loose::parse_message(&text, syslog_loose::Variant::RFC5424);
        prop_assert_eq!(parsed.appname, Some("iot-siem-exporter"));
        prop_assert_eq!(parsed.severity.map(|s| s as u8), Some(severity));
        prop_assert_eq!(parsed.msg, payload.as_str());
    }
}

#[test]
fn encode_now_stamps_the_current_time_and_frames_like_encode() {
    for framing in [
        Framing::OctetCounting,
        Framing::Lf,
        Framing::Nul,
        Framing::None,
    ] {
        let mut encoder = Encoder::new(
            Formatter::new(&full_config()).unwrap(),
            Framer::new(framing, LineBreaks::Escape),
        );
        let before = OffsetDateTime::now_utc();
        let mut fast = Vec::new();
        encoder.encode_now(b"a\nb\0c", &mut fast).unwrap();
        let after = OffsetDateTime::now_utc();
        let text = String::from_utf8(fast.clone()).unwrap();
        let ts_text = text.split(' ').find(|t| t.ends_with('Z')).unwrap();
        let ts =
            OffsetDateTime::parse(ts_text, &time::format_description::well_known::Rfc3339).unwrap();
        assert!(
            ts >= before - time::Duration::microseconds(1) && ts <= after,
            "{ts} not in {before}..{after}"
        );
        // The general path, given the same instant, writes the same bytes.
        let mut slow = Vec::new();
        encoder.encode(b"a\nb\0c", ts, &mut slow).unwrap();
        assert_eq!(fast, slow, "{framing:?}");
    }
    let bsd = FormatConfig {
        format: SyslogFormat::Rfc3164,
        ..full_config()
    };
    let mut encoder = Encoder::new(
        Formatter::new(&bsd).unwrap(),
        Framer::new(Framing::Lf, LineBreaks::Space),
    );
    let mut out = Vec::new();
    encoder.encode_now(b"x", &mut out).unwrap();
    let parsed = syslog_loose::parse_message(
        std::str::from_utf8(&out).unwrap().trim_end(),
        syslog_loose::Variant::RFC3164,
    );
    assert_eq!(parsed.appname, Some("iot-siem-exporter"));
    assert_eq!(parsed.msg, "x");
}
