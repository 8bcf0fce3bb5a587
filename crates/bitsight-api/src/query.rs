//! Typed request parameters for findings and alerts.

use time::Date;

use crate::lenient::format_date;
use crate::vocab::{
    AffectsRatingReason, AssetCategory, Grade, RiskCategory, RiskVector, SeverityCategory,
};

/// The largest page Bitsight serves.
pub const MAX_PAGE_SIZE: u16 = 1000;

/// Order of findings. Always sent: Bitsight's default order is severity-based and
/// unstable, so offset paging without a sort skips findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FindingsSort {
    /// Oldest `first_seen` first; new findings append at the tail (the default).
    #[default]
    FirstSeen,
    /// Oldest `last_seen` first.
    LastSeen,
    /// Newest `first_seen` first.
    FirstSeenDescending,
    /// Newest `last_seen` first.
    LastSeenDescending,
}

impl FindingsSort {
    /// The `sort` parameter's value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FirstSeen => "first_seen",
            Self::LastSeen => "last_seen",
            Self::FirstSeenDescending => "-first_seen",
            Self::LastSeenDescending => "-last_seen",
        }
    }
}

/// Extra data Bitsight adds to findings on request (`expand`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingsExpand {
    /// `attributed_companies`: which companies a finding is attributed to.
    AttributedCompanies,
    /// `affects_rating_details`: why a finding does or does not affect the rating.
    AffectsRatingDetails,
}

impl FindingsExpand {
    /// The `expand` parameter's value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AttributedCompanies => "attributed_companies",
            Self::AffectsRatingDetails => "affects_rating_details",
        }
    }
}

/// Filters and paging for `/ratings/v1/companies/{guid}/findings`. Empty lists and
/// `None` mean "no filter".
#[derive(Debug, Clone, PartialEq)]
pub struct FindingsQuery {
    /// `first_seen_gte`.
    pub first_seen_gte: Option<Date>,
    /// `first_seen_lte`.
    pub first_seen_lte: Option<Date>,
    /// `last_seen_gte`.
    pub last_seen_gte: Option<Date>,
    /// `last_seen_lte`.
    pub last_seen_lte: Option<Date>,
    /// `severity_gte` (0 to 10); see [`FindingsQuery::min_severity`].
    pub severity_gte: Option<f64>,
    /// `risk_vector`, sent as slugs.
    pub risk_vectors: Vec<RiskVector>,
    /// `risk_category`.
    pub risk_categories: Vec<RiskCategory>,
    /// `details.grade`.
    pub grades: Vec<Grade>,
    /// `assets.category`; see [`AssetCategory::and_above`].
    pub asset_categories: Vec<AssetCategory>,
    /// `affects_rating`.
    pub affects_rating: Option<bool>,
    /// `impacts_risk_vector_details`: why findings do or do not affect the rating.
    pub affects_rating_reasons: Vec<AffectsRatingReason>,
    /// `expand`.
    pub expand: Vec<FindingsExpand>,
    /// `unsampled=true`: every finding rather than a sample (on by default).
    pub unsampled: bool,
    /// `sort`, always sent.
    pub sort: FindingsSort,
    /// `limit`: results per page, 1 to 1000 (values outside are clamped). Default 1000.
    pub page_size: u16,
    /// `offset` of the first page. Default 0.
    pub offset: u64,
}

impl Default for FindingsQuery {
    fn default() -> Self {
        Self {
            first_seen_gte: None,
            first_seen_lte: None,
            last_seen_gte: None,
            last_seen_lte: None,
            severity_gte: None,
            risk_vectors: Vec::new(),
            risk_categories: Vec::new(),
            grades: Vec::new(),
            asset_categories: Vec::new(),
            affects_rating: None,
            affects_rating_reasons: Vec::new(),
            expand: Vec::new(),
            unsampled: true,
            sort: FindingsSort::FirstSeen,
            page_size: MAX_PAGE_SIZE,
            offset: 0,
        }
    }
}

fn join<T>(items: &[T], as_str: impl Fn(&T) -> &str) -> String {
    items.iter().map(as_str).collect::<Vec<_>>().join(",")
}

fn clamp_page_size(page_size: u16) -> u16 {
    page_size.clamp(1, MAX_PAGE_SIZE)
}

impl FindingsQuery {
    /// Findings of this category and worse: sets `severity_gte` to 1, 4, 7 or 9.
    /// An unknown category leaves the filter unchanged.
    #[must_use]
    pub fn min_severity(mut self, category: &SeverityCategory) -> Self {
        if let Some(min) = category.min_severity() {
            self.severity_gte = Some(min);
        }
        self
    }

    /// The filter parameters alone (no paging, sort or expand), as the summary and
    /// statistics endpoints take them.
    #[must_use]
    pub fn filter_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        let dates = [
            ("first_seen_gte", self.first_seen_gte),
            ("first_seen_lte", self.first_seen_lte),
            ("last_seen_gte", self.last_seen_gte),
            ("last_seen_lte", self.last_seen_lte),
        ];
        for (name, date) in dates {
            if let Some(date) = date {
                pairs.push((name, format_date(date)));
            }
        }
        if let Some(min) = self.severity_gte {
            pairs.push(("severity_gte", min.to_string()));
        }
        if !self.risk_vectors.is_empty() {
            pairs.push(("risk_vector", join(&self.risk_vectors, RiskVector::as_str)));
        }
        if !self.risk_categories.is_empty() {
            pairs.push((
                "risk_category",
                join(&self.risk_categories, RiskCategory::as_str),
            ));
        }
        if !self.grades.is_empty() {
            pairs.push(("details.grade", join(&self.grades, Grade::as_str)));
        }
        if !self.asset_categories.is_empty() {
            pairs.push((
                "assets.category",
                join(&self.asset_categories, AssetCategory::as_str),
            ));
        }
        if let Some(affects) = self.affects_rating {
            pairs.push(("affects_rating", affects.to_string()));
        }
        if !self.affects_rating_reasons.is_empty() {
            pairs.push((
                "impacts_risk_vector_details",
                join(&self.affects_rating_reasons, AffectsRatingReason::as_str),
            ));
        }
        if self.unsampled {
            pairs.push(("unsampled", "true".to_owned()));
        }
        pairs
    }

    /// Every parameter of the first page, in a fixed order.
    #[must_use]
    pub fn query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = self.filter_pairs();
        if !self.expand.is_empty() {
            pairs.push(("expand", join(&self.expand, |e| e.as_str())));
        }
        pairs.push(("sort", self.sort.as_str().to_owned()));
        pairs.push(("limit", clamp_page_size(self.page_size).to_string()));
        pairs.push(("offset", self.offset.to_string()));
        pairs
    }
}

