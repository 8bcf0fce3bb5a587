//! End-to-end tests of the siembridge binaries live in this package's `tests/` folder;
//! this library holds what they share.
