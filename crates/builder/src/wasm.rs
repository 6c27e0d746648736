//! What a binary must be before a worker runs it: WebAssembly of the kind
//! its target promises, within the size cap.

use outlayer_types::BuildTarget;
use sha2::{Digest, Sha256};

use crate::error::BuildError;

const MAGIC: &[u8; 4] = b"\0asm";
/// Core modules: version 1.
const MODULE_VERSION: [u8; 4] = [0x01, 0x00, 0x00, 0x00];
/// Components: version 0x0d, layer 1.
const COMPONENT_VERSION: [u8; 4] = [0x0d, 0x00, 0x01, 0x00];

/// Checks the header against the target (a core module for wasm32-wasip1, a
/// component for wasm32-wasip2) and the size against `max_bytes`.
pub(crate) fn check(wasm: &[u8], target: BuildTarget, max_bytes: u64) -> Result<(), BuildError> {
    if wasm.len() as u64 > max_bytes {
        return Err(BuildError::BadArtifact(format!(
            "larger than {max_bytes} bytes"
        )));
    }
    if wasm.len() < 8 || &wasm[..4] != MAGIC {
        return Err(BuildError::BadArtifact("not a WebAssembly binary".into()));
    }
    let version: [u8; 4] = wasm[4..8].try_into().expect("four bytes");
    let (expected, found) = match target {
        BuildTarget::Wasip1 => (MODULE_VERSION, "a core module"),
        BuildTarget::Wasip2 => (COMPONENT_VERSION, "a component"),
    };
    if version == expected {
        return Ok(());
    }
    let actually = match version {
        MODULE_VERSION => "a core module",
        COMPONENT_VERSION => "a component",
        _ => "of an unknown WebAssembly version",
    };
    Err(BuildError::BadArtifact(format!(
        "{} needs {found}, the binary is {actually}",
        target.as_str()
    )))
}

/// SHA-256 in lower-case hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_match_targets() {
        let module = b"\0asm\x01\0\0\0";
        let component = b"\0asm\x0d\0\x01\0";
        check(module, BuildTarget::Wasip1, 100).unwrap();
        check(component, BuildTarget::Wasip2, 100).unwrap();
        let error = check(module, BuildTarget::Wasip2, 100).unwrap_err();
        assert!(
            error.summary().contains("needs a component"),
            "{}",
            error.summary()
        );
        assert!(check(component, BuildTarget::Wasip1, 100).is_err());
        assert!(check(b"\x7fELF\x02\x01\x01\0", BuildTarget::Wasip1, 100).is_err());
        assert!(check(module, BuildTarget::Wasip1, 7).is_err());
    }
}
