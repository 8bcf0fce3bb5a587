//! An owned string that keeps short values inline.
//!
//! A detailed device has about 40 text fields, nearly all a few bytes long (ids, IP and
//! MAC addresses, categories, dates). Holding each in a `String` costs one allocation
//! and one free per field, which was a quarter of the time spent decoding a page.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

/// The longest text kept inline (with its length byte and the variant tag, the type is
/// as large as a `String`).
pub(crate) const INLINE_CAPACITY: usize = 22;

/// An immutable owned string: up to 22 bytes inline, longer ones in one heap block.
/// It dereferences to `str`, so `field.as_deref()` gives an `Option<&str>`.
///
/// ```
/// use iot_security_api::SmallString;
///
/// let mac = SmallString::from("00:1b:44:11:3a:b7");
/// assert_eq!(mac, "00:1b:44:11:3a:b7");
/// assert_eq!(mac.len(), 17);
/// assert_eq!(String::from(mac), "00:1b:44:11:3a:b7");
/// ```
#[derive(Clone)]
pub struct SmallString(Repr);

#[derive(Clone)]
enum Repr {
    Inline {
        len: u8,
        bytes: [u8; INLINE_CAPACITY],
    },
    Heap(Box<str>),
}

impl SmallString {
    /// The text as a `str`.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Always valid: the bytes were copied from a `str` (safe code has to check).
            Repr::Inline { len, bytes } => bytes
                .get(..usize::from(*len))
                .and_then(|text| std::str::from_utf8(text).ok())
                .unwrap_or_default(),
            Repr::Heap(text) => text,
        }
    }

    /// A text of `len` bytes (at most [`INLINE_CAPACITY`]) from the start of `bytes`,
    /// which hold a whole UTF-8 text there and zeros after it.
    #[inline(always)]
    pub(crate) fn from_inline_bytes(bytes: &[u8; 24], len: usize) -> Option<Self> {
        let inline: [u8; INLINE_CAPACITY] = bytes.get(..INLINE_CAPACITY)?.try_into().ok()?;
        Some(Self(Repr::Inline {
            len: u8::try_from(len)
                .ok()
                .filter(|len| usize::from(*len) <= INLINE_CAPACITY)?,
            bytes: inline,
        }))
    }

    #[inline(always)]
    fn inline(text: &str) -> Option<Self> {
        let len = u8::try_from(text.len())
            .ok()
            .filter(|len| usize::from(*len) <= INLINE_CAPACITY)?;
        let mut bytes = [0; INLINE_CAPACITY];
        copy_short(&mut bytes, text.as_bytes());
        Some(Self(Repr::Inline { len, bytes }))
    }
}

/// Copies `source` (at most [`INLINE_CAPACITY`] bytes) to the start of `destination` as
/// two overlapping fixed-size copies, its head and its tail: a few loads and stores
/// instead of a call to `memcpy`, which costs more than the copy for short texts.
#[inline(always)]
fn copy_short(destination: &mut [u8; INLINE_CAPACITY], source: &[u8]) {
    fn copy<const N: usize>(destination: &mut [u8], source: &[u8], at: usize) {
        if let (Some(to), Some(from)) = (destination.get_mut(at..at + N), source.get(at..at + N)) {
            to.copy_from_slice(from);
        }
    }
    let len = source.len();
    match len {
        0..4 => {
            for (to, from) in destination.iter_mut().zip(source) {
                *to = *from;
            }
        }
        4..8 => {
            copy::<4>(destination, source, 0);
            copy::<4>(destination, source, len - 4);
        }
        8..16 => {
            copy::<8>(destination, source, 0);
            copy::<8>(destination, source, len - 8);
        }
        _ => {
            copy::<16>(destination, source, 0);
            copy::<16>(destination, source, len.saturating_sub(16));
        }
    }
}

impl Default for SmallString {
    fn default() -> Self {
        Self(Repr::Inline {
            len: 0,
            bytes: [0; INLINE_CAPACITY],
        })
    }
}

impl From<&str> for SmallString {
    #[inline]
    fn from(text: &str) -> Self {
        Self::inline(text).unwrap_or_else(|| Self(Repr::Heap(text.into())))
    }
}

impl From<String> for SmallString {
    fn from(text: String) -> Self {
        Self::inline(&text).unwrap_or_else(|| Self(Repr::Heap(text.into_boxed_str())))
    }
}

impl From<SmallString> for String {
    fn from(text: SmallString) -> Self {
        match text.0 {
            Repr::Heap(text) => text.into_string(),
            Repr::Inline { .. } => text.as_str().to_owned(),
        }
    }
}

impl Deref for SmallString {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for SmallString {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for SmallString {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for SmallString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for SmallString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for SmallString {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for SmallString {}

impl PartialEq<str> for SmallString {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SmallString {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for SmallString {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialOrd for SmallString {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SmallString {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for SmallString {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl serde::Serialize for SmallString {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_texts_round_trip_at_the_inline_boundary() {
        for len in (0..=30).chain([100]) {
            let text = "é".repeat(len / 2) + &"x".repeat(len % 2);
            let small = SmallString::from(text.as_str());
            assert_eq!(small.as_str(), text);
            assert_eq!(SmallString::from(text.clone()), small);
            assert_eq!(String::from(small), text);
        }
        assert_eq!(std::mem::size_of::<Option<SmallString>>(), 24);
    }
}
