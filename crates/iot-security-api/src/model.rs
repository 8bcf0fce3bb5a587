//! Typed, lenient records: known fields typed, everything else kept in `extra`.

use serde::{Deserialize, Deserializer};
use serde_json::Value;
use time::OffsetDateTime;

use crate::fast_json::Scanned;
use crate::json::Json;
use crate::lenient::{FieldRef, Lenient, lenient_record};
use crate::small_string::SmallString;
use crate::time_format::parse_timestamp;

lenient_record! {
    /// A device from `device/list` or `device` (with `detail=true` the API sends many more
    /// keys; the ones PANW's own converters use are typed, the rest stay in `extra`).
    /// Devices are the bulk of an export, so their texts are [`SmallString`]s (short ones
    /// inline, no allocation); `field.as_deref()` gives an `Option<&str>` as for `String`.
    pub struct Device {
        /// Identity: the MAC address, or the IP address for static-IP devices.
        deviceid: SmallString = "deviceid" | "deviceId" | "device_id",
        /// Host name.
        hostname: SmallString = "hostname",
        /// IP address.
        ip_address: SmallString = "ip_address" | "ip",
        /// MAC address.
        mac_address: SmallString = "mac_address" | "mac",
        /// Device category (`Camera`, `Infusion Pump`, ...).
        category: SmallString = "category",
        /// Device profile.
        profile: SmallString = "profile",
        /// `IoT` or `Non_IoT`.
        profile_type: SmallString = "profile_type",
        /// Profile vertical (`Medical`, `Office`, ...).
        profile_vertical: SmallString = "profile_vertical",
        /// Risk score, 0 to 100.
        risk_score: i64 = "risk_score",
        /// `low`, `medium`, `high` or `critical`.
        risk_level: SmallString = "risk_level",
        /// Last activity, ISO-8601 UTC (the incremental cursor field).
        last_activity: SmallString = "last_activity",
        /// Identification confidence, 0 to 100 (the API sends a string).
        confidence_score: i64 = "confidence_score" | "confidence",
        /// Subnet.
        subnet: SmallString = "subnet",
        /// Open critical alerts.
        number_of_critical_alerts: i64 = "number_of_critical_alerts",
        /// Open warning alerts.
        number_of_warning_alerts: i64 = "number_of_warning_alerts",
        /// Open caution alerts.
        number_of_caution_alerts: i64 = "number_of_caution_alerts",
        /// Open info alerts.
        number_of_info_alerts: i64 = "number_of_info_alerts",
        /// Whether traffic is restricted (the documented example misspells the key).
        traffic_restricted: bool = "trafficRestricted" | "trafficRestriced",
        /// Tag ids.
        tag_id_list: Json = "tagIdList",
        /// Tags as `{tagType, tagValue, tagId}` objects.
        all_tags: Json = "allTags",
        /// Custom attributes.
        custom_attributes: Json = "customAttributes",
        /// Vendor.
        vendor: SmallString = "vendor",
        /// Model.
        model: SmallString = "model",
        /// VLAN.
        vlan: SmallString = "vlan",
        /// Site name.
        site_name: SmallString = "site_name" | "siteName",
        /// First seen, ISO-8601.
        first_seen_date: SmallString = "first_seen_date",
        /// OS group.
        os_group: SmallString = "os_group",
        /// OS or firmware version (the key has a slash on the wire).
        os_firmware_version: SmallString = "os/firmware_version",
        /// OS and version combined.
        os_combined: SmallString = "os_combined" | "osCombined",
        /// OS support state.
        os_support: SmallString = "OS_Support",
        /// OS end of support.
        os_end_of_support: SmallString = "OS_End_of_Support",
        /// Serial number.
        serial_number: SmallString = "Serial_Number",
        /// Endpoint protection.
        endpoint_protection: SmallString = "endpoint_protection",
        /// Network location.
        network_location: SmallString = "NetworkLocation",
        /// `Wired` or `Wireless`.
        wire_or_wireless: SmallString = "wire_or_wireless",
        /// Switch port.
        switch_port: SmallString = "Switch_Port",
        /// Switch name.
        switch_name: SmallString = "Switch_Name",
        /// Switch IP address.
        switch_ip: SmallString = "Switch_IP",
        /// NAC profile.
        nac_profile: SmallString = "NAC_profile",
        /// Where the NAC profile came from.
        nac_profile_source: SmallString = "NAC_profile_source",
        /// Access point IP address.
        access_point_ip: SmallString = "Access_Point_IP",
        /// Access point name.
        access_point_name: SmallString = "Access_Point_Name",
        /// Wireless SSID.
        ssid: SmallString = "SSID",
        /// Authentication method.
        authentication_method: SmallString = "Authentication_Method",
        /// Encryption cipher.
        encryption_cipher: SmallString = "Encryption_Cipher",
        /// Active Directory user name.
        ad_username: SmallString = "AD_Username",
        /// Active Directory domain.
        ad_domain: SmallString = "AD_Domain",
        /// Asset tag.
        asset_tag: SmallString = "asset_tag",
        /// AET (application entity title, DICOM devices).
        aet: SmallString = "AET",
        /// Whether the address comes from DHCP (`Yes` / `No`).
        dhcp: SmallString = "DHCP",
        /// SMB state.
        smb: SmallString = "SMB",
        /// Services seen.
        services: Json = "services",
        /// Whether the device acts as a server.
        is_server: SmallString = "is_server",
        /// Applications seen.
        applications: Json = "Applications",
        /// Tags (as the converters see them).
        tags: Json = "Tags",
        /// Tags for display.
        display_tags: Json = "display_tags",
    }
}

