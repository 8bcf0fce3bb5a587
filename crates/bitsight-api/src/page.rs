//! The light path: a findings page decoded only as far as each finding's exact text,
//! identity, `temporary_id` and dates; the typed fields on demand.

use std::ops::Range;
use std::sync::Arc;

use serde_json::{Map, Value};
use time::Date;

use crate::finding::{FieldText, Finding, FindingIdentityRef, json_with};
use crate::lenient::parse_date;
use crate::paging::{DecodedPage, PageItems};
use crate::query::MAX_PAGE_SIZE;
use crate::reader::read_light_finding;
use crate::scan::{has_line_breaks, read_page, single_line};

/// One page of findings from [`Client::findings_pages`](crate::Client::findings_pages),
/// decoded light: the page's text is kept whole (one allocation for the page, none per
/// finding) and each finding is located in it, with its identity, `temporary_id`,
/// `first_seen` and `last_seen`. [`LightFinding::to_finding`] decodes the typed
/// fields of one finding when they are needed.
///
/// The page was checked as the full decode checks it (valid JSON, UTF-8, a
/// `results` array of objects), except that the typed fields a light decode does
/// not read are not looked into beyond JSON syntax: a finding whose `assets` (say)
/// the full decode refuses passes here, and its [`LightFinding::to_finding`] says so.
#[derive(Clone)]
pub struct FindingsPage {
    text: String,
    company: Arc<str>,
    offset: u64,
    next_offset: Option<u64>,
    count: Option<u64>,
    entries: Vec<Entry>,
}

/// Where a finding's parts are in the page text.
#[derive(Debug, Clone)]
struct Entry {
    raw: RawText,
    temporary_id: Option<FieldText>,
    risk_vector: Option<FieldText>,
    evidence_key: Option<FieldText>,
    rolledup_observation_id: Option<FieldText>,
    first_seen_text: Option<FieldText>,
    first_seen: Option<Date>,
    last_seen: Option<Date>,
}

/// A finding's text: a range of the page text, or its one-line form when the API
/// sent it across lines.
#[derive(Debug, Clone)]
enum RawText {
    InPage(Range<usize>),
    OneLine(Box<str>),
}

impl PageItems for FindingsPage {
    fn item_count(&self) -> usize {
        self.entries.len()
    }
}

impl FindingsPage {
    /// How many findings the page holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the page holds no finding.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The finding at `index` in the page.
    #[must_use]
    pub fn get(&self, index: usize) -> Option<LightFinding<'_>> {
        self.entries
            .get(index)
            .map(|entry| LightFinding { page: self, entry })
    }

    /// The findings, in the page's order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = LightFinding<'_>> + DoubleEndedIterator {
        self.entries
            .iter()
            .map(|entry| LightFinding { page: self, entry })
    }

    /// The company GUID the page was fetched for.
    #[must_use]
    pub fn company_guid(&self) -> &str {
        &self.company
    }

    /// The `offset` of the page's first finding in the listing.
    #[must_use]
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The `offset` the stream asks for next (already in flight), or `None` when this
    /// is the last page.
    #[must_use]
    pub fn next_offset(&self) -> Option<u64> {
        self.next_offset
    }

    /// The `count` the API reported: findings in the whole listing.
    #[must_use]
    pub fn count(&self) -> Option<u64> {
        self.count
    }

    pub(crate) fn place(&mut self, offset: u64, next_offset: Option<u64>) {
        self.offset = offset;
        self.next_offset = next_offset;
    }
}

/// The page's place and size (its text is left out).
impl std::fmt::Debug for FindingsPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FindingsPage")
            .field("company", &self.company)
            .field("offset", &self.offset)
            .field("next_offset", &self.next_offset)
            .field("count", &self.count)
            .field("len", &self.entries.len())
            .finish_non_exhaustive()
    }
}

/// One finding of a [`FindingsPage`], borrowed from it: its exact text, identity,
/// `temporary_id` and dates, with the typed fields on demand
/// ([`LightFinding::to_finding`]). Each accessor agrees with [`Finding`]'s.
#[derive(Clone, Copy)]
pub struct LightFinding<'a> {
    page: &'a FindingsPage,
    entry: &'a Entry,
}

/// The identity, as [`Finding`]'s Debug shows it.
impl std::fmt::Debug for LightFinding<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LightFinding")
            .field("identity", &self.identity())
            .field("temporary_id", &self.temporary_id())
            .finish_non_exhaustive()
    }
}

impl<'a> LightFinding<'a> {
    fn field(self, field: Option<&'a FieldText>) -> &'a str {
        FieldText::or_empty(field, &self.page.text)
    }

    /// The record as the API sent it, on one line (as [`Finding::raw_json`]).
    #[must_use]
    pub fn raw_json(self) -> &'a str {
        match &self.entry.raw {
            RawText::InPage(range) => self.page.text.get(range.clone()).unwrap_or_default(),
            RawText::OneLine(text) => text,
        }
    }

