//! The master secret every accessor key is derived from. It is read once at
//! start, kept in zeroizing memory, and never printed: `Debug` is redacted.

use std::path::Path;

use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use crate::{Error, Result};

/// 32 secret bytes.
#[derive(Clone)]
pub struct MasterSecret(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for MasterSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterSecret(<redacted>)")
    }
}

impl MasterSecret {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// 64 hex digits (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<Self> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(text.trim(), bytes.as_mut_slice()).map_err(|_| {
            // Do not echo the input: it is (almost) the secret.
            Error::Config("master secret must be 64 hex digits (32 bytes)".into())
        })?;
        Ok(Self(bytes))
    }

    /// A file holding either 64 hex digits or exactly 32 raw bytes.
    pub fn from_file(path: &Path) -> Result<Self> {
        let mut content = std::fs::read(path).map_err(|e| {
            Error::Config(format!(
                "cannot read master secret file {}: {e}",
                path.display()
            ))
        })?;
        let result = if content.len() == 32 {
            let mut bytes = [0u8; 32];
            bytes.copy_from_slice(&content);
            let secret = Self::from_bytes(bytes);
            bytes.zeroize();
            Ok(secret)
        } else {
            match std::str::from_utf8(&content) {
                Ok(text) => Self::from_hex(text),
                Err(_) => Err(Error::Config(
                    "master secret file must hold 64 hex digits or 32 raw bytes".into(),
                )),
            }
        };
        content.zeroize();
        result
    }

    /// The development master: SHA-256 of a public string. Anyone can derive
    /// every key from it; only for local development and tests.
    pub fn development() -> Self {
        let digest: [u8; 32] = Sha256::digest(b"outlayer development master secret v1").into();
        Self::from_bytes(digest)
    }

    pub(crate) fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hex_and_raw_files_and_redacts() {
        let hex_text = "11".repeat(32);
        let secret = MasterSecret::from_hex(&format!(" {hex_text}\n")).unwrap();
        assert_eq!(secret.expose(), &[0x11; 32]);
        assert_eq!(format!("{secret:?}"), "MasterSecret(<redacted>)");

        let dir = std::env::temp_dir().join(format!("outlayer-master-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let raw = dir.join("raw");
        std::fs::write(&raw, [0x22; 32]).unwrap();
        assert_eq!(MasterSecret::from_file(&raw).unwrap().expose(), &[0x22; 32]);
        let hex_file = dir.join("hex");
        std::fs::write(&hex_file, format!("{}\n", "33".repeat(32))).unwrap();
        assert_eq!(
            MasterSecret::from_file(&hex_file).unwrap().expose(),
            &[0x33; 32]
        );
        std::fs::remove_dir_all(&dir).unwrap();

        let err = MasterSecret::from_hex("zz").unwrap_err().to_string();
        assert!(!err.contains("zz"), "{err}");
        assert!(MasterSecret::from_hex(&"11".repeat(31)).is_err());
    }
}
