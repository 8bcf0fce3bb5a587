//! ArcSight Common Event Format (CEF:0 and CEF:1): a zero-copy encoder and a strict or
//! lenient decoder.
//!
//! An [`Event`] is the seven header fields and an ordered extension. Build one with
//! [`Event::builder`], whose methods take typed [`keys`] (so `src` only takes an IPv4
//! address), then write it with [`Event::encode_into`] (appends to your buffer, allocates
//! nothing per field) or [`Display`](std::fmt::Display). Read lines back with [`Decoder`].
//!
//! **The fastest path, for bulk work, is a [`HeaderTemplate`]**: the vendor, product and
//! device version (with the CEF version, length policy and time format) are checked, cut and
//! escaped once per run, and [`HeaderTemplate::event`] writes each event straight into your
//! buffer, pair by pair as its [`EventWriter`] methods are called, allocating nothing. It
//! writes exactly what the builder writes, or returns the builder's error and leaves the
//! buffer as it was:
//!
//! ```
//! use std::net::Ipv4Addr;
//! use cef_codec::{keys, HeaderTemplate, Severity};
//!
//! let template = HeaderTemplate::new("PaloAltoNetworks", "PANWIOT", "1.0")?;
//! let mut out = Vec::new();
//! for (host, address) in [("pump-1", [10, 1, 2, 3]), ("pump|2", [10, 1, 2, 4])] {
//!     template
//!         .event(&mut out, "asset", "Asset Identification", Severity::new(1)?)
//!         .text(keys::DVCHOST, host)
//!         .ipv4(keys::SRC, Ipv4Addr::from(address))
//!         .finish()?;
//!     out.push(b'\n');
//! }
//! assert_eq!(
//!     String::from_utf8(out)?,
//!     "CEF:0|PaloAltoNetworks|PANWIOT|1.0|asset|Asset Identification|1|dvchost=pump-1 src=10.1.2.3\n\
//!      CEF:0|PaloAltoNetworks|PANWIOT|1.0|asset|Asset Identification|1|dvchost=pump|2 src=10.1.2.4\n"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! When the header changes from event to event, write straight from the builder with
//! [`EventBuilder::encode_into`]: it appends exactly what `build()?.encode_into(out)`
//! appends (or returns the same error, leaving `out` as it was) without making an
//! [`Event`]. Reuse one buffer across records. An event, and the same line from the builder:
//!
//! ```
//! use std::net::Ipv4Addr;
//! use cef_codec::{keys, Decoder, Event, MacAddress, Severity};
//! use time::macros::datetime;
//!
//! let event = Event::builder()
//!     .vendor("PaloAltoNetworks")
//!     .product("PANWIOT")
//!     .device_version("1.0")
//!     .signature_id("asset")
//!     .name("Asset Identification")
//!     .severity(Severity::new(1)?)
//!     .text(keys::DEVICE_EXTERNAL_ID, "a4:5e:60:c2:11:01")
//!     .ipv4(keys::SRC, Ipv4Addr::new(10, 1, 2, 3))
//!     .mac(keys::DVCMAC, "a4:5e:60:c2:11:01".parse::<MacAddress>()?)
//!     .time(keys::RT, datetime!(2026-11-24 04:00 UTC))
//!     .label(keys::CS1, "Profile")
//!     .text(keys::CS1, "Infusion Pump | ward=3")
//!     .build()?;
//!
//! let mut line = Vec::new();
//! event.encode_into(&mut line);
//! assert_eq!(
//!     String::from_utf8(line.clone())?,
//!     "CEF:0|PaloAltoNetworks|PANWIOT|1.0|asset|Asset Identification|1|\
//!      deviceExternalId=a4:5e:60:c2:11:01 src=10.1.2.3 dvcmac=A4:5E:60:C2:11:01 \
//!      rt=1795492800000 cs1Label=Profile cs1=Infusion Pump | ward\\=3"
//! );
//! assert_eq!(event.to_string().as_bytes(), line);
//!
//! // The strict decoder reads back exactly the event that was written.
//! assert_eq!(Decoder::strict().decode_bytes(&line)?, event);
//!
//! // In bulk: the same line, written from the builder without an Event.
//! let mut lines = Vec::new();
//! Event::builder()
//!     .vendor("PaloAltoNetworks")
//!     .product("PANWIOT")
//!     .device_version("1.0")
//!     .signature_id("asset")
//!     .name("Asset Identification")
//!     .severity(Severity::new(1)?)
//!     .text(keys::DEVICE_EXTERNAL_ID, "a4:5e:60:c2:11:01")
//!     .ipv4(keys::SRC, Ipv4Addr::new(10, 1, 2, 3))
//!     .mac(keys::DVCMAC, "a4:5e:60:c2:11:01".parse::<MacAddress>()?)
//!     .time(keys::RT, datetime!(2026-11-24 04:00 UTC))
//!     .label(keys::CS1, "Profile")
//!     .text(keys::CS1, "Infusion Pump | ward=3")
//!     .encode_into(&mut lines)?;
//! assert_eq!(lines, line);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Rules this crate keeps
//!
//! - **Escaping** follows the spec: header fields escape `\` and `|`; extension values
//!   escape `\`, `=`, and line breaks as `\n` and `\r`. Keys are never escaped, only
//!   validated (`[A-Za-z0-9_]+`). No value can forge a header field or a key, and an
//!   encoded event never holds a raw line break.
//! - **Escaping and normalisation happen when building**: each extension value is escaped
//!   into the extension's text when its builder method is called, and an event holds its
//!   header and extension as CEF text (a strictly decoded event borrows them from the
//!   line), so writing is two copies, and an event holds exactly what is written:
//!   header line breaks become spaces (CRLF counts as one), other control characters
//!   except tab become U+FFFD (they have no CEF escape, and NUL ends a NUL-framed syslog
//!   message), and values over their key's length limit (counted in characters) are cut
//!   on a character boundary or refused, as the [`LengthPolicy`] says.
//! - **Empty values are not written**: CEF reads `key=` as absent, so the builder drops
//!   empty values and the decoders skip them.
//! - **Spaces are kept**: a value's leading and trailing spaces are written as they are.
//!   The value runs to the space before the next `key=`, so a trailing space survives
//!   between pairs; the strict decoder also keeps trailing spaces of the last value (it
//!   strips only a final line terminator), while ArcSight and the lenient decoder trim
//!   them. Avoid trailing spaces in the last value when a third-party receiver matters.
//! - **Order is the caller's**: pairs are written in the order they were added.
//! - **Timestamps** are epoch milliseconds by default, or the spec's
//!   `MMM dd yyyy HH:mm:ss.SSS zzz` text ([`TimeFormat`]).
#![deny(missing_docs)]

mod block;
mod decode;
mod digits;
mod encode;
mod escape;
mod event;
pub mod keys;
mod mac;
mod scan;
mod severity;
mod template;
mod timestamp;

pub use decode::{DecodeError, DecodeErrorKind, Decoder, split_syslog_header};
pub use event::{BuildError, CefVersion, Event, EventBuilder, LengthPolicy};
pub use mac::{MacAddress, ParseMacError};
pub use severity::{Band, ParseSeverityError, Severity, SeverityOutOfRange};
pub use template::{EventWriter, HeaderTemplate, TemplateOptions};
pub use timestamp::{TimeFormat, TimestampError, parse_timestamp};
