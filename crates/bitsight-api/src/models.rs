//! Companies, portfolio entries, alerts and findings statistics: each keeps its JSON
//! object whole (in received order) and reads typed values from it on demand, so an
//! oddly typed field reads as `None` and nothing is dropped.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::Date;

use crate::lenient::parse_date;

/// Declares a model backed by its whole JSON object.
macro_rules! json_object_model {
    ($(#[$meta:meta])* $name:ident, typed: [$($field:literal),* $(,)?]) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name {
            fields: Map<String, Value>,
        }

        impl $name {
            /// The top-level fields with typed accessors.
            pub const TYPED_FIELDS: &'static [&'static str] = &[$($field),*];

            /// Wraps a JSON object.
            #[must_use]
            pub fn from_fields(fields: Map<String, Value>) -> Self {
                Self { fields }
            }

            /// Every field, as received.
            #[must_use]
            pub fn fields(&self) -> &Map<String, Value> {
                &self.fields
            }

            /// Every field, as received, by value.
            #[must_use]
            pub fn into_fields(self) -> Map<String, Value> {
                self.fields
            }

            /// The fields without a typed accessor, in received order.
            #[must_use]
            pub fn extra(&self) -> Map<String, Value> {
                self.fields
                    .iter()
                    .filter(|(name, _)| !Self::TYPED_FIELDS.contains(&name.as_str()))
                    .map(|(name, value)| (name.clone(), value.clone()))
                    .collect()
            }

            fn text(&self, name: &str) -> Option<&str> {
                self.fields.get(name).and_then(Value::as_str)
            }

            #[allow(dead_code)] // not every model has a date field
            fn date(&self, name: &str) -> Option<Date> {
                self.text(name).and_then(parse_date)
            }
        }
    };
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

json_object_model! {
    /// An element of `/ratings/v1/companies`' `companies`.
    Company, typed: ["guid", "name", "shortname", "rating", "rating_date", "industry", "primary_domain", "subscription_type"]
}

impl Company {
    /// `guid` (opaque; not always UUID-shaped). `""` when absent.
    #[must_use]
    pub fn guid(&self) -> &str {
        self.text("guid").unwrap_or_default()
    }
    /// `name`.
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.text("name")
    }
    /// `shortname`.
    #[must_use]
    pub fn shortname(&self) -> Option<&str> {
        self.text("shortname")
    }
    /// `rating` (250 to 900).
    #[must_use]
    pub fn rating(&self) -> Option<f64> {
        self.fields.get("rating").and_then(number)
    }
    /// `rating_date`.
    #[must_use]
    pub fn rating_date(&self) -> Option<Date> {
        self.date("rating_date")
    }
    /// `industry`.
    #[must_use]
    pub fn industry(&self) -> Option<&str> {
        self.text("industry")
    }
    /// `primary_domain`.
    #[must_use]
    pub fn primary_domain(&self) -> Option<&str> {
        self.text("primary_domain")
    }
    /// `subscription_type` (e.g. `continuous_monitoring`, `my_subsidiary`).
    #[must_use]
    pub fn subscription_type(&self) -> Option<&str> {
        self.text("subscription_type")
    }
}

/// The `/ratings/v1/companies` answer: the companies the token sees and its own company.
#[derive(Debug, Clone, PartialEq)]
pub struct Companies {
    /// `companies`.
    pub companies: Vec<Company>,
    /// `my_company.guid` (older answers spell it `myCompany`).
    pub my_company: Option<String>,
    /// The other top-level fields (`countries`, `created`, `rating_date`, ...).
    pub extra: Map<String, Value>,
}

