//! Entries into the middle of a region. A region's blocks all become hot at about the same
//! time, and control reaches each of them from outside too (a loop's exits and re-entries, a
//! function's calls): with one entry per function each would need a region of its own, most of
//! it the same blocks compiled again. Instead each block of a region gets a thunk that passes
//! its index to the region's function, which starts there (`Emitter::enter_region`).
//!
//! A thunk is two x86-64 instructions, `mov edi, index` (the first argument register of
//! Cranelift's `tail` convention) and `jmp function`, laid out after the function's code in the
//! same allocation, so the jump is relative and the image stays position-independent.

/// Bytes per thunk (two instructions of 5 bytes, padded with `int3`).
const THUNK: usize = 16;
/// Alignment of the first thunk.
const ALIGN: usize = 16;

/// The image to install for a region of `blocks` blocks compiled to `code`, and the offset of
/// each block's entry in it (the function itself for a region of one block).
pub fn image(code: &[u8], blocks: usize) -> (Vec<u8>, Vec<usize>) {
    if blocks <= 1 {
        return (code.to_vec(), vec![0]);
    }
    let mut bytes = code.to_vec();
    bytes.resize(code.len().next_multiple_of(ALIGN), 0xcc);
    let mut entries = Vec::with_capacity(blocks);
    for index in 0..blocks {
        let at = bytes.len();
        entries.push(at);
        // mov edi, imm32 (zero-extends into rdi)
        bytes.push(0xbf);
        bytes.extend_from_slice(&(index as u32).to_le_bytes());
        // jmp rel32, relative to the end of the jump, back to offset 0
        let rel = -((at + 10) as i64);
        bytes.push(0xe9);
        bytes.extend_from_slice(&i32::try_from(rel).expect("a region is far smaller than 2 GiB").to_le_bytes());
        bytes.resize(at + THUNK, 0xcc);
    }
    (bytes, entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_block_is_entered_at_the_function() {
        let (bytes, entries) = image(&[0x90; 7], 1);
        assert_eq!(bytes, vec![0x90; 7]);
        assert_eq!(entries, vec![0]);
    }

    #[test]
    fn each_thunk_loads_its_index_and_jumps_back_to_the_start() {
        let (bytes, entries) = image(&[0x90; 20], 3);
        assert_eq!(entries, vec![32, 48, 64]);
        for (index, &at) in entries.iter().enumerate() {
            assert_eq!(bytes[at], 0xbf);
            assert_eq!(u32::from_le_bytes(bytes[at + 1..at + 5].try_into().unwrap()), index as u32);
            assert_eq!(bytes[at + 5], 0xe9);
            let rel = i32::from_le_bytes(bytes[at + 6..at + 10].try_into().unwrap());
            assert_eq!(at as i64 + 10 + i64::from(rel), 0);
        }
        assert_eq!(bytes.len(), 80);
    }
}
