//! Every decode error: its kind, and the byte offset it names.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cef_codec::keys::KeyKind;
use cef_codec::{DecodeErrorKind, Decoder};

fn strict_error(line: &str) -> (usize, DecodeErrorKind) {
    let error = Decoder::strict().decode(line).unwrap_err();
    (error.offset(), error.kind().clone())
}

#[test]
fn invalid_utf8_names_the_first_bad_byte() {
    let error = Decoder::strict()
        .decode_bytes(b"CEF:0|V\xff|P|1|id|n|5|")
        .unwrap_err();
    assert_eq!(
        (error.offset(), error.kind()),
        (7, &DecodeErrorKind::InvalidUtf8)
    );
    assert_eq!(
        error.to_string(),
        "CEF decode error at byte 7: the line is not valid UTF-8"
    );
    let lenient = Decoder::lenient().decode_bytes(b"\xc3").unwrap_err();
    assert_eq!(lenient.kind(), &DecodeErrorKind::InvalidUtf8);
}

#[test]
fn a_line_that_is_not_cef() {
    assert_eq!(
        strict_error("LEEF:1.0|V|P|1|id|"),
        (0, DecodeErrorKind::NotCef)
    );
    assert_eq!(strict_error(""), (0, DecodeErrorKind::NotCef));
    // A syslog header is refused unless allowed.
    assert_eq!(
        strict_error("host CEF:0|V|P|1|id|n|5|"),
        (0, DecodeErrorKind::NotCef)
    );
    let no_cef = Decoder::lenient()
        .syslog_header(true)
        .decode("<13>host app: hello")
        .unwrap_err();
    assert_eq!(
        (no_cef.offset(), no_cef.kind()),
        (0, &DecodeErrorKind::NotCef)
    );
}

#[test]
fn versions_other_than_0_and_1() {
    assert_eq!(
        strict_error("CEF:2|V|P|1|id|n|5|"),
        (4, DecodeErrorKind::UnsupportedVersion)
    );
    assert_eq!(
        strict_error("CEF:"),
        (4, DecodeErrorKind::UnsupportedVersion)
    );
    assert_eq!(
        strict_error("CEF:01|V|P|1|id|n|5|"),
        (4, DecodeErrorKind::UnsupportedVersion)
    );
    let offset = Decoder::strict()
        .syslog_header(true)
        .decode("host CEF:9|")
        .unwrap_err()
        .offset();
    assert_eq!(offset, 9);
}

#[test]
fn a_header_cut_short_names_the_missing_field() {
    let cases = [
        ("CEF:0|", "vendor"),
        ("CEF:0|V", "vendor"),
        ("CEF:0|V|P", "product"),
        ("CEF:0|V|P|1", "device_version"),
        ("CEF:0|V|P|1|id", "signature_id"),
        ("CEF:0|V|P|1|id|n", "name"),
        ("CEF:0|V|P|1|id|n|5", "severity"),
    ];
    for (line, field) in cases {
        assert_eq!(
            strict_error(line),
            (line.len(), DecodeErrorKind::MissingHeaderField(field)),
            "{line}"
        );
    }
    assert_eq!(
        Decoder::lenient().decode("CEF:0|V|P").unwrap_err().kind(),
        &DecodeErrorKind::MissingHeaderField("product")
    );
}

#[test]
fn raw_line_breaks_inside_the_event() {
    assert_eq!(
        strict_error("CEF:0|V\nX|P|1|id|n|5|"),
        (7, DecodeErrorKind::RawLineBreak)
    );
    assert_eq!(
        strict_error("CEF:0|V\rX|P|1|id|n|5|"),
        (7, DecodeErrorKind::RawLineBreak)
    );
    assert_eq!(
        strict_error("CEF:0|V|P|1|id|n|5|msg=a\nb"),
        (24, DecodeErrorKind::RawLineBreak)
    );
    assert_eq!(
        strict_error("CEF:0|V|P|1|id|n|5|msg=a\rb"),
        (24, DecodeErrorKind::RawLineBreak)
    );
    assert_eq!(
        strict_error("CEF:0|V|P|1|id|n|5|msg=a\u{0}b"),
        (24, DecodeErrorKind::ControlCharacter)
    );
    assert_eq!(
        strict_error("CEF:0|V\u{1b}|P|1|id|n|5|"),
        (7, DecodeErrorKind::ControlCharacter)
    );
    assert!(
        Decoder::strict()
            .decode("CEF:0|V\tW|P|1|id|n|5|msg=a\tb")
            .is_ok()
    );
    // One final line terminator is not part of the event.
    assert!(
        Decoder::strict()
            .decode("CEF:0|V|P|1|id|n|5|msg=a\r\n")
            .is_ok()
    );
    assert!(
        Decoder::strict()
            .decode("CEF:0|V|P|1|id|n|5|msg=a\n")
            .is_ok()
    );
}

