//! Turning findings and alerts into records: raw JSON, XDM (through the modeling rule)
//! or CEF (the mapping in `docs/cef-mapping.md`).

use std::net::IpAddr;

use bitsight_api::{Alert, Finding, LightFinding};
use bytes::Bytes;
use cef_codec::{Event, Severity, keys};
use serde_json::{Map, Value};
use siem_pipeline::config::RecordFormat;
use time::{Date, OffsetDateTime};
use xdm_modeling::Model;

/// `_vendor` and `_product` of every event, and the CEF vendor.
pub const VENDOR: &str = "Bitsight";
/// The CEF product.
pub const CEF_PRODUCT: &str = "Security Performance Management";
/// The CEF device version: this collector's version.
pub const CEF_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// A finding delivered for the first time.
    Finding,
    /// A finding delivered again because its last-seen date moved.
    FindingUpdate,
    /// An alert from `/ratings/v2/alerts`.
    Alert,
}

impl EventKind {
    /// The `event_kind` value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Finding => "finding",
            Self::FindingUpdate => "finding_update",
            Self::Alert => "alert",
        }
    }
}

/// A record could not be formatted.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The JSON event could not be built or read back.
    #[error("cannot build the JSON event: {0}")]
    Json(#[from] serde_json::Error),
    /// The modeling rule refused the event.
    #[error("the modeling rule cannot model the event: {0}")]
    Model(#[from] xdm_modeling::ApplyError),
    /// The CEF encoder refused the event.
    #[error("cannot build the CEF event: {0}")]
    Cef(#[from] cef_codec::BuildError),
}

/// Formats events in one of the three formats.
#[derive(Debug)]
pub enum Formatter {
    /// The event whole, plus the collector's fields.
    Json,
    /// Flat XDM keys from a modeling rule.
    Xdm(Box<Model>),
    /// One CEF line.
    Cef,
}

/// The company a record belongs to.
#[derive(Debug, Clone, Copy)]
pub struct CompanyRef<'a> {
    /// Its GUID.
    pub guid: &'a str,
    /// Its name, when known.
    pub name: Option<&'a str>,
}

/// RFC 3339 UTC midnight of `date`.
#[must_use]
pub fn midnight_rfc3339(date: Date) -> String {
    let mut out = Vec::with_capacity(20);
    push_midnight_rfc3339(&mut out, date);
    // Only ASCII digits, signs and punctuation were written.
    String::from_utf8(out).unwrap_or_default()
}

/// Appends RFC 3339 UTC midnight of `date` (`2026-11-20T00:00:00Z`).
fn push_midnight_rfc3339(out: &mut Vec<u8>, date: Date) {
    let year = date.year();
    if let Ok(year @ 0..=9999) = u16::try_from(year) {
        push_digits(out, year, 4);
    } else {
        // Outside RFC 3339's four digits: a sign and the whole year, as `time` writes it.
        out.extend_from_slice(format!("{year:+05}").as_bytes());
    }
    out.push(b'-');
    push_digits(out, u16::from(u8::from(date.month())), 2);
    out.push(b'-');
    push_digits(out, u16::from(date.day()), 2);
    out.extend_from_slice(b"T00:00:00Z");
}

/// Appends the last `width` decimal digits of `value`, zero padded.
fn push_digits(out: &mut Vec<u8>, value: u16, width: u32) {
    for place in (0..width).rev() {
        let digit = (value / 10u16.pow(place)) % 10;
        // A digit is below 10, so it fits a byte.
        #[allow(clippy::cast_possible_truncation)]
        out.push(b'0' + digit as u8);
    }
}

/// Appends `text` as a JSON string, exactly as serde_json writes it: plain text (the
/// usual GUID or company name) is copied, anything needing an escape goes to serde_json.
fn push_json_str(out: &mut Vec<u8>, text: &str) -> Result<(), serde_json::Error> {
    if text.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        return serde_json::to_writer(out, text);
    }
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
    Ok(())
}

