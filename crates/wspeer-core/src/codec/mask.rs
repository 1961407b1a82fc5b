//! The XOR mask of RFC 6455 §5.3, eight bytes at a time.

/// XORs `data` with `key`, where `data[0]` is at position `offset` of the
/// payload (so the key is rotated to match). Returns the position after `data`.
pub(crate) fn apply(data: &mut [u8], key: [u8; 4], offset: usize) -> usize {
    let shift = offset & 3;
    let rotated = [
        key[shift],
        key[(shift + 1) & 3],
        key[(shift + 2) & 3],
        key[(shift + 3) & 3],
    ];
    let wide = u64::from_ne_bytes([
        rotated[0], rotated[1], rotated[2], rotated[3], rotated[0], rotated[1], rotated[2],
        rotated[3],
    ]);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(word) ^ wide).to_ne_bytes());
    }
    for (i, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= rotated[i & 3];
    }
    offset + data.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(data: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, byte) in data.iter_mut().enumerate() {
            *byte ^= key[(offset + i) % 4];
        }
    }

    #[test]
    fn matches_the_byte_by_byte_definition_at_every_offset_and_length() {
        let key = [0x12, 0x34, 0x56, 0x78];
        for offset in 0..9 {
            for len in 0..40 {
                let original: Vec<u8> = (0..len as u8).map(|b| b.wrapping_mul(37)).collect();
                let mut fast = original.clone();
                let mut slow = original.clone();
                assert_eq!(apply(&mut fast, key, offset), offset + len);
                naive(&mut slow, key, offset);
                assert_eq!(fast, slow, "offset {offset} len {len}");
            }
        }
    }

    #[test]
    fn split_application_equals_whole() {
        let key = [9, 8, 7, 6];
        let mut whole: Vec<u8> = (0..100).collect();
        let mut split = whole.clone();
        apply(&mut whole, key, 0);
        let (a, b) = split.split_at_mut(13);
        let next = apply(a, key, 0);
        apply(b, key, next);
        assert_eq!(whole, split);
    }
}
