//! Cortex XSIAM modeling rules (.xif) run offline: parse, check, compile and evaluate against JSON events.
#![deny(missing_docs)]
