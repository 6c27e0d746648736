//! Sizes the contract enforces that services must respect too, defined once
//! so a worker can never produce what the contract would refuse.

/// Largest payload a yield may be resumed with (nearcore's limit). A
/// response above it is kept in contract state by `resolve_execution`.
pub const MAX_YIELD_PAYLOAD_BYTES: usize = 1024;

/// Inputs that take at least this many bytes in the `execution_requested`
/// event (as a JSON string, see [`input_in_state`]) stay in contract state
/// instead; workers read them with `get_request_input`.
pub const LARGE_INPUT_BYTES: u32 = 10 * 1024;

/// Bytes `text` takes as a JSON string as serde_json writes it: the quotes,
/// `\"` and `\\`, two-byte escapes for \b \t \n \f \r, six-byte `\u00XX`
/// for the other control characters, everything else as is.
pub fn json_string_len(text: &str) -> usize {
    2 + text
        .bytes()
        .map(|b| match b {
            b'"' | b'\\' | 0x08 | 0x09 | 0x0a | 0x0c | 0x0d => 2,
            0x00..=0x1f => 6,
            _ => 1,
        })
        .sum::<usize>()
}

/// Whether an input stays in contract state: decided by its size in the
/// event, not its raw size, so an input of quotes or control characters
/// (up to six bytes each once escaped) can never push the event's log line
/// past NEAR's 16 KiB limit.
pub fn input_in_state(input: &str) -> bool {
    json_string_len(input) >= LARGE_INPUT_BYTES as usize
}

/// Largest inline JavaScript (`CodeSource::JavaScript`), measured as the
/// code takes in the `execution_requested` event (a JSON string, see
/// [`json_string_len`]): with the largest inline input beside it the event
/// stays under NEAR's 16 KiB log line. Larger scripts belong in a repository.
pub const MAX_INLINE_SCRIPT_BYTES: usize = 4 * 1024;

/// Longest failure message `resolve_execution` accepts.
pub const MAX_ERROR_BYTES: usize = 256;

/// Longest `encrypted_secrets_base64` the contract stores (base64 text).
pub const MAX_SECRETS_BLOB_BASE64: usize = 32 * 1024;

/// What a version-1 secrets blob adds to its plaintext: the version byte,
/// the ephemeral X25519 key, the nonce and the tag (`docs/keystore-crypto.md`).
pub const SECRETS_BLOB_OVERHEAD: usize = 1 + 32 + 12 + 16;

/// Longest secrets plaintext (serialised JSON) whose blob the contract
/// accepts: 24,515 bytes. The CLI, the keystore and the contract all check
/// against this, so nothing is encrypted that cannot be stored.
pub const MAX_SECRETS_PLAINTEXT_BYTES: usize =
    MAX_SECRETS_BLOB_BASE64 / 4 * 3 - SECRETS_BLOB_OVERHEAD;

/// `message` cut to at most [`MAX_ERROR_BYTES`] bytes on a character boundary.
pub fn truncate_error(message: &str) -> String {
    let mut cut = message.len().min(MAX_ERROR_BYTES);
    while !message.is_char_boundary(cut) {
        cut -= 1;
    }
    message[..cut].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_string_len_is_what_serde_json_writes() {
        let every_ascii: String = (0u8..0x80).map(char::from).collect();
        for text in [
            "",
            "plain",
            "quote \" and \\ slash /",
            "é ü 😀",
            &every_ascii,
        ] {
            assert_eq!(
                json_string_len(text),
                serde_json::to_string(text).unwrap().len(),
                "{text:?}"
            );
        }
        let worst = "\u{1}".repeat(2000);
        assert_eq!(json_string_len(&worst), 2 + 6 * 2000);
        assert!(input_in_state(&worst), "2,000 bytes that escape to 12,002");
        assert!(!input_in_state(&"a".repeat(10 * 1024 - 3)));
        assert!(input_in_state(&"a".repeat(10 * 1024 - 2)));
    }

    #[test]
    fn the_largest_secrets_blob_fits_the_contract() {
        assert_eq!(MAX_SECRETS_PLAINTEXT_BYTES, 24_515);
        let blob = MAX_SECRETS_PLAINTEXT_BYTES + SECRETS_BLOB_OVERHEAD;
        assert_eq!(blob.div_ceil(3) * 4, MAX_SECRETS_BLOB_BASE64);
        assert!((blob + 1).div_ceil(3) * 4 > MAX_SECRETS_BLOB_BASE64);
    }

    #[test]
    fn errors_are_cut_on_char_boundaries() {
        assert_eq!(truncate_error("short"), "short");
        let long = "é".repeat(200); // 400 bytes
        let cut = truncate_error(&long);
        assert_eq!(cut.len(), 256);
        assert!(cut.chars().all(|c| c == 'é'));
        let odd = format!("a{}", "é".repeat(200));
        assert_eq!(truncate_error(&odd).len(), 255);
    }
}
