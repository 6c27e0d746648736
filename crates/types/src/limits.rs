//! Sizes the contract enforces that services must respect too, defined once
//! so a worker can never produce what the contract would refuse.

/// Largest payload a yield may be resumed with (nearcore's limit). A
/// response above it is kept in contract state by `resolve_execution`.
pub const MAX_YIELD_PAYLOAD_BYTES: usize = 1024;

/// Inputs of at least this many bytes stay in contract state instead of the
/// `execution_requested` event; workers read them with `get_request_input`.
pub const LARGE_INPUT_BYTES: u32 = 10 * 1024;

/// Longest failure message `resolve_execution` accepts.
pub const MAX_ERROR_BYTES: usize = 256;

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
