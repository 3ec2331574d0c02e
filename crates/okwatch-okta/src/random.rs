//! Unpredictable identifiers from the operating system's random source.

const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `len` characters of base 62 drawn from the OS. API tokens are made of these, so a weak
/// source is not acceptable: failing to read it is a panic, not a fallback.
pub fn base62(len: usize) -> String {
    let mut bytes = vec![0u8; len * 2];
    getrandom::fill(&mut bytes).expect("the operating system's random source is readable");
    // Two bytes per character keep the modulo bias below 0.1%.
    bytes
        .chunks(2)
        .map(|pair| {
            let n = u16::from_le_bytes([pair[0], pair[1]]) as usize;
            ALPHABET[n % ALPHABET.len()] as char
        })
        .collect()
}

/// An `errorId` in Okta's shape (`oae` and 22 characters).
pub fn error_id() -> String {
    format!("oae{}", base62(22))
}

/// An `X-Okta-Request-Id`.
pub fn request_id() -> String {
    base62(27)
}
