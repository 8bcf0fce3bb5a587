//! The deterministic portfolio: compact records, rendered to Bitsight's JSON on demand.

use time::{Date, Duration};

use super::json_writer::{push_date, push_f64, push_hex, push_str, push_u64};
use crate::vocab::{AssetCategory, Grade, RiskVector, SeverityCategory};

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortfolioSpec {
    /// The seed: the same spec always gives the same portfolio.
    pub seed: u64,
    /// How many companies (the first is `my_company`).
    pub companies: usize,
    /// Findings per company.
    pub findings_per_company: usize,
    /// Earliest `first_seen`.
    pub first_date: Date,
    /// Latest `last_seen` (and `first_seen`).
    pub last_date: Date,
}

/// Strings that have broken SIEM pipelines: CEF and syslog metacharacters, forged
/// headers, line breaks, control characters, odd Unicode, template and lookup syntax.
pub const HOSTILE_STRINGS: &[&str] = &[
    "evil.example.com|CEF:0|Forged|Vendor|1.0|100|forged event|10|src=6.6.6.6",
    "key=value act=blocked msg=forged\\=escape\\\\ trailing\\",
    "line one\nline two\r\n<13>1 2024-01-01T00:00:00Z forged-host app - - - injected",
    "\"quoted\" 'single' \u{0} nul \u{7} bell \u{1b}[31m ansi",
    "ünïcödé 日本語 🚀 \u{202e}evil\u{202c} \u{feff}bom",
    "<script>alert(1)</script> ${jndi:ldap://127.0.0.1/x} {{7*7}} %s%n",
    "] [meta@1 x=\"y\"] \\] \"",
];

/// A small, fast, portable generator (SplitMix64): the same sequence on every platform
/// and every version of this crate's dependencies.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64(u64);

