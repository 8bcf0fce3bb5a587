//! Bitsight's closed vocabularies, each open to values Bitsight adds later (`Other`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Declares a string enum with an `Other(String)` arm, its wire strings, serde and Display.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $wire:literal $(| $alias:literal)* ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this crate does not know yet, kept verbatim.
            Other(String),
        }

        impl $name {
            /// Every known value, in documentation order.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The string the API uses.
            #[must_use]
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Other(other) => other,
                }
            }

            /// Reads the API's string; unknown strings become `Other`.
            #[must_use]
            pub fn parse(value: &str) -> Self {
                match value {
                    $( $wire $(| $alias)* => Self::$variant, )+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
                Ok(Self::parse(&value))
            }
        }
    };
}

open_enum! {
    /// A finding's `severity_category`, and the minimum-severity filter users pick.
    SeverityCategory {
        /// Severity 1 and up.
        Minor = "minor",
        /// Severity 4 and up.
        Moderate = "moderate",
        /// Severity 7 and up.
        Material = "material",
        /// Severity 9 and up.
        Severe = "severe",
    }
}

impl SeverityCategory {
    /// The `severity_gte` value that selects this category and worse (1, 4, 7, 9), as
    /// Bitsight's own integrations map it. `None` for an unknown category.
    #[must_use]
    pub fn min_severity(&self) -> Option<f64> {
        match self {
            Self::Minor => Some(1.0),
            Self::Moderate => Some(4.0),
            Self::Material => Some(7.0),
            Self::Severe => Some(9.0),
            Self::Other(_) => None,
        }
    }

    /// The category a numeric severity falls in (below 1 counts as minor).
    #[must_use]
    pub fn of_severity(severity: f64) -> Self {
        if severity >= 9.0 {
            Self::Severe
        } else if severity >= 7.0 {
            Self::Material
        } else if severity >= 4.0 {
            Self::Moderate
        } else {
            Self::Minor
        }
    }
}

open_enum! {
    /// A finding's `details.grade`.
    Grade {
        /// Good.
        Good = "GOOD",
        /// Fair.
        Fair = "FAIR",
        /// Warn.
        Warn = "WARN",
        /// Bad.
        Bad = "BAD",
        /// Neutral.
        Neutral = "NEUTRAL",
        /// Not applicable.
        Na = "NA",
    }
}

open_enum! {
    /// An asset's `category` (importance bucket), also a findings filter (`assets.category`).
    AssetCategory {
        /// Critical.
        Critical = "critical",
        /// High.
        High = "high",
        /// Medium.
        Medium = "medium",
        /// Low.
        Low = "low",
    }
}

impl AssetCategory {
    /// This category and every more important one, for a "minimum asset category" filter:
    /// `High` gives `[High, Critical]`. An unknown category gives only itself.
    #[must_use]
    pub fn and_above(&self) -> Vec<AssetCategory> {
        let order = [Self::Low, Self::Medium, Self::High, Self::Critical];
        match order.iter().position(|known| known == self) {
            Some(start) => order[start..].to_vec(),
            None => vec![self.clone()],
        }
    }
}

open_enum! {
    /// A finding's `risk_category`, also a findings filter.
    RiskCategory {
        /// Compromised Systems.
        CompromisedSystems = "Compromised Systems",
        /// Diligence.
        Diligence = "Diligence",
        /// User Behavior.
        UserBehavior = "User Behavior",
    }
}

open_enum! {
    /// Why a finding does or does not affect the rating (`impacts_risk_vector_details`).
    AffectsRatingReason {
        /// It affects the rating.
        AffectsRating = "AFFECTS_RATING",
        /// Not yet: in its grace period.
        GracePeriod = "GRACE_PERIOD",
        /// Not yet: in its incubation period.
        IncubationPeriod = "INCUBATION_PERIOD",
    }
}

open_enum! {
    /// A finding's `risk_vector` slug. [`RiskVector::label`] and [`RiskVector::from_label`]
    /// give the display names. SPF's slug is upper case (`SPF`), as Bitsight's own
    /// integrations send it; `spf` is read as the same vector.
    RiskVector {
        /// Web Application Headers.
        ApplicationSecurity = "application_security",
        /// Botnet Infections.
        BotnetInfections = "botnet_infections",
        /// Breaches.
        DataBreaches = "data_breaches",
        /// Desktop Software.
        DesktopSoftware = "desktop_software",
        /// DKIM.
        Dkim = "dkim",
        /// DMARC.
        Dmarc = "dmarc",
        /// DNSSEC.
        Dnssec = "dnssec",
        /// File Sharing.
        FileSharing = "file_sharing",
        /// Insecure Systems.
        InsecureSystems = "insecure_systems",
        /// Malware Servers.
        MalwareServers = "malware_servers",
        /// Mobile App Publications.
        MobileAppPublications = "mobile_app_publications",
        /// Mobile Application Security.
        MobileApplicationSecurity = "mobile_application_security",
        /// Mobile Software.
        MobileSoftware = "mobile_software",
        /// Open Ports.
        OpenPorts = "open_ports",
        /// Patching Cadence.
        PatchingCadence = "patching_cadence",
        /// Potentially Exploited.
        PotentiallyExploited = "potentially_exploited",
        /// Server Software.
        ServerSoftware = "server_software",
        /// Spam Propagation.
        SpamPropagation = "spam_propagation",
        /// SPF (slug `SPF`, upper case; `spf` accepted when reading).
        Spf = "SPF" | "spf",
        /// SSL Certificates.
        SslCertificates = "ssl_certificates",
        /// SSL Configurations.
        SslConfigurations = "ssl_configurations",
        /// Unsolicited Communications.
        UnsolicitedComm = "unsolicited_comm",
        /// Web Application Security.
        WebAppsec = "web_appsec",
    }
}

