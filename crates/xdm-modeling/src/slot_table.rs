//! Column name to slot, for reading every key of every event: an open-addressing table
//! with a word-at-a-time hash, a few times cheaper per key than SipHash or a binary
//! search of string compares (the names are fixed at compile time and not attacker-chosen
//! in number, so a keyed hash buys nothing here).

use std::collections::HashMap;

#[derive(Debug)]
pub(crate) struct SlotTable {
    /// Power-of-two sized, at most a quarter full, so probes stay short.
    entries: Vec<Option<(Box<str>, usize)>>,
    mask: u64,
}

impl SlotTable {
    pub(crate) fn new(by_name: &HashMap<String, usize>) -> Self {
        let size = (by_name.len() * 4).next_power_of_two().max(8);
        let mut entries = vec![None; size];
        let mask = (size - 1) as u64;
        for (name, slot) in by_name {
            let mut i = hash(name) & mask;
            while entries[index(i)].is_some() {
                i = (i + 1) & mask;
            }
            entries[index(i)] = Some((Box::from(name.as_str()), *slot));
        }
        SlotTable { entries, mask }
    }

    pub(crate) fn get(&self, key: &str) -> Option<usize> {
        let mut i = hash(key) & self.mask;
        loop {
            match &self.entries[index(i)] {
                None => return None,
                Some((name, slot)) if **name == *key => return Some(*slot),
                Some(_) => i = (i + 1) & self.mask,
            }
        }
    }
}

#[allow(clippy::cast_possible_truncation)] // masked to the table's (usize) length
fn index(i: u64) -> usize {
    i as usize
}

fn hash(key: &str) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let bytes = key.as_bytes();
    let mut h = bytes.len() as u64;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
    }
    let mut tail = [0u8; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    h = (h.rotate_left(5) ^ u64::from_le_bytes(tail)).wrapping_mul(K);
    h ^ (h >> 29)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::SlotTable;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The table answers exactly as the map it was built from.
        #[test]
        fn agrees_with_the_map(names in proptest::collection::hash_set("[a-z_.]{0,24}", 0..60), probes in proptest::collection::vec("[a-z_.]{0,24}", 0..20)) {
            let map: HashMap<String, usize> = names.into_iter().enumerate().map(|(i, n)| (n, i)).collect();
            let table = SlotTable::new(&map);
            for (name, slot) in &map {
                prop_assert_eq!(table.get(name), Some(*slot));
            }
            for probe in &probes {
                prop_assert_eq!(table.get(probe), map.get(probe).copied());
            }
        }
    }
}
