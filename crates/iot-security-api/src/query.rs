//! Filters for the list endpoints.

use time::OffsetDateTime;

use crate::time_format::format_stime;

/// Sort direction of a list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortDirection {
    /// Oldest (or lowest) first: stable paging while records are added.
    #[default]
    Asc,
    /// Newest (or highest) first.
    Desc,
}

impl SortDirection {
    fn as_str(self) -> &'static str {
        match self {
            Self::Asc => "asc",
            Self::Desc => "desc",
        }
    }
}

/// The largest list offset a query may start at (`i64::MAX`): no list is that long, it
/// fits the API's integer parameters, and adding page lengths to it while paging cannot
/// overflow.
pub const MAX_OFFSET: u64 = i64::MAX.unsigned_abs();

/// Query parameters as sent on the wire.
pub(crate) type Params = Vec<(&'static str, String)>;

/// Filters for [`Client::devices`](crate::Client::devices).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceQuery {
    /// Ask for every attribute (`detail=true`); the default.
    pub detail: bool,
    /// Only devices active at or after this instant (`stime`).
    pub stime: Option<OffsetDateTime>,
    /// Only devices whose traffic is (or is not) restricted.
    pub traffic_restricted: Option<bool>,
    /// Order by MAC address (the only sort field the API has); ascending by default.
    pub sort_direction: SortDirection,
    /// Where the list starts (the first request's `offset`); 0 by default. See
    /// [`DeviceQuery::starting_at`].
    pub offset: u64,
}

impl Default for DeviceQuery {
    fn default() -> Self {
        Self {
            detail: true,
            stime: None,
            traffic_restricted: None,
            sort_direction: SortDirection::Asc,
            offset: 0,
        }
    }
}

impl DeviceQuery {
    /// The same query, paged from record `offset` of the list (0 is its first record)
    /// instead of its start: a resumed export asks for the page it stopped in rather
    /// than reading everything before it again. Paging goes on from there page by page
    /// and stops on a short page, as from the start. An offset past [`MAX_OFFSET`] makes
    /// the stream's first item [`ApiError::InvalidOffset`](crate::ApiError::InvalidOffset).
    #[must_use]
    pub fn starting_at(self, offset: u64) -> Self {
        Self { offset, ..self }
    }

    pub(crate) fn params(&self) -> Params {
        let mut params = vec![
            ("detail", self.detail.to_string()),
            ("sortfield", "MAC".to_owned()),
            ("sortdirection", self.sort_direction.as_str().to_owned()),
        ];
        if let Some(stime) = self.stime {
            params.push(("stime", format_stime(stime)));
        }
        if let Some(restricted) = self.traffic_restricted {
            params.push((
                "trafficRestricted",
                if restricted { "yes" } else { "no" }.to_owned(),
            ));
        }
        params
    }
}

/// The field an alert list is sorted by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AlertSortField {
    /// The alert's date; the default, which makes incremental paging stable.
    #[default]
    Date,
    /// The numeric severity.
    SeverityNumber,
}

/// Filters for [`Client::alerts`](crate::Client::alerts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertQuery {
    /// Only alerts raised at or after this instant (`stime`).
    pub stime: Option<OffsetDateTime>,
    /// Only alerts created or updated after this instant (`updatedCreatedAfter`).
    pub updated_created_after: Option<OffsetDateTime>,
    /// Alert type (`type`); `policy_alert` by default.
    pub alert_type: Option<String>,
    /// `Some(true)` resolved only, `Some(false)` open only, `None` the server's default.
    pub resolved: Option<bool>,
    /// Sort field; the date by default.
    pub sort_field: AlertSortField,
    /// Sort direction; ascending by default.
    pub sort_direction: SortDirection,
    /// Where the list starts (the first request's `offset`); 0 by default. See
    /// [`AlertQuery::starting_at`].
    pub offset: u64,
}

