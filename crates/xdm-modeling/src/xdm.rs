//! What the engine knows of the XDM schema: field names with their types, and the
//! `XDM_CONST` table (documented in `docs/xdm-const.md`).

use std::collections::HashSet;
use std::sync::OnceLock;

/// The type of an XDM field, as far as output coercion needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum XdmType {
    /// Text: arrays arrive comma-joined, objects as JSON text, numbers as text.
    String,
    /// An integer.
    Int,
    /// A float.
    Float,
    /// A boolean.
    Bool,
    /// A list.
    Array,
    /// A timestamp.
    Timestamp,
}

/// Fields shared by the `source`, `target` and `intermediate` entities.
const ENTITY_FIELDS: &[&str] = &[
    "ipv4",
    "ipv6",
    "port",
    "interface",
    "zone",
    "domain",
    "url",
    "user_agent",
    "vlan",
    "sent_bytes",
    "sent_packets",
    "is_internal_ip",
    "is_nat",
    "host.hostname",
    "host.fqdn",
    "host.domain",
    "host.ipv4_addresses",
    "host.ipv6_addresses",
    "host.ipv4_public_addresses",
    "host.ipv6_public_addresses",
    "host.mac_addresses",
    "host.os",
    "host.os_family",
    "host.device_id",
    "host.device_category",
    "host.device_model",
    "host.hardware_uuid",
    "host.manufacturer",
    "host.cloud_instance_id",
    "user.username",
    "user.identifier",
    "user.domain",
    "user.upn",
    "user.sid",
    "user.groups",
    "user.first_name",
    "user.last_name",
    "user.user_type",
    "user.identity_type",
    "user.ou",
    "user.is_disabled",
    "user.is_password_expired",
    "user.scope",
    "user.employee_id",
    "user.title",
    "user.department",
    "user.manager_name",
    "process.name",
    "process.pid",
    "process.command_line",
    "process.identifier",
    "process.parent_id",
    "process.executable.path",
    "process.executable.filename",
    "process.executable.md5",
    "process.executable.sha256",
    "process.executable.file_type",
    "process.executable.signer",
    "process.integrity_level",
    "process.thread_id",
    "application.name",
    "application.version",
    "application.vendor",
    "location.country",
    "location.city",
    "location.region",
    "location.continent",
    "location.latitude",
    "location.longitude",
    "location.timezone",
    "asn.as_number",
    "asn.as_name",
    "asn.isp",
    "cloud.provider",
    "cloud.project",
    "cloud.project_id",
    "cloud.region",
    "cloud.zone",
    "agent.identifier",
    "agent.type",
    "agent.version",
    "agent.content_version",
    "file.filename",
    "file.path",
    "file.size",
    "file.file_type",
    "file.md5",
    "file.sha256",
    "file.extension",
    "file.directory",
    "file.signer",
    "resource.id",
    "resource.name",
    "resource.type",
    "resource.sub_type",
    "resource.value",
    "resource.parent_id",
    "resource_before.id",
    "resource_before.name",
    "resource_before.type",
    "resource_before.value",
    "identity.identifier",
    "identity.username",
    "identity.type",
];

/// Fields outside the three entities.
const OTHER_FIELDS: &[&str] = &[
    "session_context_id",
    "event.id",
    "event.type",
    "event.description",
    "event.outcome",
    "event.outcome_reason",
    "event.operation",
    "event.operation_sub_type",
    "event.original_event_type",
    "event.log_level",
    "event.duration",
    "event.is_completed",
    "event.tags",
    "alert.name",
    "alert.category",
    "alert.subcategory",
    "alert.description",
    "alert.severity",
    "alert.original_alert_id",
    "alert.original_threat_id",
    "alert.original_threat_name",
    "alert.risks",
    "alert.mitre_tactics",
    "alert.mitre_techniques",
    "network.ip_protocol",
    "network.protocol_layers",
    "network.application_protocol",
    "network.application_protocol_category",
    "network.application_protocol_subcategory",
    "network.rule",
    "network.session_id",
    "network.vlan",
    "network.is_proxy",
    "network.http.method",
    "network.http.url",
    "network.http.domain",
    "network.http.referrer",
    "network.http.response_code",
    "network.http.content_type",
    "network.http.url_category",
    "network.http.http_header.header",
    "network.http.http_header.value",
    "network.dns.dns_question.name",
    "network.dns.dns_question.type",
    "network.dns.dns_question.class",
    "network.dns.dns_resource_record.name",
    "network.dns.dns_resource_record.type",
    "network.dns.dns_resource_record.value",
    "network.dns.response_code",
    "network.dns.is_response",
    "network.dns.is_truncated",
    "network.dns.opcode",
    "network.dns.id",
    "network.tls.cipher",
    "network.tls.protocol_version",
    "network.tls.server_name",
    "network.tls.server_certificate.issuer",
    "network.tls.server_certificate.subject",
    "network.tls.server_certificate.fingerprint",
    "network.tls.client_certificate.subject",
    "network.tls.ja3",
    "network.tls.ja3s",
    "email.sender",
    "email.recipients",
    "email.cc",
    "email.bcc",
    "email.subject",
    "email.message_id",
    "email.return_path",
    "email.delivery_timestamp",
    "email.data",
    "email.attachment.filename",
    "email.attachment.file_type",
    "email.attachment.size",
    "email.attachment.md5",
    "email.attachment.sha256",
    "auth.auth_method",
    "auth.mfa.method",
    "auth.mfa.provider",
    "auth.mfa.client_details",
    "auth.is_mfa_needed",
    "auth.privilege_level",
    "auth.service",
    "auth.kerberos.padata_type",
    "auth.kerberos_tgt.spn_values",
    "auth.auth_method_type",
    "observer.name",
    "observer.type",
    "observer.vendor",
    "observer.product",
    "observer.version",
    "observer.unique_identifier",
    "observer.action",
    "observer.content_version",
    "observer.is_configuration_change",
    "database.name",
    "database.tables",
    "database.statement",
    "database.response_time",
    "logon.type",
    "logon.logon_guid",
    "logon.is_elevated",
    "target.resource.id",
    "target.resource.name",
];

