//! The CEF extension dictionary as typed keys.
//!
//! Every producer key of the ArcSight CEF dictionary is a constant here, typed by the kind of
//! value it carries: [`TextKey`] (with its maximum length), [`IntKey`], [`PortKey`],
//! [`LongKey`], [`FloatKey`], [`Ipv4Key`], [`Ipv6Key`], [`MacKey`] and [`TimeKey`]. The
//! builder's methods take the matching key type, so `src` cannot be given a host name by
//! mistake. Keys the dictionary does not list are vendor keys, written with
//! [`EventBuilder::vendor_field`](crate::EventBuilder::vendor_field).
//!
//! The custom slots (`cs1`..`cs6`, `cn1`..`cn3`, `cfp1`..`cfp4`, `c6a1`..`c6a4`,
//! `flexString1`..`2`, `flexDate1`, `deviceCustomDate1`..`2`) know their label keys, so
//! [`EventBuilder::label`](crate::EventBuilder::label) can write `cs1Label=` from `CS1`.

/// What kind of value a dictionary key carries, as the CEF dictionary types it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// A string of at most `max_chars` characters (Unicode scalar values).
    Text {
        /// The dictionary's maximum length, in characters.
        max_chars: usize,
    },
    /// A signed 32-bit integer.
    Int,
    /// A TCP or UDP port, 0-65535.
    Port,
    /// A signed 64-bit integer.
    Long,
    /// A finite double-precision floating point number.
    Float,
    /// An IPv4 address in dotted-quad form.
    Ipv4,
    /// An IPv6 address.
    Ipv6,
    /// A MAC address, six colon-separated hexadecimal octets.
    Mac,
    /// A timestamp: epoch milliseconds or one of the spec's `MMM dd [yyyy] HH:mm:ss` forms.
    Time,
}

impl std::fmt::Display for KeyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeyKind::Text { .. } => "string",
            KeyKind::Int => "32-bit integer",
            KeyKind::Port => "port number",
            KeyKind::Long => "64-bit integer",
            KeyKind::Float => "finite number",
            KeyKind::Ipv4 => "IPv4 address",
            KeyKind::Ipv6 => "IPv6 address",
            KeyKind::Mac => "MAC address (six hex octets separated by `:`)",
            KeyKind::Time => "CEF timestamp",
        })
    }
}

/// One entry of the dictionary: the key as written on the wire, its full name, its kind and,
/// for a custom slot, its label key.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct KeyDef {
    name: &'static str,
    /// `" name="`: what the builder writes before a value, so a pair is two copies.
    pair_prefix: &'static str,
    /// `pair_prefix` padded with zeros to a fixed size, copied whole (a copy of known size
    /// is a few stores, not a call) and cut back to its length.
    pair_prefix_block: [u8; PAIR_PREFIX_BLOCK],
    full_name: &'static str,
    kind: KeyKind,
    label: Option<&'static KeyDef>,
}

impl KeyDef {
    /// The key as written in an extension, for example `src`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Appends `" name="`, the text before a value, or `"name="` for the first pair.
    #[inline(always)]
    pub(crate) fn push_pair_prefix(&self, out: &mut Vec<u8>, first: bool) {
        let at = out.len();
        let len = self.pair_prefix.len();
        if first {
            if let Some(without_space) = self
                .pair_prefix_block
                .last_chunk::<{ PAIR_PREFIX_BLOCK - 1 }>()
            {
                out.extend_from_slice(without_space);
            }
            out.truncate(at + len - 1);
        } else {
            out.extend_from_slice(&self.pair_prefix_block);
            out.truncate(at + len);
        }
    }

    /// Appends `separator`, then `name=`: a pair after the header's last `|` or after a
    /// space.
    #[inline(always)]
    pub(crate) fn push_pair_prefix_after(&self, out: &mut Vec<u8>, separator: u8) {
        let mut block = self.pair_prefix_block;
        block[0] = separator;
        crate::block::push_block(out, &block, self.pair_prefix.len());
    }