impl Default for AlertQuery {
    fn default() -> Self {
        Self {
            stime: None,
            updated_created_after: None,
            alert_type: Some("policy_alert".to_owned()),
            resolved: None,
            sort_field: AlertSortField::Date,
            sort_direction: SortDirection::Asc,
            offset: 0,
        }
    }
}

impl AlertQuery {
    /// The same query, paged from record `offset` of the list; see
    /// [`DeviceQuery::starting_at`].
    #[must_use]
    pub fn starting_at(self, offset: u64) -> Self {
        Self { offset, ..self }
    }

    pub(crate) fn params(&self) -> Params {
        let sort_field = match self.sort_field {
            AlertSortField::Date => "date",
            AlertSortField::SeverityNumber => "severityNumber",
        };
        let mut params = vec![
            ("sortfield", sort_field.to_owned()),
            ("sortdirection", self.sort_direction.as_str().to_owned()),
        ];
        if let Some(alert_type) = &self.alert_type {
            params.push(("type", alert_type.clone()));
        }
        if let Some(resolved) = self.resolved {
            params.push(("resolved", if resolved { "yes" } else { "no" }.to_owned()));
        }
        if let Some(stime) = self.stime {
            params.push(("stime", format_stime(stime)));
        }
        if let Some(after) = self.updated_created_after {
            params.push(("updatedCreatedAfter", format_stime(after)));
        }
        params
    }
}

/// A vulnerability's confirmation state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VulnerabilityStatus {
    /// Confirmed on the device.
    Confirmed,
    /// Potentially present.
    Potential,
}

/// A vulnerability severity filter (the API matches it case-sensitively).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VulnerabilitySeverity {
    /// `Critical`.
    Critical,
    /// `High`.
    High,
    /// `Medium`.
    Medium,
    /// `Low`.
    Low,
}

/// Filters for [`Client::vulnerabilities`](crate::Client::vulnerabilities). The client
/// always asks for instances (`groupby=device`): one record per vulnerable device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VulnerabilityQuery {
    /// Only instances dated at or after this instant (`stime`).
    pub stime: Option<OffsetDateTime>,
    /// Only instances created or updated after this instant (`updatedCreatedAfter`; the
    /// API then ignores `stime`).
    pub updated_created_after: Option<OffsetDateTime>,
    /// Only confirmed or only potential vulnerabilities.
    pub status: Option<VulnerabilityStatus>,
    /// Only this severity.
    pub severity: Option<VulnerabilitySeverity>,
    /// Only this vulnerability (`name`, such as a CVE id).
    pub name: Option<String>,
    /// Only this device.
    pub deviceid: Option<String>,
    /// Where the list starts (the first request's `offset`); 0 by default. See
    /// [`VulnerabilityQuery::starting_at`].
    pub offset: u64,
}

impl VulnerabilityQuery {
    /// The same query, paged from record `offset` of the list; see
    /// [`DeviceQuery::starting_at`].
    #[must_use]
    pub fn starting_at(self, offset: u64) -> Self {
        Self { offset, ..self }
    }

    pub(crate) fn params(&self) -> Params {
        let mut params = vec![("groupby", "device".to_owned())];
        if let Some(stime) = self.stime {
            params.push(("stime", format_stime(stime)));
        }
        if let Some(after) = self.updated_created_after {
            params.push(("updatedCreatedAfter", format_stime(after)));
        }
        if let Some(status) = self.status {
            let status = match status {
                VulnerabilityStatus::Confirmed => "Confirmed",
                VulnerabilityStatus::Potential => "Potential",
            };
            params.push(("status", status.to_owned()));
        }
        if let Some(severity) = self.severity {
            let severity = match severity {
                VulnerabilitySeverity::Critical => "Critical",
                VulnerabilitySeverity::High => "High",
                VulnerabilitySeverity::Medium => "Medium",
                VulnerabilitySeverity::Low => "Low",
            };
            params.push(("severity", severity.to_owned()));
        }
        if let Some(name) = &self.name {
            params.push(("name", name.clone()));
        }
        if let Some(deviceid) = &self.deviceid {
            params.push(("deviceid", deviceid.clone()));
        }
        params
    }
}
