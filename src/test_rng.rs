//! A fixed stream of test inputs for the unit tests (xorshift64: no dependency, the same
//! numbers on every machine).

/// The xorshift64 stream from `seed` (not zero).
pub fn xorshift64(mut state: u64) -> impl FnMut() -> u64 {
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    }
}