    /// The most characters a value of this key may have: the limit of a text key, no limit
    /// for other kinds.
    #[inline(always)]
    pub(crate) fn max_chars(&self) -> usize {
        match self.kind {
            KeyKind::Text { max_chars } => max_chars,
            _ => usize::MAX,
        }
    }

    /// The dictionary's full name, for example `sourceAddress`.
    pub fn full_name(&self) -> &'static str {
        self.full_name
    }

    /// The kind of value the key carries.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The label key of a custom slot (`cs1Label` for `cs1`), `None` for other keys.
    pub fn label(&self) -> Option<&'static KeyDef> {
        self.label
    }
}

mod sealed {
    pub trait Sealed {}
}

/// Any typed dictionary key. Sealed: the dictionary is the only source of keys.
pub trait Key: sealed::Sealed + Copy {
    /// The dictionary entry of this key.
    fn def(self) -> &'static KeyDef;
}

macro_rules! key_types {
    ($($(#[$doc:meta])* $ty:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $ty(&'static KeyDef);

        impl sealed::Sealed for $ty {}

        impl Key for $ty {
            fn def(self) -> &'static KeyDef {
                self.0
            }
        }
    )*};
}

key_types! {
    /// A key whose value is a string with a maximum length.
    TextKey;
    /// A key whose value is a signed 32-bit integer.
    IntKey;
    /// A key whose value is a port number.
    PortKey;
    /// A key whose value is a signed 64-bit integer.
    LongKey;
    /// A key whose value is a floating point number.
    FloatKey;
    /// A key whose value is an IPv4 address.
    Ipv4Key;
    /// A key whose value is an IPv6 address.
    Ipv6Key;
    /// A key whose value is a MAC address.
    MacKey;
    /// A key whose value is a timestamp.
    TimeKey;
}

/// The size of [`KeyDef`]'s padded pair prefix: the longest key has 28 bytes.
const PAIR_PREFIX_BLOCK: usize = 32;

/// `prefix` padded with zeros; a longer prefix stops the build.
const fn padded_prefix(prefix: &str) -> [u8; PAIR_PREFIX_BLOCK] {
    let bytes = prefix.as_bytes();
    let mut block = [0u8; PAIR_PREFIX_BLOCK];
    let mut index = 0;
    while index < bytes.len() {
        block[index] = bytes[index];
        index += 1;
    }
    block
}

macro_rules! dictionary {
    ($($konst:ident: $ty:ident = $name:literal, $full:literal, $kind:expr, $label:expr;)*) => {
        $(
            #[doc = concat!("`", $name, "` (", $full, ").")]
            pub const $konst: $ty = $ty(&KeyDef {
                name: $name,
                pair_prefix: concat!(" ", $name, "="),
                pair_prefix_block: padded_prefix(concat!(" ", $name, "=")),
                full_name: $full,
                kind: $kind,
                label: $label,
            });
        )*

        /// Every key of the dictionary.
        pub const ALL: &[&KeyDef] = &[$($konst.0,)*];
    };
}

/// Looks up a key of the dictionary by the name written on the wire (`src`, `cs1Label`).
/// Returns `None` for a vendor key.
pub fn lookup(name: &str) -> Option<&'static KeyDef> {
    // Open addressing with linear probing in a table at most half full: one hash of the
    // name and, nearly always, one comparison.
    let mut slot = slot_of(name.as_bytes());
    loop {
        match BY_NAME.get(slot).copied().flatten() {
            Some(def) if def.name == name => return Some(def),
            Some(_) => slot = (slot + 1) % BY_NAME.len(),
            None => return None,
        }
    }
}

/// The dictionary by name: [`ALL`] hashed into a table with at least half its slots free,
/// built at compile time.
static BY_NAME: [Option<&KeyDef>; 512] = by_name_table();

const _: () = assert!(
    2 * ALL.len() <= 512,
    "the lookup table must stay at most half full"
);

