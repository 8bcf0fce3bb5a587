//! Syslog (RFC 5424 / 3164) formatting, framing and UDP / TCP / TLS / RELP / Unix senders with delivery acknowledgements.
#![deny(missing_docs)]