fn added_fields(
    time: Option<Date>,
    company: CompanyRef<'_>,
    kind: EventKind,
) -> Map<String, Value> {
    let mut added = Map::with_capacity(6);
    if let Some(date) = time {
        added.insert("_time".into(), Value::String(midnight_rfc3339(date)));
    }
    added.insert("_vendor".into(), VENDOR.into());
    added.insert("_product".into(), VENDOR.into());
    added.insert("company_guid".into(), company.guid.into());
    added.insert(
        "company_name".into(),
        company.name.map_or(Value::Null, Value::from),
    );
    added.insert("event_kind".into(), kind.as_str().into());
    added
}

/// The raw JSON event of a finding: the finding whole plus `_time`, `_vendor`,
/// `_product`, `company_guid`, `company_name` and `event_kind`.
///
/// The added fields are written straight after the received text (the hot path of the
/// `json` format), exactly as [`Finding::to_json_with`] would write them.
///
/// # Errors
/// Never in practice (the values are plain strings).
pub fn finding_json(
    finding: &Finding,
    company: CompanyRef<'_>,
    kind: EventKind,
) -> Result<String, serde_json::Error> {
    let out = finding_json_bytes(finding, company, kind)?;
    // Built from a &str, ASCII and serde_json's output, so it is UTF-8.
    String::from_utf8(out).map_err(|e| serde::ser::Error::custom(e.to_string()))
}

/// [`finding_json`] as bytes: the finding's text copied once, the added fields appended.
fn finding_json_bytes(
    finding: &Finding,
    company: CompanyRef<'_>,
    kind: EventKind,
) -> Result<Vec<u8>, serde_json::Error> {
    let name_len = company.name.map_or(4, str::len);
    let raw = finding.raw_json();
    let mut out = Vec::with_capacity(raw.len() + 140 + company.guid.len() + name_len);
    push_finding_json(raw, finding.first_seen(), company, kind, &mut out)?;
    Ok(out)
}

/// Appends the raw JSON event of a finding to `out`: `raw` (the finding's one-line
/// JSON object as received) with `_time` (from `first_seen`), `_vendor`, `_product`,
/// `company_guid`, `company_name` and `event_kind` spliced in before its closing brace,
/// exactly as [`Finding::to_json_with`] writes them. The finding's text is copied
/// once, straight into `out` (the hot path of the `json` format: no tree, no
/// re-encoding). On error `out` is left as it was.
///
/// # Errors
/// When `raw` is not a JSON object's text (it does not end with `}`).
pub fn push_finding_json(
    raw: &str,
    first_seen: Option<Date>,
    company: CompanyRef<'_>,
    kind: EventKind,
    out: &mut Vec<u8>,
) -> Result<(), serde_json::Error> {
    let context = RecordContext::new(company, kind)?;
    push_finding_json_in(raw, first_seen, &context, out)
}

/// [`push_finding_json`] with the added fields after `_time` already encoded.
fn push_finding_json_in(
    raw: &str,
    first_seen: Option<Date>,
    context: &RecordContext<'_>,
    out: &mut Vec<u8>,
) -> Result<(), serde_json::Error> {
    let raw = raw.trim_end();
    let Some(body) = raw.strip_suffix('}') else {
        return Err(serde::ser::Error::custom(
            "the finding is not a JSON object",
        ));
    };
    out.reserve(body.len() + 40 + context.json_tail.len());
    out.extend_from_slice(body.as_bytes());
    if !body.trim_start().trim_start_matches('{').trim().is_empty() {
        out.push(b',');
    }
    if let Some(date) = first_seen {
        out.extend_from_slice(b"\"_time\":\"");
        push_midnight_rfc3339(out, date);
        out.extend_from_slice(b"\",");
    }
    out.extend_from_slice(&context.json_tail);
    Ok(())
}

/// What every record of one stream shares: its company and event kind, with the JSON
/// text of the fields the collector adds after `_time` (`"_vendor":...,"event_kind":...}`)
/// encoded once, so each finding costs two copies and a date.
#[derive(Debug, Clone)]
pub struct RecordContext<'a> {
    /// The company.
    pub company: CompanyRef<'a>,
    /// The event kind.
    pub kind: EventKind,
    json_tail: Vec<u8>,
}