impl Companies {
    pub(crate) fn from_fields(mut fields: Map<String, Value>) -> Self {
        let companies = match fields.remove("companies") {
            Some(Value::Array(items)) => items
                .into_iter()
                .filter_map(|item| match item {
                    Value::Object(map) => Some(Company::from_fields(map)),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let my_company = ["my_company", "myCompany"].iter().find_map(|name| {
            fields
                .get(*name)
                .and_then(|mine| mine.get("guid"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        Self {
            companies,
            my_company,
            extra: fields,
        }
    }
}

json_object_model! {
    /// `/ratings/v1/companies/{guid}`: one company's details.
    CompanyDetails, typed: ["guid", "name", "primary_domain", "industry", "ratings", "rating_details"]
}

impl CompanyDetails {
    /// `guid`. `""` when absent.
    #[must_use]
    pub fn guid(&self) -> &str {
        self.text("guid").unwrap_or_default()
    }
    /// `name`.
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.text("name")
    }
    /// `primary_domain`.
    #[must_use]
    pub fn primary_domain(&self) -> Option<&str> {
        self.text("primary_domain")
    }
    /// `industry`.
    #[must_use]
    pub fn industry(&self) -> Option<&str> {
        self.text("industry")
    }
    /// The newest rating and its date: `ratings[0]`.
    #[must_use]
    pub fn current_rating(&self) -> Option<(f64, Option<Date>)> {
        let latest = self.fields.get("ratings")?.get(0)?;
        let rating = latest.get("rating").and_then(number)?;
        let date = latest
            .get("rating_date")
            .and_then(Value::as_str)
            .and_then(parse_date);
        Some((rating, date))
    }
    /// `rating_details`: per risk-vector slug, its grade and rating.
    #[must_use]
    pub fn rating_details(&self) -> Option<&Map<String, Value>> {
        self.fields.get("rating_details").and_then(Value::as_object)
    }
}

json_object_model! {
    /// An element of `/ratings/v2/portfolio`' results.
    PortfolioCompany, typed: ["guid", "name"]
}

impl PortfolioCompany {
    /// `guid`. `""` when absent.
    #[must_use]
    pub fn guid(&self) -> &str {
        self.text("guid").unwrap_or_default()
    }
    /// `name`.
    #[must_use]
    pub fn name(&self) -> Option<&str> {
        self.text("name")
    }
}

json_object_model! {
    /// An element of `/ratings/v2/alerts`' results.
    Alert, typed: ["guid", "alert_type", "alert_date", "start_date", "company_guid", "company_name", "folder_name", "severity", "trigger"]
}

impl Alert {
    /// `guid`: an integer in Bitsight's answers, kept as text either way.
    #[must_use]
    pub fn guid(&self) -> Option<String> {
        match self.fields.get("guid")? {
            Value::String(text) => Some(text.clone()),
            Value::Number(number) => Some(number.to_string()),
            _ => None,
        }
    }
    /// `alert_type` (e.g. `RISK_CATEGORY`, `PERCENT_CHANGE`).
    #[must_use]
    pub fn alert_type(&self) -> Option<&str> {
        self.text("alert_type")
    }
    /// `alert_date`.
    #[must_use]
    pub fn alert_date(&self) -> Option<Date> {
        self.date("alert_date")
    }
    /// `start_date`.
    #[must_use]
    pub fn start_date(&self) -> Option<Date> {
        self.date("start_date")
    }
    /// `company_guid`.
    #[must_use]
    pub fn company_guid(&self) -> Option<&str> {
        self.text("company_guid")
    }
    /// `company_name`.
    #[must_use]
    pub fn company_name(&self) -> Option<&str> {
        self.text("company_name")
    }
    /// `folder_name`.
    #[must_use]
    pub fn folder_name(&self) -> Option<&str> {
        self.text("folder_name")
    }
    /// `severity` (e.g. `WARN`, `CRITICAL`, `INCREASE`).
    #[must_use]
    pub fn severity(&self) -> Option<&str> {
        self.text("severity")
    }
    /// `trigger` (e.g. `Insecure Systems`).
    #[must_use]
    pub fn trigger(&self) -> Option<&str> {
        self.text("trigger")
    }
}

/// `/ratings/v1/companies/{guid}/findings/summary`: counts per risk vector and
/// severity, kept whole in whatever JSON shape Bitsight sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FindingsSummary(pub Value);

/// `/ratings/v1/companies/{guid}/findings/statistics`: aggregate counts, kept whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FindingsStatistics(pub Value);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn companies_read_both_my_company_spellings() {
        let new: Map<String, Value> = serde_json::from_str(
            r#"{"companies":[{"guid":"a","name":"A","rating":"700"}],"my_company":{"guid":"a"}}"#,
        )
        .unwrap();
        let companies = Companies::from_fields(new);
        assert_eq!(companies.my_company.as_deref(), Some("a"));
        assert_eq!(companies.companies[0].rating(), Some(700.0));
        let old: Map<String, Value> =
            serde_json::from_str(r#"{"companies":[],"myCompany":{"guid":"b"}}"#).unwrap();
        assert_eq!(Companies::from_fields(old).my_company.as_deref(), Some("b"));
    }

    #[test]
    fn alert_guid_integer_or_text() {
        let alert: Alert =
            serde_json::from_str(r#"{"guid":12345678,"alert_date":"2024-05-01","x":1}"#).unwrap();
        assert_eq!(alert.guid().as_deref(), Some("12345678"));
        assert_eq!(alert.alert_date(), parse_date("2024-05-01"));
        assert_eq!(alert.extra().len(), 1);
        assert_eq!(
            serde_json::to_string(&alert).unwrap(),
            r#"{"guid":12345678,"alert_date":"2024-05-01","x":1}"#
        );
    }
}
