//! Golden vectors: the spec's escaping rules, and the cases that Logstash's CEF codec,
//! Python `cefevent` and `format_cef` check, written out as expected bytes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::Ipv4Addr;

use cef_codec::{CefVersion, Decoder, Event, EventBuilder, Severity, keys};

fn header<'a>(
    vendor: &'a str,
    product: &'a str,
    version: &'a str,
    id: &'a str,
    name: &'a str,
    severity: u8,
) -> EventBuilder<'a> {
    Event::builder()
        .vendor(vendor)
        .product(product)
        .device_version(version)
        .signature_id(id)
        .name(name)
        .severity(Severity::new(severity).unwrap())
}

fn encoded(event: &Event<'_>) -> String {
    String::from_utf8(event.encode()).unwrap()
}

#[test]
fn header_escapes_backslash_and_pipe_and_turns_line_breaks_into_spaces() {
    // Logstash cef_spec.rb: "should escape pipes, backslashes and line breaks in the header".
    let event = header(
        "ven\ndor",
        "pro|duct",
        "ver\\sion",
        "sig\r\nnature",
        "na\rme",
        4,
    )
    .build()
    .unwrap();
    assert_eq!(
        encoded(&event),
        r"CEF:0|ven dor|pro\|duct|ver\\sion|sig nature|na me|4|"
    );
}

#[test]
fn the_trailing_pipe_is_written_without_extension() {
    // The contract's test-connection event.
    let event = Event::builder()
        .vendor("PaloAltoNetworks")
        .product("PANWIOT")
        .device_version("1.0")
        .signature_id("Test Connection")
        .name("Test Connection")
        .severity(Severity::new(1).unwrap())
        .build()
        .unwrap();
    assert_eq!(
        encoded(&event),
        "CEF:0|PaloAltoNetworks|PANWIOT|1.0|Test Connection|Test Connection|1|"
    );
}

#[test]
fn extension_escapes_backslash_equals_and_line_breaks_but_not_pipes() {
    let event = header("V", "P", "1", "id", "n", 5)
        .vendor_field("foo", "foo\\value\n")
        .vendor_field("bar", "bar=value\r")
        .vendor_field("pipe", "foo|bar")
        .vendor_field("crlf", "foo\r\nbar\r\nbaz")
        .text(
            keys::REQUEST_CLIENT_APPLICATION,
            "Foo-Bar/2018.1.7; Guid:test=",
        )
        .build()
        .unwrap();
    // Logstash writes both CR and LF as `\n`; the spec has `\r` for CR, and keeping it makes
    // the round trip exact.
    assert_eq!(
        encoded(&event),
        r"CEF:0|V|P|1|id|n|5|foo=foo\\value\n bar=bar\=value\r pipe=foo|bar crlf=foo\r\nbar\r\nbaz requestClientApplication=Foo-Bar/2018.1.7; Guid:test\="
    );
}

#[test]
fn cefevent_vector() {
    let event = header("CEF Vendor", "CEF Product", "1.0", "0", "Test Event", 5)
        .ipv4(keys::SRC, Ipv4Addr::LOCALHOST)
        .text(keys::MSG, "Answer=42")
        .port(keys::SPT, 1234)
        .build()
        .unwrap();
    assert_eq!(
        encoded(&event),
        r"CEF:0|CEF Vendor|CEF Product|1.0|0|Test Event|5|src=127.0.0.1 msg=Answer\=42 spt=1234"
    );
}

#[test]
fn format_cef_vector() {
    let event = header(
        "acme corp",
        "TNT",
        "1.0",
        "404 | not found",
        "Explosives not found",
        10,
    )
    .text(keys::ACT, "bang = !")
    .build()
    .unwrap();
    assert_eq!(
        encoded(&event),
        r"CEF:0|acme corp|TNT|1.0|404 \| not found|Explosives not found|10|act=bang \= !"
    );
}

#[test]
fn severity_words_and_cef_1() {
    let event = header("V", "P", "1", "id", "n", 0)
        .cef_version(CefVersion::V1)
        .severity(Severity::VERY_HIGH)
        .build()
        .unwrap();
    assert_eq!(encoded(&event), "CEF:1|V|P|1|id|n|Very-High|");
}

#[test]
fn spaces_are_kept_where_they_are() {
    let event = header(" V ", "P", "1", "id", "n", 3)
        .text(keys::MSG, "  leading and trailing  ")
        .text(keys::ACT, "last ")
        .build()
        .unwrap();
    let line = encoded(&event);
    assert_eq!(
        line,
        "CEF:0| V |P|1|id|n|3|msg=  leading and trailing   act=last "
    );
    assert_eq!(Decoder::strict().decode(&line).unwrap(), event);
}

fn strict(line: &str) -> Event<'_> {
    Decoder::strict().decode(line).unwrap()
}

fn lenient(line: &str) -> Event<'_> {
    Decoder::lenient().syslog_header(true).decode(line).unwrap()
}

fn pairs<'a>(event: &'a Event<'_>) -> Vec<(&'a str, &'a str)> {
    event.extension().collect()
}

#[test]
fn decodes_the_basic_logstash_line() {
    let event = strict(
        "CEF:0|security|threatmanager|1.0|100|trojan successfully stopped|10|src=10.0.0.192 dst=12.121.122.82 spt=1232",
    );
    assert_eq!(event.vendor(), "security");
    assert_eq!(event.product(), "threatmanager");
    assert_eq!(event.device_version(), "1.0");
    assert_eq!(event.signature_id(), "100");
    assert_eq!(event.name(), "trojan successfully stopped");
    assert_eq!(event.severity(), Severity::new(10).unwrap());
    assert_eq!(
        pairs(&event),
        [
            ("src", "10.0.0.192"),
            ("dst", "12.121.122.82"),
            ("spt", "1232")
        ]
    );
}