/// Extra field names seen in shipped rules (older dialects and sub-records).
const SEEN_FIELDS: &[&str] = &[
    "audit.audited_resource.id",
    "audit.audited_resource.name",
    "audit.audited_resource.parent_id",
    "audit.audited_resource.type",
    "audit.event_id",
    "audit.event_timestamp",
    "audit.identity.name",
    "audit.identity.type",
    "audit.identity.uuid",
    "audit.original_event_description",
    "audit.original_event_type",
    "audit.project",
    "audit.reason",
    "audit.threat.original_alert_id",
    "audit.threat.severity",
    "audit.triggeredby.identity.name",
    "audit.triggeredby.identity.type",
    "audit.triggeredby.identity.uuid",
    "audit.triggeredby.ipv4",
    "audit.triggeredby.location.city",
    "audit.triggeredby.location.country",
    "audit.triggeredby.location.geo",
    "audit.triggeredby.location.region",
    "audit.triggeredby.user_agent",
    "auth.client.host.hostname",
    "auth.client.host.ipv4_addresses",
    "auth.client.host.os",
    "auth.client.ipv4",
    "auth.client.location.country",
    "auth.client.location.geo",
    "auth.client.location.region",
    "auth.client.process.executable.file_type",
    "auth.client.process.executable.md5",
    "auth.client.process.executable.sha256",
    "auth.client.user.first_name",
    "auth.client.user.last_name",
    "auth.client.user.sid",
    "auth.client.user.username",
    "auth.client.user_agent",
    "auth.event_id",
    "auth.event_timestamp",
    "auth.original_event_type",
    "auth.reason",
    "auth.server.host.hostname",
    "auth.target.application.name",
    "auth.target.url",
    "auth.target.user.username",
    "auth.threat.severity",
    "network.destination.host.hostname",
    "network.destination.host.os_family",
    "network.destination.ipv4",
    "network.destination.port",
    "network.destination.user.identifier",
    "network.destination.user.username",
    "network.duration",
    "network.event_timestamp",
    "network.original_event_type",
    "network.source.host.os",
    "network.source.ipv4",
    "network.source.packets",
    "network.source.port",
    "network.http.user_agent",
];

fn known_fields() -> &'static HashSet<String> {
    static FIELDS: OnceLock<HashSet<String>> = OnceLock::new();
    FIELDS.get_or_init(|| {
        let mut set = HashSet::new();
        for entity in ["source", "target", "intermediate"] {
            for field in ENTITY_FIELDS {
                set.insert(format!("xdm.{entity}.{field}"));
            }
        }
        for field in OTHER_FIELDS.iter().chain(SEEN_FIELDS) {
            set.insert(format!("xdm.{field}"));
        }
        set
    })
}

/// Whether `name` (any case, with the `xdm.` prefix) is a known XDM field.
#[must_use]
pub fn is_known_field(name: &str) -> bool {
    known_fields().contains(&name.to_ascii_lowercase())
}

/// The type of an XDM field, from the conventions of its last name segment.
#[must_use]
pub fn field_type(name: &str) -> XdmType {
    let lower = name.to_ascii_lowercase();
    let last = lower.rsplit('.').next().unwrap_or("");
    match last {
        _ if last.ends_with("_addresses") => XdmType::Array,
        "groups" | "protocol_layers" | "recipients" | "cc" | "bcc" | "risks" | "tables"
        | "tags" | "mitre_tactics" | "mitre_techniques" | "spn_values" => XdmType::Array,
        "port" | "pid" | "sent_bytes" | "received_bytes" | "sent_packets" | "received_packets"
        | "packets" | "duration" | "size" | "as_number" | "vlan" | "thread_id"
        | "response_time" => XdmType::Int,
        "latitude" | "longitude" => XdmType::Float,
        _ if last.starts_with("is_") => XdmType::Bool,
        _ if last.ends_with("_timestamp") => XdmType::Timestamp,
        _ => XdmType::String,
    }
}

/// Constant groups and the prefix stripped to get the rendered value.
const CONST_GROUPS: &[&str] = &[
    "AUTH_METHOD_",
    "CLOUD_PROVIDER_",
    "DHCP_MESSAGE_TYPE_",
    "DNS_RECORD_TYPE_",
    "DNS_RESPONSE_CODE_",
    "EVENT_TYPE_",
    "HOST_DEVICE_CATEGORY_",
    "HTTP_METHOD_",
    "HTTP_RSP_CODE_",
    "IDENTITY_TYPE_",
    "IP_PROTOCOL_",
    "LOG_LEVEL_",
    "NETWORK_DIRECTION_",
    "OS_FAMILY_",
    "OUTCOME_",
    "SEVERITY_",
    "TLS_VERSION_",
    "USER_TYPE_",
];

/// The text XSIAM renders for `XDM_CONST.<name>`: the name without its group prefix.
/// `None` when the name belongs to no known group.
#[must_use]
pub fn resolve_const(name: &str) -> Option<String> {
    CONST_GROUPS
        .iter()
        .filter(|g| name.starts_with(*g) && name.len() > g.len())
        .max_by_key(|g| g.len())
        .map(|g| name[g.len()..].to_owned())
}