lenient_record! {
    /// The nested `msg` object of an alert.
    pub struct AlertMsg {
        /// Severity.
        severity: String = "severity",
        /// Description.
        description: String = "description",
        /// Name.
        name: String = "name",
        /// Message id.
        id: String = "id",
        /// Rule id.
        ruleid: String = "ruleid",
        /// Ticket id.
        zb_ticketid: String = "zb_ticketid",
        /// Host name.
        hostname: String = "hostname",
        /// `publish` for published alerts.
        status: String = "status",
        /// Source IP address.
        fromip: String = "fromip",
        /// Destination IP address.
        toip: String = "toip",
        /// Destination URL.
        to_url: String = "toURL",
        /// When the alert was generated (epoch milliseconds or a date, as sent).
        generation_timestamp: Json = "generationTimestamp",
        /// Values that triggered the alert.
        values: Json = "values",
        /// Impact.
        impact: String = "impact",
        /// Recommendation (`{content: [...]}`).
        recommendation: Json = "recommendation",
    }
}

impl Lenient for AlertMsg {
    fn deserialize_lenient<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Result<Self, Value>, D::Error> {
        let value = Value::deserialize(deserializer)?;
        if !value.is_object() {
            return Ok(Err(value));
        }
        // Every object fits (unknown keys go to `extra`); the fallback is for safety.
        Ok(AlertMsg::deserialize(&value).map_err(|_| value))
    }
    fn from_token(_: &Scanned<'_>) -> Option<Result<Self, Value>> {
        // An object is read by serde's decoder, as above.
        None
    }
    fn as_field(&self) -> FieldRef<'_> {
        FieldRef::Msg(self)
    }
}

lenient_record! {
    /// A security alert from `alert/list` or `alert`.
    pub struct Alert {
        /// Internal id (used to resolve the alert).
        id: String = "id" | "_id",
        /// Identity: the ticket id, such as `alert-hNMleG1nW`.
        zb_ticketid: String = "zb_ticketid",
        /// Alert name.
        name: String = "name",
        /// Description.
        description: String = "description",
        /// When it was raised, ISO-8601 UTC (the incremental cursor field).
        date: String = "date",
        /// The device the alert is about.
        deviceid: String = "deviceid",
        /// `high`, `medium`, `low` or `info`.
        severity: String = "severity",
        /// high=4, medium=3, low=2, info=1 (sometimes sent as a string).
        severity_number: i64 = "severityNumber",
        /// Alert type, such as `policy_alert`.
        alert_type: String = "type",
        /// `yes` or `no`.
        resolved: String = "resolved",
        /// Tenant id.
        tenantid: String = "tenantid",
        /// Site id.
        siteid: String = "siteid",
        /// Site name.
        site_name: String = "siteName" | "site_name",
        /// `inbound` or `outbound`.
        traffic_direction: String = "trafficDirection",
        /// Device profile.
        profile: String = "profile",
        /// Profile vertical.
        profile_vertical: String = "profile_vertical",
        /// Device category.
        category: String = "category",
        /// Host name.
        hostname: String = "hostname",
        /// Internal host name.
        internal_hostname: String = "internal_hostname",
        /// Resolution history.
        reason_history: Json = "reason_history",
        /// MSSP service tier.
        service_level: String = "serviceLevel",
        /// The nested message (addresses, URL, values, recommendation).
        msg: AlertMsg = "msg",
        /// The alert's device's tags, `{deviceid, tagIdList, allTags}`: `alert/list`
        /// sends them beside the page's alerts in a `deviceTags` map keyed by device id,
        /// and the client attaches each entry to the alerts of that device.
        device_tags: Json = "deviceTags",
    }
}