#[test]
fn invalid_escapes() {
    assert_eq!(
        strict_error(r"CEF:0|V\=|P|1|id|n|5|"),
        (7, DecodeErrorKind::InvalidEscape)
    );
    assert_eq!(
        strict_error("CEF:0|V\\"),
        (7, DecodeErrorKind::InvalidEscape)
    );
    assert_eq!(
        strict_error(r"CEF:0|V|P|1|id|n|5|msg=a\|b"),
        (24, DecodeErrorKind::InvalidEscape)
    );
    assert_eq!(
        strict_error(r"CEF:0|V|P|1|id|n|5|msg=a\ b"),
        (24, DecodeErrorKind::InvalidEscape)
    );
    assert_eq!(
        strict_error("CEF:0|V|P|1|id|n|5|msg=a\\"),
        (24, DecodeErrorKind::InvalidEscape)
    );
}

#[test]
fn invalid_severities() {
    for severity in ["11", "high", "", "Very High", "5.0"] {
        let line = format!("CEF:0|V|P|1|id|n|{severity}|");
        assert_eq!(
            strict_error(&line),
            (17, DecodeErrorKind::InvalidSeverity(severity.to_owned())),
            "{severity}"
        );
    }
    let error = Decoder::lenient()
        .decode("CEF:0|V|P|1|id|n|severe|")
        .unwrap_err();
    assert_eq!(
        error.kind(),
        &DecodeErrorKind::InvalidSeverity("severe".to_owned())
    );
    assert_eq!(
        error.to_string(),
        "CEF decode error at byte 17: invalid severity `severe`"
    );
}

#[test]
fn text_where_a_key_should_start() {
    assert_eq!(
        strict_error("CEF:0|V|P|1|id|n|5| msg=x"),
        (19, DecodeErrorKind::ExpectedKey)
    );
    assert_eq!(
        strict_error("CEF:0|V|P|1|id|n|5|=x"),
        (19, DecodeErrorKind::ExpectedKey)
    );
    assert_eq!(
        strict_error("CEF:0|V|P|1|id|n|5|msg"),
        (19, DecodeErrorKind::ExpectedKey)
    );
    assert_eq!(
        strict_error("CEF:0|V|P|1|id|n|5|ad.field=x"),
        (19, DecodeErrorKind::ExpectedKey)
    );
    let error = Decoder::lenient()
        .decode("CEF:0|V|P|1|id|n|5|just text")
        .unwrap_err();
    assert_eq!(
        (error.offset(), error.kind()),
        (19, &DecodeErrorKind::ExpectedKey)
    );
}

#[test]
fn unescaped_equals_in_a_value() {
    assert_eq!(
        strict_error("CEF:0|V|P|1|id|n|5|msg=a=b"),
        (24, DecodeErrorKind::UnescapedEquals)
    );
    assert_eq!(
        strict_error("CEF:0|V|P|1|id|n|5|moo=this =has"),
        (28, DecodeErrorKind::UnescapedEquals)
    );
}

#[test]
fn dictionary_values_of_the_wrong_type() {
    let cases = [
        ("src=10.0.0.256", "src", KeyKind::Ipv4),
        ("c6a1=fe80::zz", "c6a1", KeyKind::Ipv6),
        ("spt=65536", "spt", KeyKind::Port),
        ("cnt=1e3", "cnt", KeyKind::Int),
        ("cn1=12345678901234567890", "cn1", KeyKind::Long),
        ("cfp1=NaN", "cfp1", KeyKind::Float),
        ("dvcmac=00-0D-60-AF-1B-61", "dvcmac", KeyKind::Mac),
        ("rt=2021-03-01T21:06:06Z", "rt", KeyKind::Time),
    ];
    for (pair, key, kind) in cases {
        let line = format!("CEF:0|V|P|1|id|n|5|{pair}");
        let value_offset = 19 + key.len() + 1;
        assert_eq!(
            strict_error(&line),
            (value_offset, DecodeErrorKind::InvalidValue { key, kind }),
            "{pair}"
        );
    }
    let error = Decoder::strict()
        .decode("CEF:0|V|P|1|id|n|5|spt=x")
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "CEF decode error at byte 23: value of `spt` is not a valid port number"
    );
    // The lenient decoder does not check types.
    assert!(
        Decoder::lenient()
            .decode("CEF:0|V|P|1|id|n|5|src=somehost")
            .is_ok()
    );
}

#[test]
fn dictionary_values_of_the_right_type_pass() {
    let line = "CEF:0|V|P|1|id|n|5|src=10.0.0.1 c6a1=fe80::1 spt=65535 cnt=-3 cn1=-9007199254740993 cfp1=1.5e3 dvcmac=00:0d:60:AF:1B:61 rt=1700000000000 end=Mar 09 2015 17:05:21.123 GMT+01:00 msg=anything";
    assert_eq!(
        Decoder::strict().decode(line).unwrap().extension().len(),
        10
    );
}