impl<'a> RecordContext<'a> {
    /// The context of `company`'s records of `kind`.
    ///
    /// # Errors
    /// Never in practice (the values are plain strings); the `Result` is serde_json's.
    pub fn new(company: CompanyRef<'a>, kind: EventKind) -> Result<Self, serde_json::Error> {
        let mut tail =
            Vec::with_capacity(120 + company.guid.len() + company.name.map_or(4, str::len));
        tail.extend_from_slice(
            b"\"_vendor\":\"Bitsight\",\"_product\":\"Bitsight\",\"company_guid\":",
        );
        push_json_str(&mut tail, company.guid)?;
        tail.extend_from_slice(b",\"company_name\":");
        match company.name {
            Some(name) => push_json_str(&mut tail, name)?,
            None => tail.extend_from_slice(b"null"),
        }
        tail.extend_from_slice(b",\"event_kind\":\"");
        tail.extend_from_slice(kind.as_str().as_bytes());
        tail.extend_from_slice(b"\"}");
        Ok(Self {
            company,
            kind,
            json_tail: tail,
        })
    }
}

/// The raw JSON event of an alert, with the same added fields (`_time` from `alert_date`).
#[must_use]
pub fn alert_json(alert: &Alert) -> Map<String, Value> {
    let company = CompanyRef {
        guid: alert.company_guid().unwrap_or_default(),
        name: alert.company_name(),
    };
    let mut fields = alert.fields().clone();
    for (name, value) in added_fields(alert.alert_date(), company, EventKind::Alert) {
        fields.entry(name).or_insert(value);
    }
    fields
}

impl Formatter {
    /// The formatter for `format`; `model` is needed for XDM.
    #[must_use]
    pub fn new(format: RecordFormat, model: Option<Model>) -> Self {
        match (format, model) {
            (RecordFormat::Xdm, Some(model)) => Self::Xdm(Box::new(model)),
            (RecordFormat::Cef, _) => Self::Cef,
            _ => Self::Json,
        }
    }

    /// One finding as a record; `None` when the modeling rule filters it out.
    ///
    /// # Errors
    /// See [`FormatError`].
    pub fn finding(
        &self,
        finding: &Finding,
        company: CompanyRef<'_>,
        kind: EventKind,
    ) -> Result<Option<Bytes>, FormatError> {
        let mut out = Vec::new();
        Ok(self
            .write_finding(finding, company, kind, &mut out)?
            .then(|| Bytes::from(out)))
    }

    /// Appends one finding's record to `out` (records written back to back share one
    /// buffer); `false` when the modeling rule filtered it out. On error or `false`,
    /// `out` is left as it was.
    ///
    /// # Errors
    /// See [`FormatError`].
    pub fn write_finding(
        &self,
        finding: &Finding,
        company: CompanyRef<'_>,
        kind: EventKind,
        out: &mut Vec<u8>,
    ) -> Result<bool, FormatError> {
        match self {
            Self::Json => {
                push_finding_json(finding.raw_json(), finding.first_seen(), company, kind, out)?;
                Ok(true)
            }
            Self::Xdm(model) => model_line(model, &finding_json(finding, company, kind)?, out),
            Self::Cef => {
                out.extend_from_slice(&cef_finding(finding, company, kind)?);
                Ok(true)
            }
        }
    }

    /// As [`Formatter::write_finding`], for a finding of a light page, in `context`
    /// (its company and kind): the `json` format needs only the finding's text and
    /// first-seen date; XDM reads the raw event's text; only CEF decodes the typed
    /// fields.
    ///
    /// # Errors
    /// See [`FormatError`]; for CEF also a typed field the full decode refuses.
    pub fn write_light_finding(
        &self,
        finding: LightFinding<'_>,
        context: &RecordContext<'_>,
        out: &mut Vec<u8>,
    ) -> Result<bool, FormatError> {
        match self {
            Self::Json => {
                push_finding_json_in(finding.raw_json(), finding.first_seen(), context, out)?;
                Ok(true)
            }
            Self::Xdm(model) => {
                let mut event = Vec::new();
                push_finding_json_in(
                    finding.raw_json(),
                    finding.first_seen(),
                    context,
                    &mut event,
                )?;
                // Built from a &str, ASCII and serde_json's output, so it is UTF-8.
                let event = String::from_utf8(event)
                    .map_err(|e| <serde_json::Error as serde::ser::Error>::custom(e.to_string()))?;
                model_line(model, &event, out)
            }
            Self::Cef => {
                let typed = finding.to_finding()?;
                out.extend_from_slice(&cef_finding(&typed, context.company, context.kind)?);
                Ok(true)
            }
        }
    }

