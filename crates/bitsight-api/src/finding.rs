//! The finding record: typed accessors over the raw JSON, which is kept whole.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::paging::DecodedPage;
use crate::query::MAX_PAGE_SIZE;
use crate::reader::read_finding;
use crate::scan::{has_line_breaks, read_page, single_line};
use serde_json::{Map, Value};
use time::Date;

use crate::lenient::{
    LenientBool, LenientF64, LenientObject, LenientStr, LenientVec, ObjectOnly, parse_date,
};
use crate::vocab::{AssetCategory, Grade, RiskCategory, RiskVector, SeverityCategory};

/// The top-level finding fields that have typed accessors; every other field is in
/// [`Finding::extra`].
pub const TYPED_FINDING_FIELDS: &[&str] = &[
    "temporary_id",
    "affects_rating",
    "assets",
    "details",
    "evidence_key",
    "first_seen",
    "last_seen",
    "risk_category",
    "risk_vector",
    "risk_vector_label",
    "rolledup_observation_id",
    "severity",
    "severity_category",
    "tags",
];

/// What identifies a finding across fetches, for deduplication and cursors: company,
/// risk vector, evidence key, rolled-up observation id and first-seen date, each as
/// the API sent it (absent or null read as `""`, so an empty `rolledup_observation_id`
/// still leaves four distinguishing parts).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FindingIdentity {
    /// The company the finding was fetched for.
    pub company_guid: String,
    /// The `risk_vector` slug.
    pub risk_vector: String,
    /// The `evidence_key` (a domain, `ip:port`, ...).
    pub evidence_key: String,
    /// The `rolledup_observation_id`, often but not always present.
    pub rolledup_observation_id: String,
    /// The `first_seen` date string (`YYYY-MM-DD`).
    pub first_seen: String,
}

impl FindingIdentity {
    /// The same identity, borrowed.
    #[must_use]
    pub fn as_identity_ref(&self) -> FindingIdentityRef<'_> {
        FindingIdentityRef {
            company_guid: &self.company_guid,
            risk_vector: &self.risk_vector,
            evidence_key: &self.evidence_key,
            rolledup_observation_id: &self.rolledup_observation_id,
            first_seen: &self.first_seen,
        }
    }
}

impl fmt::Display for FindingIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.as_identity_ref().fmt(f)
    }
}

/// A [`FindingIdentity`] borrowed from the finding (or page) it was read from: the
/// same parts, the same order and `Display`, without a copy of each part. From
/// [`Finding::identity_ref`] and [`LightFinding::identity`](crate::LightFinding::identity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FindingIdentityRef<'a> {
    /// The company the finding was fetched for.
    pub company_guid: &'a str,
    /// The `risk_vector` slug.
    pub risk_vector: &'a str,
    /// The `evidence_key` (a domain, `ip:port`, ...).
    pub evidence_key: &'a str,
    /// The `rolledup_observation_id`, often but not always present.
    pub rolledup_observation_id: &'a str,
    /// The `first_seen` date string (`YYYY-MM-DD`).
    pub first_seen: &'a str,
}

impl FindingIdentityRef<'_> {
    /// An owned copy.
    #[must_use]
    pub fn to_identity(&self) -> FindingIdentity {
        FindingIdentity {
            company_guid: self.company_guid.to_owned(),
            risk_vector: self.risk_vector.to_owned(),
            evidence_key: self.evidence_key.to_owned(),
            rolledup_observation_id: self.rolledup_observation_id.to_owned(),
            first_seen: self.first_seen.to_owned(),
        }
    }
}

impl From<FindingIdentityRef<'_>> for FindingIdentity {
    fn from(identity: FindingIdentityRef<'_>) -> Self {
        identity.to_identity()
    }
}

impl PartialEq<FindingIdentity> for FindingIdentityRef<'_> {
    fn eq(&self, other: &FindingIdentity) -> bool {
        *self == other.as_identity_ref()
    }
}

impl PartialEq<FindingIdentityRef<'_>> for FindingIdentity {
    fn eq(&self, other: &FindingIdentityRef<'_>) -> bool {
        self.as_identity_ref() == *other
    }
}