/// The table slot where looking up `name` starts: its FNV-1a hash, folded to the table.
const fn slot_of(name: &[u8]) -> usize {
    let mut hash: u32 = 0x811c_9dc5;
    let mut index = 0;
    while index < name.len() {
        hash ^= name[index] as u32;
        hash = hash.wrapping_mul(0x0100_0193);
        index += 1;
    }
    (hash as usize) % 512
}

const fn by_name_table() -> [Option<&'static KeyDef>; 512] {
    let mut table: [Option<&'static KeyDef>; 512] = [None; 512];
    let mut index = 0;
    while index < ALL.len() {
        let def = ALL[index];
        let mut slot = slot_of(def.name.as_bytes());
        while table[slot].is_some() {
            slot = (slot + 1) % 512;
        }
        table[slot] = Some(def);
        index += 1;
    }
    table
}

use KeyKind::{Float, Int, Ipv4, Ipv6, Long, Mac, Port, Time};

const fn text(max_chars: usize) -> KeyKind {
    KeyKind::Text { max_chars }
}

dictionary! {
    ACT: TextKey = "act", "deviceAction", text(63), None;
    APP: TextKey = "app", "applicationProtocol", text(31), None;
    C6A1: Ipv6Key = "c6a1", "deviceCustomIPv6Address1", Ipv6, Some(C6A1_LABEL.0);
    C6A1_LABEL: TextKey = "c6a1Label", "deviceCustomIPv6Address1Label", text(1023), None;
    C6A2: Ipv6Key = "c6a2", "deviceCustomIPv6Address2", Ipv6, Some(C6A2_LABEL.0);
    C6A2_LABEL: TextKey = "c6a2Label", "deviceCustomIPv6Address2Label", text(1023), None;
    C6A3: Ipv6Key = "c6a3", "deviceCustomIPv6Address3", Ipv6, Some(C6A3_LABEL.0);
    C6A3_LABEL: TextKey = "c6a3Label", "deviceCustomIPv6Address3Label", text(1023), None;
    C6A4: Ipv6Key = "c6a4", "deviceCustomIPv6Address4", Ipv6, Some(C6A4_LABEL.0);
    C6A4_LABEL: TextKey = "c6a4Label", "deviceCustomIPv6Address4Label", text(1023), None;
    CAT: TextKey = "cat", "deviceEventCategory", text(1023), None;
    CFP1: FloatKey = "cfp1", "deviceCustomFloatingPoint1", Float, Some(CFP1_LABEL.0);
    CFP1_LABEL: TextKey = "cfp1Label", "deviceCustomFloatingPoint1Label", text(1023), None;
    CFP2: FloatKey = "cfp2", "deviceCustomFloatingPoint2", Float, Some(CFP2_LABEL.0);
    CFP2_LABEL: TextKey = "cfp2Label", "deviceCustomFloatingPoint2Label", text(1023), None;
    CFP3: FloatKey = "cfp3", "deviceCustomFloatingPoint3", Float, Some(CFP3_LABEL.0);
    CFP3_LABEL: TextKey = "cfp3Label", "deviceCustomFloatingPoint3Label", text(1023), None;
    CFP4: FloatKey = "cfp4", "deviceCustomFloatingPoint4", Float, Some(CFP4_LABEL.0);
    CFP4_LABEL: TextKey = "cfp4Label", "deviceCustomFloatingPoint4Label", text(1023), None;
    CN1: LongKey = "cn1", "deviceCustomNumber1", Long, Some(CN1_LABEL.0);
    CN1_LABEL: TextKey = "cn1Label", "deviceCustomNumber1Label", text(1023), None;
    CN2: LongKey = "cn2", "deviceCustomNumber2", Long, Some(CN2_LABEL.0);
    CN2_LABEL: TextKey = "cn2Label", "deviceCustomNumber2Label", text(1023), None;
    CN3: LongKey = "cn3", "deviceCustomNumber3", Long, Some(CN3_LABEL.0);
    CN3_LABEL: TextKey = "cn3Label", "deviceCustomNumber3Label", text(1023), None;
    CNT: IntKey = "cnt", "baseEventCount", Int, None;
    CS1: TextKey = "cs1", "deviceCustomString1", text(1023), Some(CS1_LABEL.0);
    CS1_LABEL: TextKey = "cs1Label", "deviceCustomString1Label", text(1023), None;
    CS2: TextKey = "cs2", "deviceCustomString2", text(1023), Some(CS2_LABEL.0);
    CS2_LABEL: TextKey = "cs2Label", "deviceCustomString2Label", text(1023), None;
    CS3: TextKey = "cs3", "deviceCustomString3", text(1023), Some(CS3_LABEL.0);
    CS3_LABEL: TextKey = "cs3Label", "deviceCustomString3Label", text(1023), None;
    CS4: TextKey = "cs4", "deviceCustomString4", text(1023), Some(CS4_LABEL.0);
    CS4_LABEL: TextKey = "cs4Label", "deviceCustomString4Label", text(1023), None;
    CS5: TextKey = "cs5", "deviceCustomString5", text(1023), Some(CS5_LABEL.0);
    CS5_LABEL: TextKey = "cs5Label", "deviceCustomString5Label", text(1023), None;
    CS6: TextKey = "cs6", "deviceCustomString6", text(1023), Some(CS6_LABEL.0);
    CS6_LABEL: TextKey = "cs6Label", "deviceCustomString6Label", text(1023), None;
    DESTINATION_DNS_DOMAIN: TextKey = "destinationDnsDomain", "destinationDnsDomain", text(255), None;
    DESTINATION_SERVICE_NAME: TextKey = "destinationServiceName", "destinationServiceName", text(1023), None;
    DESTINATION_TRANSLATED_ADDRESS: Ipv4Key = "destinationTranslatedAddress", "destinationTranslatedAddress", Ipv4, None;
    DESTINATION_TRANSLATED_PORT: PortKey = "destinationTranslatedPort", "destinationTranslatedPort", Port, None;
    DEVICE_CUSTOM_DATE1: TimeKey = "deviceCustomDate1", "deviceCustomDate1", Time, Some(DEVICE_CUSTOM_DATE1_LABEL.0);
    DEVICE_CUSTOM_DATE1_LABEL: TextKey = "deviceCustomDate1Label", "deviceCustomDate1Label", text(1023), None;
    DEVICE_CUSTOM_DATE2: TimeKey = "deviceCustomDate2", "deviceCustomDate2", Time, Some(DEVICE_CUSTOM_DATE2_LABEL.0);
    DEVICE_CUSTOM_DATE2_LABEL: TextKey = "deviceCustomDate2Label", "deviceCustomDate2Label", text(1023), None;
    DEVICE_DIRECTION: IntKey = "deviceDirection", "deviceDirection", Int, None;
    DEVICE_DNS_DOMAIN: TextKey = "deviceDnsDomain", "deviceDnsDomain", text(255), None;
    DEVICE_EXTERNAL_ID: TextKey = "deviceExternalId", "deviceExternalId", text(255), None;
    DEVICE_FACILITY: TextKey = "deviceFacility", "deviceFacility", text(1023), None;
    DEVICE_INBOUND_INTERFACE: TextKey = "deviceInboundInterface", "deviceInboundInterface", text(128), None;
    DEVICE_NT_DOMAIN: TextKey = "deviceNtDomain", "deviceNtDomain", text(255), None;
    DEVICE_OUTBOUND_INTERFACE: TextKey = "deviceOutboundInterface", "deviceOutboundInterface", text(128), None;
    DEVICE_PAYLOAD_ID: TextKey = "devicePayloadId", "devicePayloadId", text(128), None;
    DEVICE_PROCESS_NAME: TextKey = "deviceProcessName", "deviceProcessName", text(1023), None;
    DEVICE_TRANSLATED_ADDRESS: Ipv4Key = "deviceTranslatedAddress", "deviceTranslatedAddress", Ipv4, None;
    DHOST: TextKey = "dhost", "destinationHostName", text(1023), None;
    DMAC: MacKey = "dmac", "destinationMacAddress", Mac, None;
    DNTDOM: TextKey = "dntdom", "destinationNtDomain", text(255), None;
    DPID: IntKey = "dpid", "destinationProcessId", Int, None;
    DPRIV: TextKey = "dpriv", "destinationUserPrivileges", text(1023), None;
    DPROC: TextKey = "dproc", "destinationProcessName", text(1023), None;
    DPT: PortKey = "dpt", "destinationPort", Port, None;
    DST: Ipv4Key = "dst", "destinationAddress", Ipv4, None;
    DTZ: TextKey = "dtz", "deviceTimeZone", text(255), None;
    DUID: TextKey = "duid", "destinationUserId", text(1023), None;
    DUSER: TextKey = "duser", "destinationUserName", text(1023), None;
    DVC: Ipv4Key = "dvc", "deviceAddress", Ipv4, None;
    DVCHOST: TextKey = "dvchost", "deviceHostName", text(100), None;
    DVCMAC: MacKey = "dvcmac", "deviceMacAddress", Mac, None;
    DVCPID: IntKey = "dvcpid", "deviceProcessId", Int, None;
    END: TimeKey = "end", "endTime", Time, None;
    EXTERNAL_ID: TextKey = "externalId", "externalId", text(40), None;
    FILE_CREATE_TIME: TimeKey = "fileCreateTime", "fileCreateTime", Time, None;
    FILE_HASH: TextKey = "fileHash", "fileHash", text(255), None;
    FILE_ID: TextKey = "fileId", "fileId", text(1023), None;
    FILE_MODIFICATION_TIME: TimeKey = "fileModificationTime", "fileModificationTime", Time, None;
    FILE_PATH: TextKey = "filePath", "filePath", text(1023), None;
    FILE_PERMISSION: TextKey = "filePermission", "filePermission", text(1023), None;
    FILE_TYPE: TextKey = "fileType", "fileType", text(1023), None;
    FLEX_DATE1: TimeKey = "flexDate1", "flexDate1", Time, Some(FLEX_DATE1_LABEL.0);
    FLEX_DATE1_LABEL: TextKey = "flexDate1Label", "flexDate1Label", text(128), None;
    FLEX_STRING1: TextKey = "flexString1", "flexString1", text(1023), Some(FLEX_STRING1_LABEL.0);
    FLEX_STRING1_LABEL: TextKey = "flexString1Label", "flexString1Label", text(128), None;
    FLEX_STRING2: TextKey = "flexString2", "flexString2", text(1023), Some(FLEX_STRING2_LABEL.0);
    FLEX_STRING2_LABEL: TextKey = "flexString2Label", "flexString2Label", text(128), None;
    FNAME: TextKey = "fname", "fileName", text(1023), None;
    FRAMEWORK_NAME: TextKey = "frameworkName", "frameworkName", text(256), None;
    FSIZE: IntKey = "fsize", "fileSize", Int, None;
    // The dictionary types bytesIn/bytesOut as Integer; a long lets multi-gigabyte transfers through.
    IN: LongKey = "in", "bytesIn", Long, None;
    MSG: TextKey = "msg", "message", text(1023), None;
    OLD_FILE_CREATE_TIME: TimeKey = "oldFileCreateTime", "oldFileCreateTime", Time, None;
    OLD_FILE_HASH: TextKey = "oldFileHash", "oldFileHash", text(255), None;
    OLD_FILE_ID: TextKey = "oldFileId", "oldFileId", text(1023), None;
    OLD_FILE_MODIFICATION_TIME: TimeKey = "oldFileModificationTime", "oldFileModificationTime", Time, None;
    OLD_FILE_NAME: TextKey = "oldFileName", "oldFileName", text(1023), None;
    OLD_FILE_PATH: TextKey = "oldFilePath", "oldFilePath", text(1023), None;
    OLD_FILE_PERMISSION: TextKey = "oldFilePermission", "oldFilePermission", text(1023), None;
    OLD_FILE_SIZE: IntKey = "oldFileSize", "oldFileSize", Int, None;
    OLD_FILE_TYPE: TextKey = "oldFileType", "oldFileType", text(1023), None;
    OUT: LongKey = "out", "bytesOut", Long, None;
    OUTCOME: TextKey = "outcome", "eventOutcome", text(63), None;
    PROTO: TextKey = "proto", "transportProtocol", text(31), None;
    REASON: TextKey = "reason", "reason", text(1023), None;
    REPORTED_RESOURCE_ID: TextKey = "reportedResourceID", "reportedResourceID", text(256), None;
    REQUEST: TextKey = "request", "requestUrl", text(1023), None;
    REQUEST_CLIENT_APPLICATION: TextKey = "requestClientApplication", "requestClientApplication", text(1023), None;
    REQUEST_CONTEXT: TextKey = "requestContext", "requestContext", text(2048), None;
    REQUEST_COOKIES: TextKey = "requestCookies", "requestCookies", text(1023), None;
    REQUEST_METHOD: TextKey = "requestMethod", "requestMethod", text(1023), None;
    RT: TimeKey = "rt", "deviceReceiptTime", Time, None;
    SHOST: TextKey = "shost", "sourceHostName", text(1023), None;
    SMAC: MacKey = "smac", "sourceMacAddress", Mac, None;
    SNTDOM: TextKey = "sntdom", "sourceNtDomain", text(255), None;
    SOURCE_DNS_DOMAIN: TextKey = "sourceDnsDomain", "sourceDnsDomain", text(255), None;
    SOURCE_SERVICE_NAME: TextKey = "sourceServiceName", "sourceServiceName", text(1023), None;
    SOURCE_TRANSLATED_ADDRESS: Ipv4Key = "sourceTranslatedAddress", "sourceTranslatedAddress", Ipv4, None;
    SOURCE_TRANSLATED_PORT: PortKey = "sourceTranslatedPort", "sourceTranslatedPort", Port, None;
    SPID: IntKey = "spid", "sourceProcessId", Int, None;
    SPRIV: TextKey = "spriv", "sourceUserPrivileges", text(1023), None;
    SPROC: TextKey = "sproc", "sourceProcessName", text(1023), None;
    SPT: PortKey = "spt", "sourcePort", Port, None;
    SRC: Ipv4Key = "src", "sourceAddress", Ipv4, None;
    START: TimeKey = "start", "startTime", Time, None;
    SUID: TextKey = "suid", "sourceUserId", text(1023), None;
    SUSER: TextKey = "suser", "sourceUserName", text(1023), None;
    THREAT_ACTOR: TextKey = "threatActor", "threatActor", text(40), None;
    THREAT_ATTACK_ID: TextKey = "threatAttackID", "threatAttackID", text(32), None;
    TYPE: IntKey = "type", "type", Int, None;
}

/// Whether `name` is a valid vendor key: one or more of `[A-Za-z0-9_]`.
pub fn is_valid_key_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(is_key_byte)
}

pub(crate) fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_found_by_its_name_and_labels_are_text_keys() {
        for def in ALL {
            assert_eq!(lookup(def.name()), Some(*def), "{}", def.name());
            assert!(is_valid_key_name(def.name()));
            if let Some(label) = def.label() {
                assert_eq!(lookup(label.name()), Some(label));
                assert!(matches!(label.kind(), KeyKind::Text { .. }));
                assert_eq!(label.name(), format!("{}Label", def.name()));
            }
        }
    }

    #[test]
    fn vendor_keys_are_not_in_the_dictionary() {
        assert_eq!(lookup("zbDeviceProfile"), None);
        assert_eq!(lookup(""), None);
        // Near misses: a prefix, a longer name, another case.
        assert_eq!(lookup("cs1Labe"), None);
        assert_eq!(lookup("cs1Label2"), None);
        assert_eq!(lookup("SRC"), None);
    }

    #[test]
    fn key_names_are_validated() {
        assert!(is_valid_key_name("PANW_iot_profile2"));
        assert!(!is_valid_key_name(""));
        assert!(!is_valid_key_name("a b"));
        assert!(!is_valid_key_name("a=b"));
        assert!(!is_valid_key_name("ad.field"));
        assert!(!is_valid_key_name("é"));
    }
}