/// Order of alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AlertsSort {
    /// Oldest `alert_date` first (the default).
    #[default]
    AlertDate,
    /// By alert `guid`.
    Guid,
    /// By company name.
    CompanyName,
    /// By severity.
    Severity,
}

impl AlertsSort {
    /// The `sort` parameter's value.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AlertDate => "alert_date",
            Self::Guid => "guid",
            Self::CompanyName => "company_name",
            Self::Severity => "severity",
        }
    }
}

/// Filters and paging for `/ratings/v2/alerts`.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertsQuery {
    /// `alert_date_gte`.
    pub alert_date_gte: Option<Date>,
    /// `alert_date_lte`.
    pub alert_date_lte: Option<Date>,
    /// `alert_type` (e.g. `RISK_CATEGORY`, `PERCENT_CHANGE`).
    pub alert_types: Vec<String>,
    /// `severity` (e.g. `WARN`, `CRITICAL`).
    pub severities: Vec<String>,
    /// `company_guid`: one company's alerts.
    pub company_guid: Option<String>,
    /// `folder_guid`: one folder's alerts.
    pub folder_guid: Option<String>,
    /// `expand=company_custom_id,details`.
    pub expand_details: bool,
    /// `sort`, always sent.
    pub sort: AlertsSort,
    /// `limit`: 1 to 1000 (clamped). Default 1000.
    pub page_size: u16,
    /// `offset` of the first page.
    pub offset: u64,
}

impl Default for AlertsQuery {
    fn default() -> Self {
        Self {
            alert_date_gte: None,
            alert_date_lte: None,
            alert_types: Vec::new(),
            severities: Vec::new(),
            company_guid: None,
            folder_guid: None,
            expand_details: false,
            sort: AlertsSort::AlertDate,
            page_size: MAX_PAGE_SIZE,
            offset: 0,
        }
    }
}

impl AlertsQuery {
    /// Every parameter of the first page, in a fixed order.
    #[must_use]
    pub fn query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(date) = self.alert_date_gte {
            pairs.push(("alert_date_gte", format_date(date)));
        }
        if let Some(date) = self.alert_date_lte {
            pairs.push(("alert_date_lte", format_date(date)));
        }
        if !self.alert_types.is_empty() {
            pairs.push(("alert_type", self.alert_types.join(",")));
        }
        if !self.severities.is_empty() {
            pairs.push(("severity", self.severities.join(",")));
        }
        if let Some(guid) = &self.company_guid {
            pairs.push(("company_guid", guid.clone()));
        }
        if let Some(guid) = &self.folder_guid {
            pairs.push(("folder_guid", guid.clone()));
        }
        if self.expand_details {
            pairs.push(("expand", "company_custom_id,details".to_owned()));
        }
        pairs.push(("sort", self.sort.as_str().to_owned()));
        pairs.push(("limit", clamp_page_size(self.page_size).to_string()));
        pairs.push(("offset", self.offset.to_string()));
        pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn every_findings_filter() {
        let query = FindingsQuery {
            first_seen_gte: Some(date!(2024 - 01 - 01)),
            first_seen_lte: Some(date!(2024 - 01 - 31)),
            last_seen_gte: Some(date!(2024 - 02 - 01)),
            last_seen_lte: Some(date!(2024 - 02 - 29)),
            risk_vectors: vec![RiskVector::Spf, RiskVector::OpenPorts],
            risk_categories: vec![RiskCategory::Diligence],
            grades: vec![Grade::Warn, Grade::Bad],
            asset_categories: AssetCategory::High.and_above(),
            affects_rating: Some(true),
            affects_rating_reasons: vec![AffectsRatingReason::GracePeriod],
            expand: vec![FindingsExpand::AttributedCompanies],
            sort: FindingsSort::LastSeen,
            page_size: 5000,
            offset: 2000,
            ..FindingsQuery::default()
        }
        .min_severity(&SeverityCategory::Material);
        insta::assert_yaml_snapshot!(query.query_pairs());
    }

    #[test]
    fn default_query_always_sorts() {
        insta::assert_yaml_snapshot!(FindingsQuery::default().query_pairs());
    }

    #[test]
    fn alerts_query() {
        let query = AlertsQuery {
            alert_date_gte: Some(date!(2024 - 05 - 01)),
            alert_date_lte: Some(date!(2024 - 05 - 31)),
            alert_types: vec!["RISK_CATEGORY".into()],
            severities: vec!["WARN".into(), "CRITICAL".into()],
            company_guid: Some("c1".into()),
            expand_details: true,
            page_size: 0,
            ..AlertsQuery::default()
        };
        insta::assert_yaml_snapshot!(query.query_pairs());
    }
}