impl SplitMix64 {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..bound` (`bound` > 0).
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }
}

/// One generated finding, kept compact (a few dozen bytes) until it is served.
#[derive(Debug, Clone)]
pub(crate) struct SynthFinding {
    pub(crate) seq: u64,
    pub(crate) first_seen: Date,
    pub(crate) last_seen: Date,
    pub(crate) vector: u8,
    pub(crate) severity_tenths: u8,
    pub(crate) grade: u8,
    pub(crate) asset_category: u8,
    /// 0: no hostile string; n: `HOSTILE_STRINGS[n - 1]`.
    pub(crate) hostile: u8,
    pub(crate) empty_rollup: bool,
    pub(crate) affects_rating: bool,
    pub(crate) salt: u64,
}

/// One generated company and its findings, sorted by (`first_seen`, seq).
#[derive(Debug, Clone)]
pub(crate) struct SynthCompany {
    pub(crate) guid: String,
    pub(crate) name: String,
    pub(crate) domain: String,
    pub(crate) rating: u16,
    pub(crate) findings: Vec<SynthFinding>,
    pub(crate) next_seq: u64,
}

/// A deterministic, seeded portfolio of companies and findings.
#[derive(Debug, Clone)]
pub struct SyntheticPortfolio {
    pub(crate) spec: PortfolioSpec,
    pub(crate) companies: Vec<SynthCompany>,
    rng: SplitMix64,
}

const GRADES: &[Grade] = &[
    Grade::Good,
    Grade::Fair,
    Grade::Warn,
    Grade::Bad,
    Grade::Neutral,
];
const ASSET_CATEGORIES: &[AssetCategory] = &[
    AssetCategory::Low,
    AssetCategory::Medium,
    AssetCategory::High,
    AssetCategory::Critical,
];

fn day_span(first: Date, last: Date) -> u64 {
    u64::try_from((last - first).whole_days()).unwrap_or(0)
}

fn add_days(date: Date, days: u64) -> Date {
    let days = i64::try_from(days).unwrap_or(0);
    date.checked_add(Duration::days(days)).unwrap_or(date)
}

fn narrow(value: u64) -> u8 {
    u8::try_from(value).unwrap_or(u8::MAX)
}

impl SyntheticPortfolio {
    /// Generates the portfolio; cheap (about 10 ms per 100,000 findings).
    #[must_use]
    pub fn generate(spec: PortfolioSpec) -> Self {
        let mut rng = SplitMix64::new(spec.seed);
        let (first, last) = if spec.first_date <= spec.last_date {
            (spec.first_date, spec.last_date)
        } else {
            (spec.last_date, spec.first_date)
        };
        let spec = PortfolioSpec {
            first_date: first,
            last_date: last,
            ..spec
        };
        let mut companies = Vec::with_capacity(spec.companies);
        for index in 0..spec.companies {
            let a = rng.next_u64();
            let b = rng.next_u64();
            let guid = format!(
                "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                a >> 32,
                (a >> 16) & 0xffff,
                a & 0xfff,
                (b >> 48) & 0x3fff | 0x8000,
                b & 0xffff_ffff_ffff
            );
            // Every third company carries a hostile name.
            let name = if index % 3 == 2 {
                format!(
                    "Synthetic {index} {}",
                    HOSTILE_STRINGS[index % HOSTILE_STRINGS.len()]
                )
            } else {
                format!("Synthetic Company {index}")
            };
            let rating = u16::try_from(250 + rng.below(651)).unwrap_or(600);
            let mut company = SynthCompany {
                guid,
                name,
                domain: format!("company{index}.example"),
                rating,
                findings: Vec::with_capacity(spec.findings_per_company),
                next_seq: 0,
            };
            for _ in 0..spec.findings_per_company {
                let days = day_span(first, last);
                let first_seen = add_days(first, rng.below(days + 1));
                let finding = new_finding(&mut rng, &mut company, first_seen, last);
                company.findings.push(finding);
            }
            company
                .findings
                .sort_by_key(|finding| (finding.first_seen, finding.seq));
            companies.push(company);
        }
        Self {
            spec,
            companies,
            rng,
        }
    }

    /// The spec it was generated from.
    #[must_use]
    pub fn spec(&self) -> &PortfolioSpec {
        &self.spec
    }

    /// The company GUIDs, in order; the first is `my_company`.
    #[must_use]
    pub fn company_guids(&self) -> Vec<String> {
        self.companies
            .iter()
            .map(|company| company.guid.clone())
            .collect()
    }

    /// Findings of one company (by index), or 0 for an unknown index.
    #[must_use]
    pub fn finding_count(&self, company: usize) -> usize {
        self.companies.get(company).map_or(0, |c| c.findings.len())
    }

    /// Every finding in the portfolio.
    #[must_use]
    pub fn total_findings(&self) -> usize {
        self.companies
            .iter()
            .map(|company| company.findings.len())
            .sum()
    }

    /// One company's findings as JSON, in `first_seen` order: what the server sends.
    #[must_use]
    pub fn findings_json(&self, company: usize) -> Vec<String> {
        let Some(synth) = self.companies.get(company) else {
            return Vec::new();
        };
        synth
            .findings
            .iter()
            .map(|finding| {
                let mut out = Vec::with_capacity(1024);
                write_finding(&mut out, synth, finding, false);
                String::from_utf8_lossy(&out).into_owned()
            })
            .collect()
    }

    /// Adds `count` new findings first seen on `first_seen` to one company (by index),
    /// as if Bitsight had just found them; returns how many were added (0 for an
    /// unknown company).
    pub fn add_findings(&mut self, company: usize, count: usize, first_seen: Date) -> usize {
        let last = self.spec.last_date.max(first_seen);
        let Some(synth) = self.companies.get_mut(company) else {
            return 0;
        };
        for _ in 0..count {
            let finding = new_finding(&mut self.rng, synth, first_seen, last);
            // Seq only grows, so the new finding goes after every other of its date.
            let at = synth
                .findings
                .partition_point(|f| f.first_seen <= first_seen);
            synth.findings.insert(at, finding);
        }
        count
    }

    /// Moves the last-seen date of one company's `count` earliest findings (in
    /// first-seen order) to `last_seen`, as when Bitsight sees them again; returns how
    /// many moved.
    pub fn touch_findings(&mut self, company: usize, count: usize, last_seen: Date) -> usize {
        let Some(synth) = self.companies.get_mut(company) else {
            return 0;
        };
        let moved = count.min(synth.findings.len());
        for finding in &mut synth.findings[..moved] {
            finding.last_seen = last_seen.max(finding.first_seen);
        }
        moved
    }

    /// Removes one company's `count` earliest findings (in first-seen order), as when
    /// findings age out, so every later finding's offset shifts down; returns how many
    /// were removed.
    pub fn remove_findings(&mut self, company: usize, count: usize) -> usize {
        let Some(synth) = self.companies.get_mut(company) else {
            return 0;
        };
        let removed = count.min(synth.findings.len());
        synth.findings.drain(..removed);
        removed
    }
}

fn new_finding(
    rng: &mut SplitMix64,
    company: &mut SynthCompany,
    first_seen: Date,
    last: Date,
) -> SynthFinding {
    let seq = company.next_seq;
    company.next_seq += 1;
    let last_seen = add_days(first_seen, rng.below(day_span(first_seen, last) + 1));
    let vectors = RiskVector::KNOWN.len() as u64;
    let hostile_roll = rng.below(7 * HOSTILE_STRINGS.len() as u64);
    SynthFinding {
        seq,
        first_seen,
        last_seen,
        vector: narrow(rng.below(vectors)),
        severity_tenths: narrow(10 + rng.below(91)),
        grade: narrow(rng.below(GRADES.len() as u64)),
        asset_category: narrow(rng.below(ASSET_CATEGORIES.len() as u64)),
        // One finding in seven carries a hostile string.
        hostile: if hostile_roll < HOSTILE_STRINGS.len() as u64 {
            narrow(hostile_roll + 1)
        } else {
            0
        },
        // One in eleven has the empty rolledup_observation_id the API sometimes sends.
        empty_rollup: rng.below(11) == 0,
        affects_rating: rng.below(4) != 0,
        salt: rng.next_u64(),
    }
}

impl SynthFinding {
    pub(crate) fn risk_vector(&self) -> &'static RiskVector {
        &RiskVector::KNOWN[usize::from(self.vector) % RiskVector::KNOWN.len()]
    }

    pub(crate) fn severity(&self) -> f64 {
        f64::from(self.severity_tenths) / 10.0
    }

    pub(crate) fn grade(&self) -> &'static Grade {
        &GRADES[usize::from(self.grade) % GRADES.len()]
    }

    pub(crate) fn asset_category(&self) -> &'static AssetCategory {
        &ASSET_CATEGORIES[usize::from(self.asset_category) % ASSET_CATEGORIES.len()]
    }

    fn hostile(&self) -> Option<&'static str> {
        usize::from(self.hostile)
            .checked_sub(1)
            .and_then(|index| HOSTILE_STRINGS.get(index).copied())
    }

    fn uses_ip(&self) -> bool {
        matches!(
            self.risk_vector(),
            RiskVector::OpenPorts
                | RiskVector::BotnetInfections
                | RiskVector::SpamPropagation
                | RiskVector::MalwareServers
                | RiskVector::PotentiallyExploited
                | RiskVector::UnsolicitedComm
                | RiskVector::InsecureSystems
        )
    }
}

const COUNTRIES: &[(&str, &str)] = &[
    ("United States", "US"),
    ("Germany", "DE"),
    ("Japan", "JP"),
    ("Brazil", "BR"),
    ("France", "FR"),
];

/// Renders one finding as Bitsight's JSON into `out` (serde_json's compact form).
pub(crate) fn write_finding(
    out: &mut Vec<u8>,
    company: &SynthCompany,
    finding: &SynthFinding,
    attributed: bool,
) {
    let salt = finding.salt;
    let port = u16::try_from(1024 + (finding.seq / 256) % 60_000).unwrap_or(443);
    let host = finding.seq % 256;
    // The evidence key: `ip:port` or a host name; plain ASCII, so it needs no escaping.
    let mut evidence = Vec::with_capacity(64);
    if finding.uses_ip() {
        evidence.extend_from_slice(b"203.0.113.");
        push_u64(&mut evidence, host);
        evidence.push(b':');
        push_u64(&mut evidence, u64::from(port));
    } else {
        evidence.extend_from_slice(b"host");
        push_u64(&mut evidence, finding.seq);
        evidence.push(b'.');
        evidence.extend_from_slice(company.domain.as_bytes());
    }
    let evidence = std::str::from_utf8(&evidence).unwrap_or_default();
    // Hostile strings go where real ones do: the evidence key, the asset name, the
    // server banner, the searchable details.
    let (evidence, asset, server, searchable) = match (finding.hostile(), finding.seq % 4) {
        (Some(h), 0) => (h, evidence, "nginx", "searchable"),
        (Some(h), 1) => (evidence, h, "nginx", "searchable"),
        (Some(h), 2) => (evidence, evidence, h, "searchable"),
        (Some(h), _) => (evidence, evidence, "Apache/2.4.1", h),
        (None, _) => (
            evidence,
            evidence,
            "Apache/2.4.1",
            "port open, service banner seen",
        ),
    };
    let vector = finding.risk_vector();
    let severity = finding.severity();
    let (country, geo) = COUNTRIES[usize::try_from(salt % 5).unwrap_or(0)];

    out.extend_from_slice(b"{\"temporary_id\":\"");
    push_hex(out, salt ^ finding.seq, 16);
    out.extend_from_slice(b"\",\"affects_rating\":");
    out.extend_from_slice(if finding.affects_rating {
        b"true"
    } else {
        b"false"
    });
    out.extend_from_slice(b",\"assets\":[{\"asset\":");
    push_str(out, asset);
    out.extend_from_slice(b",\"identifier\":null,\"category\":");
    push_str(out, finding.asset_category().as_str());
    out.extend_from_slice(b",\"importance\":");
    push_f64(out, f64::from(finding.asset_category) / 3.0);
    out.extend_from_slice(b",\"is_ip\":");
    out.extend_from_slice(if finding.uses_ip() { b"true" } else { b"false" });
    out.extend_from_slice(
        b"}],\"details\":{\"check_pass\":\"\",\"diligence_annotations\":{\"transport\":\"tcp\",\"Server\":",
    );
    push_str(out, server);
    out.extend_from_slice(b",\"Status\":\"HTTP/1.1 200 OK\"},\"grade\":");
    push_str(out, finding.grade().as_str());
    out.extend_from_slice(
        b",\"remediations\":[{\"message\":\"Close the port or restrict it to trusted networks.\",\"help_text\":\"This port is reachable from the Internet.\",\"remediation_tip\":\"Review firewall rules for this service.\"}],\"observed_ips\":[\"203.0.113.",
    );
    push_u64(out, host);
    out.extend_from_slice(b"\"],\"country\":");
    push_str(out, country);
    out.extend_from_slice(b",\"geo_ip_location\":");
    push_str(out, geo);
    out.extend_from_slice(b",\"dest_port\":");
    push_u64(out, u64::from(port));
    out.extend_from_slice(b",\"rollup_start_date\":\"");
    push_date(out, finding.first_seen);
    out.extend_from_slice(b"\",\"rollup_end_date\":\"");
    push_date(out, finding.last_seen);
    out.extend_from_slice(b"\",\"searchable_details\":");
    push_str(out, searchable);
    out.extend_from_slice(b"},\"evidence_key\":");
    push_str(out, evidence);
    out.extend_from_slice(b",\"first_seen\":\"");
    push_date(out, finding.first_seen);
    out.extend_from_slice(b"\",\"last_seen\":\"");
    push_date(out, finding.last_seen);
    out.extend_from_slice(b"\",\"related_findings\":[],\"risk_category\":");
    push_str(out, risk_category(vector));
    out.extend_from_slice(b",\"risk_vector\":");
    push_str(out, vector.as_str());
    out.extend_from_slice(b",\"risk_vector_label\":");
    push_str(out, vector.label());
    out.extend_from_slice(b",\"rolledup_observation_id\":\"");
    if !finding.empty_rollup {
        push_hex(out, salt >> 20, 0);
        out.push(b'-');
        push_hex(out, finding.seq, 0);
    }
    out.extend_from_slice(b"\",\"severity\":");
    push_f64(out, severity);
    out.extend_from_slice(b",\"severity_category\":");
    push_str(out, SeverityCategory::of_severity(severity).as_str());
    out.extend_from_slice(
        b",\"tags\":[],\"remediation_history\":{\"last_requested_refresh_date\":null,\"last_refresh_status_date\":null,\"last_refresh_status_label\":null,\"last_refresh_reason_code\":null},\"asset_overrides\":[],\"duration\":null,\"comments\":null,\"remaining_decay\":",
    );
    push_u64(out, salt % 60);
    out.extend_from_slice(b",\"impacts_risk_vector_details\":");
    out.extend_from_slice(if finding.affects_rating {
        b"\"AFFECTS_RATING\"".as_slice()
    } else {
        b"\"GRACE_PERIOD\"".as_slice()
    });
    if attributed {
        out.extend_from_slice(b",\"attributed_companies\":[{\"guid\":");
        push_str(out, &company.guid);
        out.extend_from_slice(b",\"name\":");
        push_str(out, &company.name);
        out.extend_from_slice(b"}]");
    }
    out.push(b'}');
}

pub(crate) fn risk_category(vector: &RiskVector) -> &'static str {
    match vector {
        RiskVector::BotnetInfections
        | RiskVector::SpamPropagation
        | RiskVector::MalwareServers
        | RiskVector::UnsolicitedComm
        | RiskVector::PotentiallyExploited => "Compromised Systems",
        RiskVector::FileSharing | RiskVector::DataBreaches => "User Behavior",
        _ => "Diligence",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn spec() -> PortfolioSpec {
        PortfolioSpec {
            seed: 7,
            companies: 3,
            findings_per_company: 200,
            first_date: date!(2024 - 01 - 01),
            last_date: date!(2024 - 03 - 31),
        }
    }

    #[test]
    fn same_seed_same_portfolio() {
        let a = SyntheticPortfolio::generate(spec());
        let b = SyntheticPortfolio::generate(spec());
        assert_eq!(a.company_guids(), b.company_guids());
        assert_eq!(a.findings_json(1), b.findings_json(1));
        let other = SyntheticPortfolio::generate(PortfolioSpec { seed: 8, ..spec() });
        assert_ne!(a.company_guids(), other.company_guids());
    }

    #[test]
    fn findings_are_valid_sorted_and_hostile_in_places() {
        let portfolio = SyntheticPortfolio::generate(spec());
        let json = portfolio.findings_json(0);
        assert_eq!(json.len(), 200);
        let guid = &portfolio.company_guids()[0];
        let findings: Vec<crate::Finding> = json
            .iter()
            .map(|j| crate::Finding::from_json(guid, j).unwrap())
            .collect();
        assert!(
            findings
                .windows(2)
                .all(|w| w[0].first_seen() <= w[1].first_seen())
        );
        assert!(
            findings
                .iter()
                .any(|f| f.rolledup_observation_id().is_empty())
        );
        assert!(json.iter().any(|j| j.contains("CEF:0|Forged")));
        let identities: std::collections::HashSet<_> =
            findings.iter().map(crate::Finding::identity).collect();
        assert_eq!(identities.len(), findings.len(), "identities are unique");
        insta::assert_snapshot!(json[0]);
    }

    #[test]
    fn rendered_findings_are_serde_json_compact_form() {
        let portfolio = SyntheticPortfolio::generate(spec());
        let mut hostile = 0;
        for company in &portfolio.companies {
            for finding in &company.findings {
                hostile += usize::from(finding.hostile().is_some());
                for attributed in [false, true] {
                    let mut out = Vec::new();
                    write_finding(&mut out, company, finding, attributed);
                    let text = String::from_utf8(out).unwrap();
                    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
                    assert_eq!(value.to_string(), text);
                    assert_eq!(value.get("attributed_companies").is_some(), attributed);
                }
            }
        }
        assert!(hostile > 0, "some findings carry hostile strings");
    }

    #[test]
    fn added_findings_keep_order() {
        let mut portfolio = SyntheticPortfolio::generate(spec());
        assert_eq!(portfolio.add_findings(0, 5, date!(2024 - 02 - 15)), 5);
        assert_eq!(portfolio.finding_count(0), 205);
        let dates: Vec<_> = portfolio.companies[0]
            .findings
            .iter()
            .map(|f| f.first_seen)
            .collect();
        assert!(dates.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(portfolio.add_findings(9, 5, date!(2024 - 02 - 15)), 0);
    }
}