    /// The company GUID the finding was fetched for.
    #[must_use]
    pub fn company_guid(self) -> &'a str {
        &self.page.company
    }

    /// The stable identity (as [`Finding::identity_ref`]).
    #[must_use]
    pub fn identity(self) -> FindingIdentityRef<'a> {
        let entry = self.entry;
        FindingIdentityRef {
            company_guid: &self.page.company,
            risk_vector: self.field(entry.risk_vector.as_ref()),
            evidence_key: self.field(entry.evidence_key.as_ref()),
            rolledup_observation_id: self.field(entry.rolledup_observation_id.as_ref()),
            first_seen: self.field(entry.first_seen_text.as_ref()),
        }
    }

    /// `temporary_id` (as [`Finding::temporary_id`]).
    #[must_use]
    pub fn temporary_id(self) -> Option<&'a str> {
        self.entry
            .temporary_id
            .as_ref()
            .map(|text| text.get(&self.page.text))
    }

    /// `first_seen`, when present and a valid `YYYY-MM-DD` date.
    #[must_use]
    pub fn first_seen(self) -> Option<Date> {
        self.entry.first_seen
    }

    /// `last_seen`, when present and a valid `YYYY-MM-DD` date.
    #[must_use]
    pub fn last_seen(self) -> Option<Date> {
        self.entry.last_seen
    }

    /// The record with `added` fields appended (as [`Finding::to_json_with`]).
    ///
    /// # Errors
    /// When a value of `added` cannot be serialised (a map with non-string keys).
    pub fn to_json_with(self, added: &Map<String, Value>) -> Result<String, serde_json::Error> {
        json_with(self.raw_json(), added)
    }

    /// The full typed decode of this finding.
    ///
    /// # Errors
    /// When a typed field is one the full decode refuses (a duplicate typed field, or
    /// a lone surrogate or out-of-range number in one), which the light decode did not
    /// look into.
    pub fn to_finding(self) -> Result<Finding, serde_json::Error> {
        Finding::from_object_text(&self.page.company, self.raw_json())
    }
}

