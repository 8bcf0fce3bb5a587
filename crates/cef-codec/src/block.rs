//! Short writes as fixed-size copies. A copy whose length is known when compiling is a few
//! register moves; one whose length is known only at run time is a call to `memcpy`, which
//! costs more than the copy itself for the short texts CEF is made of. So short texts are
//! gathered into a block of fixed size, the whole block is appended, and the buffer is cut
//! back to the text's length.

/// Appends the first `len` bytes of `block` (all of it when `len` is larger).
#[inline(always)]
pub(crate) fn push_block<const N: usize>(out: &mut Vec<u8>, block: &[u8; N], len: usize) {
    let end = out.len() + len.min(N);
    out.extend_from_slice(block);
    out.truncate(end);
}

/// Copies `chunk` into `block` at `at`, when it fits (callers make sure it does).
#[inline(always)]
pub(crate) fn put<const B: usize, const N: usize>(block: &mut [u8; B], at: usize, chunk: &[u8; N]) {
    if let Some(slot) = block.get_mut(at..at + N) {
        slot.copy_from_slice(chunk);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_asked_length_is_appended() {
        let mut out = b">".to_vec();
        push_block(&mut out, b"abcdef", 3);
        push_block(&mut out, b"xy", 9);
        assert_eq!(out, b">abcxy");
        let mut block = [b'.'; 6];
        put(&mut block, 1, b"ab");
        put(&mut block, 5, b"cd");
        assert_eq!(&block, b".ab...");
    }
}