impl RiskVector {
    /// The display name (`risk_vector_label`); for an unknown vector, its slug.
    #[must_use]
    pub fn label(&self) -> &str {
        match self {
            Self::ApplicationSecurity => "Web Application Headers",
            Self::BotnetInfections => "Botnet Infections",
            Self::DataBreaches => "Breaches",
            Self::DesktopSoftware => "Desktop Software",
            Self::Dkim => "DKIM",
            Self::Dmarc => "DMARC",
            Self::Dnssec => "DNSSEC",
            Self::FileSharing => "File Sharing",
            Self::InsecureSystems => "Insecure Systems",
            Self::MalwareServers => "Malware Servers",
            Self::MobileAppPublications => "Mobile App Publications",
            Self::MobileApplicationSecurity => "Mobile Application Security",
            Self::MobileSoftware => "Mobile Software",
            Self::OpenPorts => "Open Ports",
            Self::PatchingCadence => "Patching Cadence",
            Self::PotentiallyExploited => "Potentially Exploited",
            Self::ServerSoftware => "Server Software",
            Self::SpamPropagation => "Spam Propagation",
            Self::Spf => "SPF",
            Self::SslCertificates => "SSL Certificates",
            Self::SslConfigurations => "SSL Configurations",
            Self::UnsolicitedComm => "Unsolicited Communications",
            Self::WebAppsec => "Web Application Security",
            Self::Other(slug) => slug,
        }
    }

    /// The vector a display name names (exact, case-sensitive), if any.
    #[must_use]
    pub fn from_label(label: &str) -> Option<Self> {
        Self::KNOWN
            .iter()
            .find(|known| known.label() == label)
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spf_quirk() {
        assert_eq!(RiskVector::Spf.as_str(), "SPF");
        assert_eq!(RiskVector::parse("spf"), RiskVector::Spf);
        assert_eq!(RiskVector::from_label("SPF"), Some(RiskVector::Spf));
        assert_eq!(
            RiskVector::from_label("Breaches"),
            Some(RiskVector::DataBreaches)
        );
        assert_eq!(RiskVector::from_label("nope"), None);
    }

    #[test]
    fn label_slug_table_round_trips() {
        for vector in RiskVector::KNOWN {
            assert_eq!(
                RiskVector::from_label(vector.label()).as_ref(),
                Some(vector)
            );
            assert_eq!(&RiskVector::parse(vector.as_str()), vector);
        }
        let table: Vec<(String, String)> = RiskVector::KNOWN
            .iter()
            .map(|v| (v.label().to_owned(), v.as_str().to_owned()))
            .collect();
        insta::assert_yaml_snapshot!(table);
    }

    #[test]
    fn severity_categories() {
        let mins: Vec<_> = SeverityCategory::KNOWN
            .iter()
            .map(SeverityCategory::min_severity)
            .collect();
        assert_eq!(mins, [Some(1.0), Some(4.0), Some(7.0), Some(9.0)]);
        assert_eq!(
            SeverityCategory::of_severity(10.0),
            SeverityCategory::Severe
        );
        assert_eq!(
            SeverityCategory::of_severity(7.0),
            SeverityCategory::Material
        );
        assert_eq!(
            SeverityCategory::of_severity(4.5),
            SeverityCategory::Moderate
        );
        assert_eq!(SeverityCategory::of_severity(0.0), SeverityCategory::Minor);
        assert_eq!(SeverityCategory::Other("x".into()).min_severity(), None);
    }

    #[test]
    fn asset_categories_and_above() {
        assert_eq!(
            AssetCategory::High.and_above(),
            [AssetCategory::High, AssetCategory::Critical]
        );
        assert_eq!(AssetCategory::Low.and_above().len(), 4);
    }

    #[test]
    fn unknown_values_are_kept() {
        let grade: Grade = serde_json::from_str("\"SHINY\"").unwrap();
        assert_eq!(grade, Grade::Other("SHINY".into()));
        assert_eq!(serde_json::to_string(&grade).unwrap(), "\"SHINY\"");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        #[test]
        fn parse_then_as_str_is_identity_except_spf_alias(s in ".{0,20}") {
            let parsed = RiskVector::parse(&s);
            if s == "spf" {
                proptest::prop_assert_eq!(parsed.as_str(), "SPF");
            } else {
                proptest::prop_assert_eq!(parsed.as_str(), s.as_str());
            }
        }
    }
}