/// Decodes a findings page light, in one validating pass (see [`crate::reader`]).
pub(crate) fn decode_light_page(
    body: bytes::Bytes,
    company_guid: &str,
) -> Result<DecodedPage<FindingsPage>, serde_json::Error> {
    use serde::de::Error as _;
    // The body is usually the only owner of its buffer, so this takes it without a copy.
    let text = String::from_utf8(Vec::from(body))
        .map_err(|_| serde_json::Error::custom("the response is not UTF-8"))?;
    let mut entries = Vec::with_capacity((text.len() / 1024).clamp(1, usize::from(MAX_PAGE_SIZE)));
    let base = text.as_str();
    let line_breaks = has_line_breaks(base);
    let envelope = read_page(base, |rest| {
        let (fields, len) = read_light_finding(rest)?;
        let object = rest.get(..len).unwrap_or_default();
        let start = object.as_ptr().addr() - base.as_ptr().addr();
        let raw = match line_breaks.then(|| single_line(object)) {
            None | Some(std::borrow::Cow::Borrowed(_)) => RawText::InPage(start..start + len),
            Some(std::borrow::Cow::Owned(line)) => RawText::OneLine(line.into_boxed_str()),
        };
        entries.push(Entry {
            raw,
            first_seen: fields.first_seen.0.as_deref().and_then(parse_date),
            last_seen: fields.last_seen.0.as_deref().and_then(parse_date),
            temporary_id: FieldText::new(fields.temporary_id, base),
            risk_vector: FieldText::new(fields.risk_vector, base),
            evidence_key: FieldText::new(fields.evidence_key, base),
            rolledup_observation_id: FieldText::new(fields.rolledup_observation_id, base),
            first_seen_text: FieldText::new(fields.first_seen, base),
        });
        Ok(len)
    })?;
    Ok(DecodedPage {
        links: envelope.links,
        count: envelope.count,
        items: FindingsPage {
            company: Arc::from(company_guid),
            offset: 0,
            next_offset: None,
            count: envelope.count,
            entries,
            text,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::decode_findings_page;
    use proptest::prelude::*;
    use serde_json::json;

    fn light(page: &str) -> Result<FindingsPage, serde_json::Error> {
        decode_light_page(bytes::Bytes::from(page.to_owned()), "c1").map(|page| page.items)
    }

    fn full(page: &str) -> Result<Vec<Finding>, serde_json::Error> {
        decode_findings_page(page.as_bytes(), "c1").map(|page| page.items)
    }

    /// The light decode of `page` agrees with the full one: the same findings, text,
    /// identity, `temporary_id` and dates, and a page refused by the full decode is
    /// refused by the light one or holds a finding whose typed decode fails.
    fn assert_agree(page: &str) -> Result<(), TestCaseError> {
        match (full(page), light(page)) {
            (Ok(full), Ok(light)) => {
                prop_assert_eq!(full.len(), light.len());
                for (full, light) in full.iter().zip(light.iter()) {
                    prop_assert_eq!(light.raw_json(), full.raw_json());
                    prop_assert_eq!(light.identity(), full.identity_ref());
                    prop_assert_eq!(light.identity(), full.identity().clone());
                    prop_assert_eq!(light.temporary_id(), full.temporary_id());
                    prop_assert_eq!(light.first_seen(), full.first_seen());
                    prop_assert_eq!(light.last_seen(), full.last_seen());
                    prop_assert_eq!(light.company_guid(), full.company_guid());
                    prop_assert_eq!(&light.to_finding().unwrap(), full);
                }
            }
            (Err(_), Ok(light)) => {
                prop_assert!(light.iter().any(|finding| finding.to_finding().is_err()));
            }
            (Ok(_), Err(error)) => prop_assert!(false, "light refused {page:?}: {error}"),
            (Err(_), Err(_)) => {}
        }
        Ok(())
    }

    #[test]
    fn pages_read_light_as_they_read_full() {
        let page = r#"{"links":{"next":null},"count":3,"results":[
            {"temporary_id":"A\u0031","risk_vector":"open_ports","evidence_key":"a:1","first_seen":"2024-05-01","last_seen":"2024-05-09","rolledup_observation_id":"r1","assets":[{"asset":"x"}]},
            {"evidence_key":"b\"2","first_seen":"2024-02-30","rolledup_observation_id":null,"tags":["t"]},
            {}
        ]}"#;
        let decoded = light(page).unwrap();
        assert_eq!(decoded.len(), 3);
        let first = decoded.get(0).unwrap();
        assert_eq!(first.temporary_id(), Some("A1"));
        assert_eq!(
            first.identity().to_string(),
            "c1/open_ports/a:1/r1/2024-05-01"
        );
        assert_eq!(first.last_seen(), Some(time::macros::date!(2024 - 05 - 09)));
        let second = decoded.get(1).unwrap();
        assert_eq!(second.identity().evidence_key, "b\"2");
        assert_eq!(second.first_seen(), None);
        assert_eq!(second.identity().first_seen, "2024-02-30");
        assert!(second.raw_json().starts_with(r#"{"evidence_key":"b\"2","#));
        assert_eq!(decoded.get(2).unwrap().raw_json(), "{}");
        assert!(decoded.get(3).is_none());
        assert!(format!("{decoded:?}").len() < 200);
        assert_agree(page).unwrap();
        // A typed field the light decode skips is refused only on demand.
        let odd = r#"{"results":[{"evidence_key":"k","assets":[{"asset":"a","asset":"b"}]}]}"#;
        assert!(full(odd).is_err());
        let decoded = light(odd).unwrap();
        assert_eq!(decoded.get(0).unwrap().identity().evidence_key, "k");
        assert!(decoded.get(0).unwrap().to_finding().is_err());
        assert_agree(odd).unwrap();
        for refused in [
            r#"{"results":[{"evidence_key":"a","evidence_key":"b"}]}"#,
            r#"{"results":[{"evidence_key":"\ud800"}]}"#,
            r#"{"results":[1]}"#,
            r#"{"results":[{"x":tru}]}"#,
        ] {
            assert!(light(refused).is_err(), "{refused}");
            assert_agree(refused).unwrap();
        }
        assert!(
            decode_light_page(bytes::Bytes::from_static(b"{\"results\":[\"\xff\"]}"), "c").is_err()
        );
    }

    fn text() -> impl Strategy<Value = Value> {
        prop_oneof![
            "(.|[\\x00-\\x1f\"\\\\])*".prop_map(Value::from),
            Just(Value::from("2024-02-29")),
            Just(Value::from("2023-02-29")),
            Just(Value::from("")),
        ]
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            (-10_000_i32..10_000).prop_map(|n| Value::from(f64::from(n) / 8.0)),
            text(),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec(
                    (
                        prop_oneof![
                            Just("grade".to_owned()),
                            Just("asset".to_owned()),
                            Just("is_ip".to_owned()),
                            ".{0,6}"
                        ],
                        inner
                    ),
                    0..4
                )
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            ]
        })
    }

    fn finding() -> impl Strategy<Value = Value> {
        let key = prop_oneof![
            3 => prop::sample::select(crate::TYPED_FINDING_FIELDS).prop_map(str::to_owned),
            1 => ".{0,8}",
        ];
        let value = prop_oneof![2 => text(), 1 => json_value()];
        prop::collection::vec((key, value), 0..10)
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>()))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn light_and_full_decodes_agree(
            findings in prop::collection::vec(finding(), 0..5),
            pretty in any::<bool>(),
            duplicate in prop::option::of((any::<prop::sample::Index>(), prop::sample::select(crate::TYPED_FINDING_FIELDS))),
        ) {
            let page = json!({"links": {"next": null}, "count": findings.len(), "results": findings});
            let mut text = if pretty { serde_json::to_string_pretty(&page).unwrap() } else { page.to_string() };
            // Sometimes a typed field twice in one finding (which serde_json refuses).
            if let Some((at, name)) = duplicate {
                let openings: Vec<usize> = text.match_indices("{\"").map(|(at, _)| at).skip(1).collect();
                if !openings.is_empty() {
                    let at = openings[at.index(openings.len())];
                    text.insert_str(at + 1, &format!("\"{name}\":\"x\","));
                }
            }
            assert_agree(&text)?;
        }
    }
}
