//! Writes N synthetic Bitsight findings, shaped as the collector emits them, as NDJSON on
//! stdout (the input of `scripts/bench.d/50-xdm-modeling.sh`).
//!
//! `cargo run --release -p xdm-modeling --example bitsight_findings -- 200000 > findings.ndjson`
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{self, BufWriter, Write};

use serde_json::json;

/// (risk_vector, label, category, transport)
const VECTORS: &[(&str, &str, &str, Option<&str>)] = &[
    (
        "botnet_infections",
        "Botnet Infections",
        "Compromised Systems",
        None,
    ),
    (
        "spam_propagation",
        "Spam Propagation",
        "Compromised Systems",
        None,
    ),
    ("open_ports", "Open Ports", "Diligence", Some("tcp")),
    ("ssl_certificates", "SSL Certificates", "Diligence", None),
    (
        "patching_cadence",
        "Patching Cadence",
        "Diligence",
        Some("tcp"),
    ),
    ("dkim", "DKIM Records", "Diligence", None),
    ("file_sharing", "File Sharing", "User Behavior", Some("udp")),
    (
        "data_breaches",
        "Security Incidents",
        "Public Disclosures",
        None,
    ),
];
const SEVERITIES: &[(f64, &str)] = &[
    (1.0, "minor"),
    (4.0, "moderate"),
    (7.5, "material"),
    (10.0, "severe"),
];
const GRADES: &[&str] = &["GOOD", "FAIR", "WARN", "BAD", "NEUTRAL"];

fn main() -> io::Result<()> {
    let count: u64 = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 1000,
        Some(Ok(n)) => n,
        Some(Err(_)) => {
            eprintln!("usage: bitsight_findings [COUNT]");
            std::process::exit(2);
        }
    };
    let mut out = BufWriter::new(io::stdout().lock());
    // A fixed linear congruential sequence: the same file on every run.
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move |n: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(state >> 33).unwrap_or(0) % n
    };
    for i in 0..count {
        let (vector, label, category, transport) = VECTORS[next(VECTORS.len())];
        let (severity, severity_category) = SEVERITIES[next(SEVERITIES.len())];
        let ip = format!("198.51.{}.{}", next(256), next(256));
        let port = [22, 80, 443, 3389, 8080][next(5)];
        let evidence = if transport.is_some() {
            format!("{ip}:{port}")
        } else {
            format!("host{}.example.com", next(500))
        };
        let day = 1 + next(28);
        let mut details = json!({
            "grade": GRADES[next(GRADES.len())],
            "country": "United States",
            "remediations": [{"help_text": "Apply the vendor's fix.", "message": "Outdated", "remediation_tip": "Patch"}],
        });
        if let Some(t) = transport {
            details["diligence_annotations"] = json!({"transport": t, "Status": "HTTP/1.1 200 OK"});
            details["dest_port"] = json!(port);
        } else {
            details["diligence_annotations"] =
                json!({"annotation_tokens": [{"token": label, "values": ["v1", "v2"]}]});
        }
        let event = json!({
            "temporary_id": format!("T{i:09}"),
            "affects_rating": next(2) == 0,
            "assets": [{"asset": ip, "identifier": null, "category": "high", "importance": 0.4, "is_ip": true}],
            "details": details,
            "evidence_key": evidence,
            "first_seen": format!("2024-03-{day:02}"),
            "last_seen": format!("2024-04-{day:02}"),
            "risk_category": category,
            "risk_vector": vector,
            "risk_vector_label": label,
            "rolledup_observation_id": "",
            "severity": severity,
            "severity_category": severity_category,
            "_time": format!("2024-03-{day:02}T00:00:00Z"),
            "_vendor": "Bitsight",
            "_product": "Bitsight",
            "company_guid": "a940bb61-33c4-42c9-9231-c8194c305db3",
            "company_name": "Example Corp",
            "event_kind": "finding",
        });
        serde_json::to_writer(&mut out, &event)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}
