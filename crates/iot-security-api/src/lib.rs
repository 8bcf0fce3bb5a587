//! A streaming, rate-limited client for the Palo Alto Networks IoT Security API, with a synthetic tenant.
#![deny(missing_docs)]