impl fmt::Display for FindingIdentityRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}/{}",
            self.company_guid,
            self.risk_vector,
            self.evidence_key,
            self.rolledup_observation_id,
            self.first_seen
        )
    }
}

/// One element of a finding's `assets`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Asset {
    /// The asset (domain or IP).
    pub asset: Option<String>,
    /// Bitsight's identifier for it.
    pub identifier: Option<String>,
    /// Its importance bucket; `None` when absent or empty.
    pub category: Option<AssetCategory>,
    /// Its importance as a number.
    pub importance: Option<f64>,
    /// Whether the asset is an IP address.
    pub is_ip: Option<bool>,
}

/// A Bitsight finding: typed, lenient accessors plus the record exactly as received.
///
/// Fields of an unexpected JSON type read as `None` instead of failing the record.
/// Serialising a `Finding` (with serde_json) writes the received JSON byte for byte:
/// field order, number formatting and unknown fields all survive. The one change:
/// when the API sent the record across several lines, the whitespace between tokens
/// is dropped, so a finding is always one line.
#[derive(Clone)]
pub struct Finding {
    raw: Box<str>,
    /// Shared by the findings of a page.
    company: Arc<str>,
    /// The identity's parts, in `raw` (or decoded); `None` reads as `""`.
    risk_vector_text: Option<FieldText>,
    evidence_key: Option<FieldText>,
    rolledup_observation_id: Option<FieldText>,
    first_seen_text: Option<FieldText>,
    /// Made on the first call of [`Finding::identity`].
    identity: OnceLock<FindingIdentity>,
    temporary_id: Option<FieldText>,
    affects_rating: Option<bool>,
    first_seen: Option<Date>,
    last_seen: Option<Date>,
    risk_vector: Option<RiskVector>,
    risk_vector_label: Option<FieldText>,
    risk_category: Option<RiskCategory>,
    severity: Option<f64>,
    severity_category: Option<SeverityCategory>,
    grade: Option<Grade>,
    assets: Vec<Asset>,
    tags: Vec<String>,
}

#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default)]
pub(crate) struct FindingFields<'a> {
    #[serde(borrow)]
    pub(crate) temporary_id: LenientStr<'a>,
    pub(crate) affects_rating: LenientBool,
    #[serde(borrow)]
    pub(crate) assets: LenientVec<LenientObject<AssetFields<'a>>>,
    #[serde(borrow)]
    pub(crate) details: LenientObject<DetailsFields<'a>>,
    #[serde(borrow)]
    pub(crate) evidence_key: LenientStr<'a>,
    #[serde(borrow)]
    pub(crate) first_seen: LenientStr<'a>,
    #[serde(borrow)]
    pub(crate) last_seen: LenientStr<'a>,
    #[serde(borrow)]
    pub(crate) risk_category: LenientStr<'a>,
    #[serde(borrow)]
    pub(crate) risk_vector: LenientStr<'a>,
    #[serde(borrow)]
    pub(crate) risk_vector_label: LenientStr<'a>,
    #[serde(borrow)]
    pub(crate) rolledup_observation_id: LenientStr<'a>,
    pub(crate) severity: LenientF64,
    #[serde(borrow)]
    pub(crate) severity_category: LenientStr<'a>,
    #[serde(borrow)]
    pub(crate) tags: LenientVec<LenientStr<'a>>,
}

/// The fields a light decode reads: the identity's, `temporary_id` and the dates.
#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default)]
pub(crate) struct LightFields<'a> {
    #[serde(borrow)]
    pub(crate) temporary_id: LenientStr<'a>,
    #[serde(borrow)]
    pub(crate) evidence_key: LenientStr<'a>,
    #[serde(borrow)]
    pub(crate) first_seen: LenientStr<'a>,
    #[serde(borrow)]
    pub(crate) last_seen: LenientStr<'a>,
    #[serde(borrow)]
    pub(crate) risk_vector: LenientStr<'a>,
    #[serde(borrow)]
    pub(crate) rolledup_observation_id: LenientStr<'a>,
}

