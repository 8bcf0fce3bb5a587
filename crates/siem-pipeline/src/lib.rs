//! What the siembridge daemons share: config, checkpoints, the at-least-once delivery loop, sinks and metrics.
#![deny(missing_docs)]
