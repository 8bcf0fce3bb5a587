//! ArcSight Common Event Format (CEF:0 and CEF:1): a zero-copy encoder and a strict or lenient decoder.
#![deny(missing_docs)]