#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default)]
pub(crate) struct DetailsFields<'a> {
    #[serde(borrow)]
    pub(crate) grade: LenientStr<'a>,
}

#[derive(Deserialize, Default, Debug, PartialEq)]
#[serde(default)]
pub(crate) struct AssetFields<'a> {
    #[serde(borrow)]
    pub(crate) asset: LenientStr<'a>,
    #[serde(borrow)]
    pub(crate) identifier: LenientStr<'a>,
    #[serde(borrow)]
    pub(crate) category: LenientStr<'a>,
    pub(crate) importance: LenientF64,
    pub(crate) is_ip: LenientBool,
}

/// A text field of a finding: where it sits in the record's JSON when it was sent
/// without escapes (so it costs no copy), or its decoded text.
#[derive(Clone, Debug)]
pub(crate) enum FieldText {
    InRaw(std::ops::Range<usize>),
    Decoded(Box<str>),
}

impl FieldText {
    /// Locates `value` in `raw` (the text it was read from), or keeps a copy.
    pub(crate) fn new(value: LenientStr<'_>, raw: &str) -> Option<Self> {
        let value = value.0?;
        let start = value.as_ptr().addr().wrapping_sub(raw.as_ptr().addr());
        let inside = start <= raw.len() && value.len() <= raw.len() - start;
        Some(if inside {
            Self::InRaw(start..start + value.len())
        } else {
            Self::Decoded(value.into())
        })
    }

    pub(crate) fn get<'a>(&'a self, raw: &'a str) -> &'a str {
        match self {
            Self::InRaw(range) => raw.get(range.clone()).unwrap_or_default(),
            Self::Decoded(text) => text,
        }
    }

    /// The text of an optional field, `""` when absent.
    pub(crate) fn or_empty<'a>(field: Option<&'a Self>, raw: &'a str) -> &'a str {
        field.map_or("", |text| text.get(raw))
    }
}

fn non_empty(value: Option<&str>) -> Option<&str> {
    value.filter(|text| !text.is_empty())
}

impl Finding {
    /// Reads one finding (a JSON object) fetched for `company_guid`.
    ///
    /// # Errors
    /// When `json` is not a JSON object.
    pub fn from_json(company_guid: &str, json: &str) -> Result<Self, serde_json::Error> {
        let ObjectOnly(fields) = serde_json::from_str::<ObjectOnly<FindingFields<'_>>>(json)?;
        Ok(Self::from_parts(
            &Arc::from(company_guid),
            fields,
            &single_line(json.trim()),
        ))
    }

    /// Reads one finding from its text as [`read_finding`] does (the caller checked
    /// that `json` is exactly one object), for `company`.
    pub(crate) fn from_object_text(
        company: &Arc<str>,
        json: &str,
    ) -> Result<Self, serde_json::Error> {
        let (fields, len) = read_finding(json)?;
        let text = json.get(..len).unwrap_or_default();
        Ok(Self::from_parts(company, fields, &single_line(text)))
    }

