//! A streaming, polite client for the Bitsight Security Performance Management API, with a synthetic portfolio.
#![deny(missing_docs)]