    /// One alert as a record; `None` when the modeling rule filters it out.
    ///
    /// # Errors
    /// See [`FormatError`].
    pub fn alert(&self, alert: &Alert) -> Result<Option<Bytes>, FormatError> {
        match self {
            Self::Json => Ok(Some(Bytes::from(serde_json::to_vec(&alert_json(alert))?))),
            Self::Xdm(model) => model_record(model, alert_json(alert)),
            Self::Cef => Ok(Some(cef_alert(alert)?)),
        }
    }
}

/// Models one raw event's JSON text through the rule's one-pass line reader, appending
/// the record to `out`.
fn model_line(model: &Model, event: &str, out: &mut Vec<u8>) -> Result<bool, FormatError> {
    match model.apply_json_line(event, out) {
        Ok(kept) => Ok(kept),
        Err(xdm_modeling::LineError::Json(error)) => Err(error.into()),
        Err(xdm_modeling::LineError::Apply(error)) => Err(error.into()),
    }
}

fn model_record(model: &Model, event: Map<String, Value>) -> Result<Option<Bytes>, FormatError> {
    match model.apply_owned(event)? {
        Some(record) => Ok(Some(Bytes::from(serde_json::to_vec(&record)?))),
        None => Ok(None),
    }
}

/// Host and port of an evidence key: `203.0.113.7:443`, `[2001:db8::1]:443`, `host.example`.
#[must_use]
pub fn split_evidence_key(key: &str) -> (&str, Option<u16>) {
    if let Some((host, port)) = key.rsplit_once(':')
        && let Ok(port) = port.parse::<u16>()
        && !host.is_empty()
        && (!host.contains(':') || (host.starts_with('[') && host.ends_with(']')))
    {
        return (
            host.trim_start_matches('[').trim_end_matches(']'),
            Some(port),
        );
    }
    (key, None)
}

/// Bitsight severity (1.0 to 10.0) as a CEF level 0 to 10, rounded.
#[must_use]
pub fn cef_severity(severity: Option<f64>) -> Severity {
    match severity {
        Some(value) if value.is_finite() => {
            let level = value.round().clamp(0.0, 10.0);
            // In 0..=10 after the clamp, so the cast is exact.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let level = level as u8;
            Severity::new(level).unwrap_or(Severity::UNKNOWN)
        }
        _ => Severity::UNKNOWN,
    }
}

fn day_start(date: Date) -> OffsetDateTime {
    date.midnight().assume_utc()
}