#[test]
fn decodes_escaped_pipes_and_backslashes_in_the_header() {
    let event = strict(r"CEF:0|security\\\||threatmanager\\|1.0|100|a \| b|10|");
    assert_eq!(event.vendor(), r"security\|");
    assert_eq!(event.product(), r"threatmanager\");
    assert_eq!(event.name(), "a | b");
}

#[test]
fn decodes_escapes_in_values_including_newlines() {
    // logstash-codec-cef #69: `\n` must come out as a line break, not as `\\n`.
    let event = strict(r"CEF:0|V|P|1|id|n|5|msg=line one\nline two\r\\path\=x cs1=a|b");
    assert_eq!(
        pairs(&event),
        [("msg", "line one\nline two\r\\path=x"), ("cs1", "a|b")]
    );
}

#[test]
fn spaces_inside_values_and_extra_spaces_between_pairs() {
    let event = strict("CEF:0|V|P|1|id|n|5|dproc=InternetExplorer x.x.x.x  act=Accept");
    assert_eq!(
        pairs(&event),
        [("dproc", "InternetExplorer x.x.x.x "), ("act", "Accept")]
    );
}

#[test]
fn empty_values_are_read_as_absent() {
    let event = strict("CEF:0|V|P|1|id|n|5|msg= act=Accept cs1=");
    assert_eq!(pairs(&event), [("act", "Accept")]);
}

#[test]
fn lenient_reads_unescaped_equals_up_to_the_next_key() {
    let event = lenient("CEF:0|V|P|1|id|n|5|moo=this =has = equals\\= src=1.2.3.4");
    assert_eq!(
        pairs(&event),
        [("moo", "this =has = equals="), ("src", "1.2.3.4")]
    );
}

#[test]
fn lenient_reads_dotted_and_array_keys_and_custom_slots() {
    let event = lenient(
        "CEF:0|Elastic|Vaporware|2.0|a|b|Medium|ad.field[0]=field0 ad.Authentication=NTLM cfp15=1.5 c6a12=::1 cn7=7 cs4Label=Reason cs4=Bad",
    );
    assert_eq!(event.severity(), Severity::MEDIUM);
    assert_eq!(
        pairs(&event),
        [
            ("ad.field[0]", "field0"),
            ("ad.Authentication", "NTLM"),
            ("cfp15", "1.5"),
            ("c6a12", "::1"),
            ("cn7", "7"),
            ("cs4Label", "Reason"),
            ("cs4", "Bad"),
        ]
    );
}

#[test]
fn lenient_skips_syslog_headers_of_both_kinds() {
    let bsd =
        lenient("Syslogdate Sysloghost CEF:0|security|threatmanager|1.0|100|x|10|src=10.0.0.1");
    assert_eq!(bsd.vendor(), "security");
    let rfc5424 = lenient(
        "<14>1 2021-03-01T21:06:08.438Z host logforwarder - panwlogs - CEF:0|Palo Alto Networks|LF|2.0|THREAT|url|3|rt=Mar 01 2021 21:06:06",
    );
    assert_eq!(rfc5424.get("rt"), Some("Mar 01 2021 21:06:06"));
    let strict_with_header = Decoder::strict()
        .syslog_header(true)
        .decode("<134>Sep 19 08:26:10 host CEF:0|V|P|1|id|n|5|src=10.0.0.1\n")
        .unwrap();
    assert_eq!(strict_with_header.get("src"), Some("10.0.0.1"));
}

#[test]
fn lenient_tolerates_sloppy_producers() {
    let event = lenient("CEF:0|V|P|1|id|n|high|  msg=x\\|y \\q end=1 \r\n");
    assert_eq!(event.severity(), Severity::HIGH);
    assert_eq!(pairs(&event), [("msg", "x|y \\q"), ("end", "1")]);
    let no_final_pipe = lenient("CEF:0|V|P|1|id|n|5");
    assert_eq!(no_final_pipe.extension().len(), 0);
    let trailing_backslash = lenient("CEF:0|V|P|1|id|n|5|msg=x\\");
    assert_eq!(trailing_backslash.get("msg"), Some("x\\"));
    // Raw line breaks and controls are normalised as the builder does, so the event can be
    // written again safely.
    let header_oddities = lenient("CEF:0|a\\b|P\nQ|1|id|n|5|msg=x\u{0}y");
    assert_eq!(header_oddities.vendor(), "a\\b");
    assert_eq!(header_oddities.product(), "P Q");
    assert_eq!(header_oddities.get("msg"), Some("x\u{FFFD}y"));
    assert_eq!(
        header_oddities.to_string(),
        "CEF:0|a\\\\b|P Q|1|id|n|5|msg=x\u{FFFD}y"
    );
}

#[test]
fn decoded_text_borrows_from_the_line_when_nothing_was_escaped() {
    let line = String::from("CEF:0|V|P|1|id|n|5|msg=plain");
    let event = Decoder::strict().decode(&line).unwrap();
    let value = event.get("msg").unwrap();
    let line_range = line.as_bytes().as_ptr_range();
    assert!(line_range.contains(&value.as_ptr()));
}