    /// Builds a finding from its fields and its validated JSON text.
    fn from_parts(company: &Arc<str>, fields: FindingFields<'_>, raw: &str) -> Self {
        let assets = fields
            .assets
            .0
            .into_iter()
            .filter_map(|asset| asset.0)
            .map(|asset| Asset {
                asset: asset.asset.owned(),
                identifier: asset.identifier.owned(),
                category: non_empty(asset.category.0.as_deref()).map(AssetCategory::parse),
                importance: asset.importance.0,
                is_ip: asset.is_ip.0,
            })
            .collect();
        Self {
            company: Arc::clone(company),
            identity: OnceLock::new(),
            first_seen: fields.first_seen.0.as_deref().and_then(parse_date),
            last_seen: fields.last_seen.0.as_deref().and_then(parse_date),
            risk_vector: non_empty(fields.risk_vector.0.as_deref()).map(RiskVector::parse),
            risk_category: non_empty(fields.risk_category.0.as_deref()).map(RiskCategory::parse),
            severity_category: non_empty(fields.severity_category.0.as_deref())
                .map(SeverityCategory::parse),
            grade: fields
                .details
                .0
                .and_then(|details| non_empty(details.grade.0.as_deref()).map(Grade::parse)),
            temporary_id: FieldText::new(fields.temporary_id, raw),
            affects_rating: fields.affects_rating.0,
            risk_vector_label: FieldText::new(fields.risk_vector_label, raw),
            severity: fields.severity.0,
            tags: fields
                .tags
                .0
                .into_iter()
                .filter_map(LenientStr::owned)
                .collect(),
            assets,
            risk_vector_text: FieldText::new(fields.risk_vector, raw),
            evidence_key: FieldText::new(fields.evidence_key, raw),
            rolledup_observation_id: FieldText::new(fields.rolledup_observation_id, raw),
            first_seen_text: FieldText::new(fields.first_seen, raw),
            raw: raw.into(),
        }
    }

    /// The stable identity (company, risk vector, evidence key, rolled-up observation
    /// id, first seen), as owned strings: copied on the first call and kept. Where a
    /// borrow does, [`Finding::identity_ref`] costs no copy.
    #[must_use]
    pub fn identity(&self) -> &FindingIdentity {
        self.identity
            .get_or_init(|| self.identity_ref().to_identity())
    }

    /// The stable identity, borrowed from the finding (no copy).
    #[must_use]
    pub fn identity_ref(&self) -> FindingIdentityRef<'_> {
        let raw = &self.raw;
        FindingIdentityRef {
            company_guid: &self.company,
            risk_vector: FieldText::or_empty(self.risk_vector_text.as_ref(), raw),
            evidence_key: FieldText::or_empty(self.evidence_key.as_ref(), raw),
            rolledup_observation_id: FieldText::or_empty(
                self.rolledup_observation_id.as_ref(),
                raw,
            ),
            first_seen: FieldText::or_empty(self.first_seen_text.as_ref(), raw),
        }
    }

    /// The company GUID the finding was fetched for.
    #[must_use]
    pub fn company_guid(&self) -> &str {
        &self.company
    }

    /// The record as the API sent it, on one line (see the type's docs).
    #[must_use]
    pub fn raw_json(&self) -> &str {
        &self.raw
    }

    /// The record with `added` fields appended after the original ones, as one JSON
    /// object. The names in `added` should be new (such as `_time`): a name the finding
    /// already has would appear twice.
    ///
    /// # Errors
    /// When a value of `added` cannot be serialised (a map with non-string keys).
    pub fn to_json_with(&self, added: &Map<String, Value>) -> Result<String, serde_json::Error> {
        json_with(&self.raw, added)
    }

    /// Every field whose name is not in [`TYPED_FINDING_FIELDS`], in received order.
    ///
    /// # Errors
    /// Never for a finding this crate built (its JSON was checked on arrival); the
    /// `Result` is the parser's.
    pub fn extra(&self) -> Result<Map<String, Value>, serde_json::Error> {
        let mut all: Map<String, Value> = serde_json::from_str(&self.raw)?;
        all.retain(|name, _| !TYPED_FINDING_FIELDS.contains(&name.as_str()));
        Ok(all)
    }

    /// `temporary_id`: Bitsight's display id (not stable across time).
    #[must_use]
    pub fn temporary_id(&self) -> Option<&str> {
        self.temporary_id.as_ref().map(|text| text.get(&self.raw))
    }

    /// `affects_rating`.
    #[must_use]
    pub fn affects_rating(&self) -> Option<bool> {
        self.affects_rating
    }

    /// `first_seen`, when present and a valid `YYYY-MM-DD` date.
    #[must_use]
    pub fn first_seen(&self) -> Option<Date> {
        self.first_seen
    }

    /// `last_seen`, when present and a valid `YYYY-MM-DD` date.
    #[must_use]
    pub fn last_seen(&self) -> Option<Date> {
        self.last_seen
    }

    /// `risk_vector`.
    #[must_use]
    pub fn risk_vector(&self) -> Option<&RiskVector> {
        self.risk_vector.as_ref()
    }

    /// `risk_vector_label` (display name).
    #[must_use]
    pub fn risk_vector_label(&self) -> Option<&str> {
        self.risk_vector_label
            .as_ref()
            .map(|text| text.get(&self.raw))
    }

    /// `risk_category`.
    #[must_use]
    pub fn risk_category(&self) -> Option<&RiskCategory> {
        self.risk_category.as_ref()
    }

    /// `evidence_key` (`""` when absent).
    #[must_use]
    pub fn evidence_key(&self) -> &str {
        FieldText::or_empty(self.evidence_key.as_ref(), &self.raw)
    }

    /// `rolledup_observation_id` (`""` when absent or empty, as the API sometimes sends).
    #[must_use]
    pub fn rolledup_observation_id(&self) -> &str {
        FieldText::or_empty(self.rolledup_observation_id.as_ref(), &self.raw)
    }

    /// `severity` (0 to 10).
    #[must_use]
    pub fn severity(&self) -> Option<f64> {
        self.severity
    }

    /// `severity_category`; when absent, derived from `severity`.
    #[must_use]
    pub fn severity_category(&self) -> Option<SeverityCategory> {
        self.severity_category
            .clone()
            .or_else(|| self.severity.map(SeverityCategory::of_severity))
    }

    /// `details.grade`.
    #[must_use]
    pub fn grade(&self) -> Option<&Grade> {
        self.grade.as_ref()
    }

    /// `assets`.
    #[must_use]
    pub fn assets(&self) -> &[Asset] {
        &self.assets
    }

    /// `tags`.
    #[must_use]
    pub fn tags(&self) -> &[String] {
        &self.tags
    }
}