fn cef_finding(
    finding: &Finding,
    company: CompanyRef<'_>,
    kind: EventKind,
) -> Result<Bytes, FormatError> {
    let vector = finding.risk_vector().map_or("unknown", |v| v.as_str());
    let label = finding
        .risk_vector_label()
        .filter(|l| !l.is_empty())
        .unwrap_or(vector);
    let evidence = finding.evidence_key();
    let (host, port) = split_evidence_key(evidence);
    let mut builder = Event::builder()
        .vendor(VENDOR)
        .product(CEF_PRODUCT)
        .device_version(CEF_VERSION)
        .signature_id(vector)
        .name(label)
        .severity(cef_severity(finding.severity()));
    if let Some(date) = finding.first_seen() {
        builder = builder.time(keys::START, day_start(date));
    }
    if let Some(date) = finding.last_seen() {
        builder = builder.time(keys::END, day_start(date));
    }
    builder = match host.parse::<IpAddr>() {
        Ok(IpAddr::V4(ip)) => builder.ipv4(keys::DST, ip),
        Ok(IpAddr::V6(ip)) => builder
            .label(keys::C6A3, "Evidence IPv6")
            .ipv6(keys::C6A3, ip),
        Err(_) => builder.text(keys::DHOST, host),
    };
    if let Some(port) = port {
        builder = builder.port(keys::DPT, port);
    }
    if let Some(category) = finding.risk_category() {
        builder = builder.text(keys::CAT, category.as_str().to_owned());
    }
    if let Some(id) = finding.temporary_id() {
        builder = builder.text(keys::EXTERNAL_ID, id);
    }
    let assets: Vec<&str> = finding
        .assets()
        .iter()
        .filter_map(|a| a.asset.as_deref())
        .collect();
    builder = builder
        .label(keys::CS1, "Evidence Key")
        .text(keys::CS1, evidence)
        .label(keys::CS2, "Grade")
        .text(
            keys::CS2,
            finding
                .grade()
                .map(|g| g.as_str().to_owned())
                .unwrap_or_default(),
        )
        .label(keys::CS3, "Company")
        .text(keys::CS3, company.name.unwrap_or_default())
        .label(keys::CS4, "Company GUID")
        .text(keys::CS4, company.guid)
        .label(keys::CS5, "Rolled-up Observation ID")
        .text(keys::CS5, finding.rolledup_observation_id())
        .label(keys::CS6, "Assets")
        .text(keys::CS6, assets.join(","));
    if let Some(severity) = finding.severity() {
        builder = builder
            .label(keys::CFP1, "Bitsight Severity")
            .float(keys::CFP1, severity);
    }
    if let Some(category) = finding.severity_category() {
        builder = builder
            .label(keys::FLEX_STRING1, "Severity Category")
            .text(keys::FLEX_STRING1, category.as_str().to_owned());
    }
    if let Some(affects) = finding.affects_rating() {
        builder = builder
            .label(keys::FLEX_STRING2, "Affects Rating")
            .text(keys::FLEX_STRING2, if affects { "true" } else { "false" });
    }
    builder = builder.vendor_field("bitsightEventKind", kind.as_str());
    Ok(Bytes::from(builder.build()?.encode()))
}

fn alert_severity(severity: Option<&str>) -> Severity {
    match severity.map(str::to_ascii_uppercase).as_deref() {
        Some("CRITICAL") => Severity::from_band(cef_codec::Band::VeryHigh),
        Some("WARN") => Severity::from_band(cef_codec::Band::High),
        Some("INCREASE" | "DECREASE") => Severity::from_band(cef_codec::Band::Medium),
        _ => Severity::UNKNOWN,
    }
}