impl Alert {
    /// A nested `msg` field by its wire name (`fromip`, `toURL`, ...).
    pub fn msg_field(&self, name: &str) -> Option<FieldRef<'_>> {
        self.msg.as_ref().and_then(|msg| msg.field(name))
    }
}

lenient_record! {
    /// A vulnerability instance (one vulnerability on one device) from
    /// `vulnerability/list?groupby=device` or `vulnerability`.
    pub struct Vulnerability {
        /// Identity: the ticket id, such as `vuln-52f40a58`.
        zb_ticketid: String = "zb_ticketid",
        /// The device's host name (the API calls it `name`).
        name: String = "name",
        /// The device's IP address.
        ip: String = "ip" | "ip_address",
        /// The device id (MAC address).
        deviceid: String = "deviceid",
        /// Device profile.
        profile: String = "profile",
        /// Profile vertical.
        profile_vertical: String = "profile_vertical",
        /// Device category.
        display_profile_category: String = "display_profile_category",
        /// Vendor.
        vendor: String = "vendor",
        /// Model.
        model: String = "model",
        /// Operating system.
        os: String = "os",
        /// OS and version combined.
        os_combined: String = "osCombined" | "os_combined",
        /// OS or firmware version.
        os_firmware_version: String = "os/firmware_version",
        /// Site id.
        siteid: String = "siteid",
        /// Site name.
        site_name: String = "site_name" | "siteName",
        /// VLAN.
        vlan: String = "vlan",
        /// Subnet.
        subnet: String = "subnet",
        /// Asset tag.
        asset_tag: String = "asset_tag",
        /// Serial number.
        sn: String = "sn",
        /// Latest device activity, ISO-8601 UTC (the incremental cursor field).
        date: String = "date",
        /// When the vulnerability was detected, ISO-8601.
        detected_date: String = "detected_date",
        /// First seen, ISO-8601.
        first_seen_date: String = "first_seen_date",
        /// Risk score.
        risk_score: i64 = "risk_score",
        /// `Low`, `Medium`, `High` or `Critical`.
        risk_level: String = "risk_level",
        /// Identification confidence.
        confidence_score: i64 = "confidence_score",
        /// `new`, `investigation`, `remediation` or `resolved`.
        ticket_state: String = "ticketState",
        /// Assignees.
        ticket_assignees: Json = "ticketAssignees",
        /// Resolution history.
        reason_history: Json = "reason_history",
        /// Remediation work order.
        remediate_workorder: Json = "remediate_workorder",
        /// Remediation checkbox state.
        remediate_checkbox: Json = "remediate_checkbox",
        /// Remediation instructions.
        remediate_instruction: String = "remediate_instruction",
        /// The vulnerability, such as a CVE id.
        vulnerability_name: String = "vulnerability_name",
        /// Tags.
        all_tags: Json = "allTags",
    }
}

/// What the incremental machinery needs from a record.
pub trait Record {
    /// The record's identity (`deviceid` or `zb_ticketid`), when present.
    fn id(&self) -> Option<&str>;
    /// The timestamp the API filters on with `stime`, when present and parseable.
    fn cursor_time(&self) -> Option<OffsetDateTime>;
}

impl Record for Device {
    fn id(&self) -> Option<&str> {
        self.deviceid.as_deref()
    }
    fn cursor_time(&self) -> Option<OffsetDateTime> {
        self.last_activity.as_deref().and_then(parse_timestamp)
    }
}

impl Record for Alert {
    fn id(&self) -> Option<&str> {
        self.zb_ticketid.as_deref().or(self.id.as_deref())
    }
    fn cursor_time(&self) -> Option<OffsetDateTime> {
        self.date.as_deref().and_then(parse_timestamp)
    }
}

impl Record for Vulnerability {
    fn id(&self) -> Option<&str> {
        self.zb_ticketid.as_deref()
    }
    fn cursor_time(&self) -> Option<OffsetDateTime> {
        self.date
            .as_deref()
            .or(self.detected_date.as_deref())
            .and_then(parse_timestamp)
    }
}