impl fmt::Debug for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Finding")
            .field("identity", &self.identity_ref())
            .field("temporary_id", &self.temporary_id())
            .field("severity", &self.severity)
            .finish_non_exhaustive()
    }
}

impl Serialize for Finding {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // The text was validated on arrival; this borrow re-checks it without copying.
        let raw: &RawValue = serde_json::from_str(&self.raw).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

/// Equal when the company and the received JSON are (the identity follows from them).
impl PartialEq for Finding {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw && self.company == other.company
    }
}

/// `raw` (one JSON object) with `added` appended after its fields.
pub(crate) fn json_with(
    raw: &str,
    added: &Map<String, Value>,
) -> Result<String, serde_json::Error> {
    let raw = raw.trim_end();
    let body = raw.strip_suffix('}').unwrap_or(raw);
    let mut out = String::with_capacity(raw.len() + 64 * added.len());
    out.push_str(body);
    let mut needs_comma = !body.trim_start().trim_start_matches('{').trim().is_empty();
    for (name, value) in added {
        if needs_comma {
            out.push(',');
        }
        out.push_str(&serde_json::to_string(name)?);
        out.push(':');
        out.push_str(&serde_json::to_string(value)?);
        needs_comma = true;
    }
    out.push('}');
    Ok(out)
}

