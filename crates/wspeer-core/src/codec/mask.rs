//! The XOR mask of RFC 6455 §5.3, a 64-byte block at a time.

/// Bytes XORed per step: a fixed-size block that the compiler turns into a few
/// vector instructions (16 bytes each with the baseline SSE2), where a loop
/// over `u64` words stays scalar.
const BLOCK: usize = 64;

/// XORs `data` with `key`, where `data[0]` is at position `offset` of the
/// payload (so the key is rotated to match). Returns the position after `data`.
pub(crate) fn apply(data: &mut [u8], key: [u8; 4], offset: usize) -> usize {
    let shift = offset & 3;
    let rotated: [u8; 4] = std::array::from_fn(|i| key[(shift + i) & 3]);
    // The key four times over (in either byte order), then the block from it:
    // a broadcast, where building the block byte by byte cost more than
    // masking a 1 KiB payload.
    let lane = (u128::from(u32::from_ne_bytes(rotated))
        * 0x0000_0001_0000_0001_0000_0001_0000_0001)
        .to_ne_bytes();
    let mut block = [0u8; BLOCK];
    for part in block.chunks_exact_mut(lane.len()) {
        part.copy_from_slice(&lane);
    }
    let mut blocks = data.chunks_exact_mut(BLOCK);
    for chunk in &mut blocks {
        for (byte, k) in chunk.iter_mut().zip(block) {
            *byte ^= k;
        }
    }
    // Shorter than a block; BLOCK is a multiple of 4, so the key lines up.
    for (byte, k) in blocks.into_remainder().iter_mut().zip(block) {
        *byte ^= k;
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
            for len in 0..200 {
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
