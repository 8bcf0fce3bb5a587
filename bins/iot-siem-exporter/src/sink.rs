//! The syslog sink for `[siem]`: the pipeline's [`SyslogSink`], with this machine's name
//! in the HOSTNAME field unless the config names one (the library never looks it up).

use siem_pipeline::config::SiemConfig;
use siem_pipeline::sink::SyslogSink;

/// APP-NAME of every message unless `[siem] app_name` says otherwise.
pub const APP_NAME: &str = "iot-siem-exporter";

/// The syslog sink for `siem`.
pub fn syslog_sink(siem: &SiemConfig) -> anyhow::Result<SyslogSink> {
    let mut siem = siem.clone();
    if siem.hostname.is_none() {
        siem.hostname = machine_hostname();
    }
    Ok(SyslogSink::from_config(&siem, APP_NAME)?)
}

/// This machine's name, for the syslog HOSTNAME field.
fn machine_hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
}