/// Decodes a findings page in one validating pass: each finding's typed fields and
/// its exact text together (see [`crate::reader`]).
pub(crate) fn decode_findings_page(
    body: &[u8],
    company_guid: &str,
) -> Result<DecodedPage<Vec<Finding>>, serde_json::Error> {
    use serde::de::Error as _;
    let text = std::str::from_utf8(body)
        .map_err(|_| serde_json::Error::custom("the response is not UTF-8"))?;
    let company: Arc<str> = Arc::from(company_guid);
    // Room for a full page of typical findings (about a kilobyte each) up front.
    let mut items = Vec::with_capacity((text.len() / 1024).clamp(1, usize::from(MAX_PAGE_SIZE)));
    let line_breaks = has_line_breaks(text);
    let envelope = read_page(text, |rest| {
        let (fields, len) = read_finding(rest)?;
        let raw = rest.get(..len).unwrap_or_default();
        let raw = if line_breaks {
            single_line(raw)
        } else {
            Cow::Borrowed(raw)
        };
        items.push(Finding::from_parts(&company, fields, &raw));
        Ok(len)
    })?;
    Ok(DecodedPage {
        links: envelope.links,
        count: envelope.count,
        items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FINDING: &str = "{\n  \"temporary_id\": \"A9\",\n  \"evidence_key\": \"a.example:443\",\n  \"first_seen\": \"2024-05-01\",\n  \"risk_vector\": \"open_ports\",\n  \"rolledup_observation_id\": null,\n  \"severity\": 9.50,\n  \"z_new\": {\"k\": [1, 2]}\n}";

    #[test]
    fn whole_record_on_one_line_with_added_fields() {
        let finding = Finding::from_json("c1", FINDING).unwrap();
        assert_eq!(
            finding.raw_json(),
            r#"{"temporary_id":"A9","evidence_key":"a.example:443","first_seen":"2024-05-01","risk_vector":"open_ports","rolledup_observation_id":null,"severity":9.50,"z_new":{"k":[1,2]}}"#
        );
        assert_eq!(serde_json::to_string(&finding).unwrap(), finding.raw_json());
        let mut added = Map::new();
        added.insert("_time".into(), Value::from("2024-05-01T00:00:00Z"));
        let shipped = finding.to_json_with(&added).unwrap();
        assert!(
            shipped.ends_with(r#""z_new":{"k":[1,2]},"_time":"2024-05-01T00:00:00Z"}"#),
            "{shipped}"
        );
        let empty = Finding::from_json("c1", "{ }").unwrap();
        assert_eq!(
            empty.to_json_with(&added).unwrap(),
            r#"{ "_time":"2024-05-01T00:00:00Z"}"#
        );
        assert_eq!(
            finding.extra().unwrap().keys().collect::<Vec<_>>(),
            ["z_new"]
        );
        assert_eq!(finding.identity().rolledup_observation_id, "");
        assert_eq!(finding.severity_category(), Some(SeverityCategory::Severe));
        assert!(Finding::from_json("c1", "[1]").is_err());
        assert!(Finding::from_json("c1", "{\"a\":1} x").is_err());
    }

    #[test]
    fn text_fields_read_from_the_record_or_decoded() {
        let finding = Finding::from_json(
            "c1",
            r#" {"temporary_id":"A9","risk_vector_label":"Open \"Ports\" \u00e9"} "#,
        )
        .unwrap();
        assert_eq!(finding.temporary_id(), Some("A9"));
        assert_eq!(finding.risk_vector_label(), Some("Open \"Ports\" é"));
        let multiline = Finding::from_json("c1", FINDING).unwrap();
        assert_eq!(multiline.temporary_id(), Some("A9"));
        assert_eq!(multiline.risk_vector_label(), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn identity_reads_back_what_was_sent(
            evidence in ".{0,20}",
            rollup in prop::option::of(".{0,12}"),
            first_seen in "20[0-9]{2}-0[1-9]-[0-2][0-9]",
        ) {
            let mut record = Map::new();
            record.insert("evidence_key".into(), Value::from(evidence.clone()));
            record.insert("first_seen".into(), Value::from(first_seen.clone()));
            record.insert("rolledup_observation_id".into(), rollup.clone().map_or(Value::Null, Value::from));
            let json = Value::Object(record).to_string();
            let finding = Finding::from_json("c", &json).unwrap();
            let identity = finding.identity();
            prop_assert_eq!(&identity.evidence_key, &evidence);
            prop_assert_eq!(&identity.first_seen, &first_seen);
            prop_assert_eq!(&identity.rolledup_observation_id, &rollup.unwrap_or_default());
            let back: FindingIdentity = serde_json::from_str(&serde_json::to_string(identity).unwrap()).unwrap();
            prop_assert_eq!(&back, identity);
            let shipped: Value = serde_json::from_str(&serde_json::to_string(&finding).unwrap()).unwrap();
            prop_assert_eq!(shipped, serde_json::from_str::<Value>(&json).unwrap());
        }
    }
}
