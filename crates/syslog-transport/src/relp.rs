//! RELP (rsyslog's Reliable Event Logging Protocol) frames:
//! `TXNR SP COMMAND SP DATALEN [SP DATA] LF`, used by the sender and the loopback
//! receiver alike.

use bytes::{Bytes, BytesMut};

use crate::format::push_decimal;

/// Transaction numbers run from 1 to 999 999 999, then wrap to 1.
pub const MAX_TXNR: u32 = 999_999_999;

/// The offer a client sends in `open`.
pub const OPEN_OFFERS: &[u8] = b"relp_version=0\nrelp_software=siembridge\ncommands=syslog";

/// The transaction number after `txnr`.
pub fn next_txnr(txnr: u32) -> u32 {
    if txnr >= MAX_TXNR { 1 } else { txnr + 1 }
}

/// Appends one RELP frame to `out`.
pub fn write_frame(out: &mut Vec<u8>, txnr: u32, command: &[u8], data: &[u8]) {
    push_decimal(out, txnr);
    out.push(b' ');
    out.extend_from_slice(command);
    out.push(b' ');
    // Messages are far below 4 GiB; a larger one could not be sent anyway.
    push_decimal(out, u32::try_from(data.len()).unwrap_or(u32::MAX));
    if !data.is_empty() {
        out.push(b' ');
        out.extend_from_slice(data);
    }
    out.push(b'\n');
}

/// One parsed RELP frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelpFrame {
    /// Transaction number (0 for `serverclose`).
    pub txnr: u32,
    /// Command: `open`, `syslog`, `close`, `rsp`, `serverclose`.
    pub command: Bytes,
    /// Its data, possibly empty.
    pub data: Bytes,
}

impl RelpFrame {
    /// For an `rsp` frame: the response code and its text (the first line of data
    /// after the code).
    pub fn response(&self) -> Option<(u16, &[u8])> {
        let data = &self.data[..];
        let code_end = data
            .iter()
            .position(|&b| b == b' ' || b == b'\n')
            .unwrap_or(data.len());
        let code = std::str::from_utf8(&data[..code_end]).ok()?.parse().ok()?;
        let rest = data.get(code_end + 1..).unwrap_or(&[]);
        let text_end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        Some((code, &rest[..text_end]))
    }
}

/// A byte stream that is not RELP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed RELP frame: {0}")]
pub struct RelpFrameError(pub &'static str);

/// Largest DATALEN accepted when parsing (rsyslog's own limit is far lower).
const MAX_DATALEN: usize = 128 * 1024 * 1024;

fn parse_number(field: &[u8], what: &'static str) -> Result<usize, RelpFrameError> {
    if field.is_empty() || field.len() > 9 || !field.iter().all(u8::is_ascii_digit) {
        return Err(RelpFrameError(what));
    }
    Ok(field
        .iter()
        .fold(0usize, |n, &d| n * 10 + usize::from(d - b'0')))
}

/// Takes the next complete frame off the front of `buf`, or `None` when more bytes are
/// needed.
pub fn parse_frame(buf: &mut BytesMut) -> Result<Option<RelpFrame>, RelpFrameError> {
    // TXNR SP COMMAND SP DATALEN: three fields, each short.
    let mut fields = [0usize; 3];
    let mut at = 0;
    for (i, end) in fields.iter_mut().enumerate() {
        let limit = if i == 1 { 32 } else { 10 };
        let window = &buf[at..buf.len().min(at + limit + 1)];
        let stop = window
            .iter()
            .position(|&b| b == b' ' || (i == 2 && b == b'\n'));
        match stop {
            Some(pos) => {
                *end = at + pos;
                at += pos + 1;
            }
            None if window.len() > limit => return Err(RelpFrameError("header field too long")),
            None => return Ok(None),
        }
    }
    let txnr = parse_number(&buf[..fields[0]], "bad transaction number")?;
    let command_start = fields[0] + 1;
    let len_start = fields[1] + 1;
    let datalen = parse_number(&buf[len_start..fields[2]], "bad data length")?;
    if datalen > MAX_DATALEN {
        return Err(RelpFrameError("data length too large"));
    }
    let ended_by_lf = buf[fields[2]] == b'\n';
    let total = if datalen == 0 {
        if ended_by_lf {
            fields[2] + 1
        } else {
            // `DATALEN SP LF` is tolerated too.
            if buf.len() < fields[2] + 2 {
                return Ok(None);
            }
            fields[2] + 2
        }
    } else {
        if ended_by_lf {
            return Err(RelpFrameError("data length without data"));
        }
        fields[2] + 1 + datalen + 1
    };
    if buf.len() < total {
        return Ok(None);
    }
    if buf[total - 1] != b'\n' {
        return Err(RelpFrameError("frame does not end with LF"));
    }
    let frame = buf.split_to(total).freeze();
    let data = if datalen == 0 {
        Bytes::new()
    } else {
        frame.slice(fields[2] + 1..total - 1)
    };
    Ok(Some(RelpFrame {
        txnr: u32::try_from(txnr).map_err(|_| RelpFrameError("bad transaction number"))?,
        command: frame.slice(command_start..fields[1]),
        data,
    }))
}