fn cef_alert(alert: &Alert) -> Result<Bytes, FormatError> {
    let alert_type = alert.alert_type().unwrap_or("alert");
    let name = alert
        .trigger()
        .filter(|t| !t.is_empty())
        .unwrap_or(alert_type);
    let mut builder = Event::builder()
        .vendor(VENDOR)
        .product(CEF_PRODUCT)
        .device_version(CEF_VERSION)
        .signature_id(alert_type)
        .name(name)
        .severity(alert_severity(alert.severity()));
    if let Some(date) = alert.alert_date() {
        builder = builder.time(keys::END, day_start(date));
    }
    if let Some(date) = alert.start_date() {
        builder = builder.time(keys::START, day_start(date));
    }
    if let Some(guid) = alert.guid() {
        builder = builder.text(keys::EXTERNAL_ID, guid);
    }
    builder = builder
        .label(keys::CS3, "Company")
        .text(keys::CS3, alert.company_name().unwrap_or_default())
        .label(keys::CS4, "Company GUID")
        .text(keys::CS4, alert.company_guid().unwrap_or_default())
        .label(keys::CS1, "Alert Severity")
        .text(keys::CS1, alert.severity().unwrap_or_default())
        .label(keys::CS2, "Folder")
        .text(keys::CS2, alert.folder_name().unwrap_or_default())
        .vendor_field("bitsightEventKind", EventKind::Alert.as_str());
    Ok(Bytes::from(builder.build()?.encode()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FINDING: &str = r#"{"temporary_id":"A9jq","affects_rating":true,"assets":[{"asset":"203.0.113.7","category":"high","importance":0.5,"is_ip":true}],"details":{"grade":"BAD","country":"United States","dest_port":443,"diligence_annotations":{"transport":"tcp","Status":"HTTP/1.1 200 OK"},"remediations":[{"help_text":"Close it."}]},"evidence_key":"203.0.113.7:443","first_seen":"2026-11-20","last_seen":"2026-11-23","risk_category":"Diligence","risk_vector":"open_ports","risk_vector_label":"Open Ports","rolledup_observation_id":"","severity":9.4,"severity_category":"severe","tags":[]}"#;

    fn company() -> CompanyRef<'static> {
        CompanyRef {
            guid: "c0ffee00-0000-4000-8000-000000000001",
            name: Some("Example | Corp"),
        }
    }

    #[test]
    fn json_keeps_the_finding_whole_and_adds_fields() {
        let finding = Finding::from_json(company().guid, FINDING).unwrap();
        let line = finding_json(&finding, company(), EventKind::Finding).unwrap();
        assert!(line.starts_with(&FINDING[..FINDING.len() - 1]));
        let slow = finding
            .to_json_with(&added_fields(
                finding.first_seen(),
                company(),
                EventKind::Finding,
            ))
            .unwrap();
        assert_eq!(line, slow, "the fast path writes what to_json_with writes");
        insta::assert_snapshot!(&line[FINDING.len() - 1..]);
    }

    #[test]
    fn cef_mapping() {
        let finding = Finding::from_json(company().guid, FINDING).unwrap();
        let line = Formatter::Cef
            .finding(&finding, company(), EventKind::FindingUpdate)
            .unwrap()
            .unwrap();
        insta::assert_snapshot!(String::from_utf8(line.to_vec()).unwrap());
    }

    #[test]
    fn xdm_through_the_bundled_rule() {
        let finding = Finding::from_json(company().guid, FINDING).unwrap();
        let model = xdm_modeling::bitsight_model().unwrap();
        let line = Formatter::new(RecordFormat::Xdm, Some(model))
            .finding(&finding, company(), EventKind::Finding)
            .unwrap()
            .unwrap();
        let record: Value = serde_json::from_slice(&line).unwrap();
        insta::assert_json_snapshot!(record);
    }

    /// The light pages (the collector's path) and the full decode write the same
    /// record, byte for byte, in every format, and give the same cursor key.
    #[tokio::test]
    async fn light_and_full_findings_write_the_same_records() {
        use bitsight_api::synthetic::{PortfolioSpec, SyntheticPortfolio, serve};
        use bitsight_api::{Client, FindingsQuery};
        use futures::TryStreamExt;

        let portfolio = SyntheticPortfolio::generate(PortfolioSpec {
            seed: 3,
            companies: 1,
            findings_per_company: 150,
            first_date: time::macros::date!(2026 - 01 - 01),
            last_date: time::macros::date!(2026 - 03 - 01),
        });
        let guid = portfolio.company_guids()[0].clone();
        let server = serve(portfolio).await.unwrap();
        let client = Client::new(server.client_config()).unwrap();
        let query = FindingsQuery {
            page_size: 40,
            ..FindingsQuery::default()
        };
        let fetch = async {
            let full: Vec<Finding> = client.findings(&guid, &query).try_collect().await?;
            let pages: Vec<bitsight_api::FindingsPage> =
                client.findings_pages(&guid, &query).try_collect().await?;
            Ok::<_, bitsight_api::ApiError>((full, pages))
        };
        let (full, pages) = tokio::time::timeout(std::time::Duration::from_secs(30), fetch)
            .await
            .unwrap()
            .unwrap();
        let light: Vec<LightFinding<'_>> = pages
            .iter()
            .flat_map(bitsight_api::FindingsPage::iter)
            .collect();
        assert_eq!(light.len(), 150);
        assert_eq!(full.len(), light.len());
        let company = CompanyRef {
            guid: &guid,
            name: Some("Synthetic \"0\""),
        };
        let model = xdm_modeling::bitsight_model().unwrap();
        let formatters = [
            Formatter::Json,
            Formatter::new(RecordFormat::Xdm, Some(model)),
            Formatter::Cef,
        ];
        let context = RecordContext::new(company, EventKind::Finding).unwrap();
        for (full, light) in full.iter().zip(&light) {
            assert_eq!(
                crate::collect::finding_key(full),
                crate::collect::light_finding_key(*light)
            );
            for formatter in &formatters {
                let (mut from_full, mut from_light) = (Vec::new(), Vec::new());
                let kept = formatter
                    .write_finding(full, company, EventKind::Finding, &mut from_full)
                    .unwrap();
                let kept_light = formatter
                    .write_light_finding(*light, &context, &mut from_light)
                    .unwrap();
                assert_eq!(kept, kept_light);
                assert_eq!(
                    String::from_utf8(from_full).unwrap(),
                    String::from_utf8(from_light).unwrap()
                );
            }
        }
        server.shutdown().await;
    }

    #[test]
    fn evidence_keys_split() {
        assert_eq!(
            split_evidence_key("203.0.113.7:443"),
            ("203.0.113.7", Some(443))
        );
        assert_eq!(
            split_evidence_key("[2001:db8::1]:8443"),
            ("2001:db8::1", Some(8443))
        );
        assert_eq!(split_evidence_key("2001:db8::1"), ("2001:db8::1", None));
        assert_eq!(
            split_evidence_key("mail.example.com"),
            ("mail.example.com", None)
        );
        assert_eq!(split_evidence_key("x:99999"), ("x:99999", None));
    }

    #[test]
    fn severities_round_into_cef_levels() {
        assert_eq!(cef_severity(Some(9.4)).level(), Some(9));
        assert_eq!(cef_severity(Some(10.0)).level(), Some(10));
        assert_eq!(cef_severity(Some(-3.0)).level(), Some(0));
        assert_eq!(cef_severity(None), Severity::UNKNOWN);
        assert_eq!(cef_severity(Some(f64::NAN)), Severity::UNKNOWN);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Law: whatever the API puts in a finding's strings, the CEF line is one line,
        /// has exactly the seven header fields, and decodes strictly back to its values.
        #[test]
        fn hostile_strings_never_break_cef(evidence in "\\PC{0,40}", label in "\\PC{0,40}", name in "\\PC{0,40}") {
            let json = serde_json::json!({
                "evidence_key": evidence, "risk_vector": "open_ports", "risk_vector_label": label,
                "first_seen": "2026-11-20", "severity": 5.0, "rolledup_observation_id": "r"
            });
            let finding = Finding::from_json("g", &json.to_string()).unwrap();
            let company = CompanyRef { guid: "g", name: Some(&name) };
            let line = Formatter::Cef.finding(&finding, company, EventKind::Finding).unwrap().unwrap();
            proptest::prop_assert!(!line.contains(&b'\n') && !line.contains(&b'\r'));
            let event = cef_codec::Decoder::strict().decode_bytes(&line).unwrap();
            proptest::prop_assert_eq!(event.vendor(), VENDOR);
            proptest::prop_assert_eq!(event.signature_id(), "open_ports");
            proptest::prop_assert_eq!(event.get("bitsightEventKind"), Some("finding"));
        }

        /// Law: the JSON event written straight after the finding's text is the one serde
        /// writes ([`Finding::to_json_with`]), whatever the company's GUID and name and
        /// the first-seen date.
        #[test]
        fn direct_json_event_is_serdes(
            guid in "\\PC{0,12}|[\"\\\\\u{0}-\u{1f}a]{0,6}",
            name in proptest::option::of("\\PC{0,12}|[\"\\\\\u{0}-\u{1f}a]{0,6}"),
            days in 0i64..3_652_000,
        ) {
            let date = time::macros::date!(0000 - 01 - 01) + time::Duration::days(days);
            let first_seen = format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day());
            let json = serde_json::json!({"risk_vector": "spf", "first_seen": first_seen});
            let finding = Finding::from_json("g", &json.to_string()).unwrap();
            let company = CompanyRef { guid: &guid, name: name.as_deref() };
            let direct = finding_json(&finding, company, EventKind::Finding).unwrap();
            let added = added_fields(finding.first_seen(), company, EventKind::Finding);
            proptest::prop_assert_eq!(direct, finding.to_json_with(&added).unwrap());
        }
    }

    #[test]
    fn midnight_is_rfc3339_utc() {
        use time::macros::date;
        assert_eq!(
            midnight_rfc3339(date!(2026 - 11 - 20)),
            "2026-11-20T00:00:00Z"
        );
        assert_eq!(
            midnight_rfc3339(date!(0007 - 01 - 02)),
            "0007-01-02T00:00:00Z"
        );
    }
}
