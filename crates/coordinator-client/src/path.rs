//! Caller-supplied values (checksums, cursor names) as URL path segments.
//! Sent as they are, `../etc` or `a/b` would reach another route: URL
//! parsing resolves dot segments and a `/` starts a new segment.

use crate::{ClientError, ErrorCode};

/// `value` percent-encoded as one path segment. `.` and `..` are refused
/// here: URLs resolve them (even encoded) instead of sending them, so no
/// route could receive them, and the coordinator refuses them as names.
pub(crate) fn segment(value: &str) -> Result<String, ClientError> {
    if value == "." || value == ".." {
        return Err(ClientError::Refused {
            status: 400,
            code: ErrorCode::BadRequest,
            message: format!("{value:?} cannot be sent as a path segment"),
        });
    }
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    Ok(encoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_stay_one_segment() {
        let ok = |v: &str| segment(v).unwrap();
        assert_eq!(ok(&"ab".repeat(32)), "ab".repeat(32));
        assert_eq!(ok("testnet-1.v2_~"), "testnet-1.v2_~");
        assert_eq!(ok("../etc"), "..%2Fetc");
        assert_eq!(ok("a?b#c d%"), "a%3Fb%23c%20d%25");
        assert_eq!(ok("é"), "%C3%A9");
        for dots in [".", ".."] {
            assert!(segment(dots).unwrap_err().is_bad_request());
        }
    }
}
