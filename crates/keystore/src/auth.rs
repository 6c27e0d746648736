//! Bearer-token authentication. The keystore knows only SHA-256 hashes of
//! the tokens it accepts, so its configuration leaks no usable credential,
//! and compares them in constant time, so response timing reveals nothing
//! about how close a guess was.

use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use crate::{Error, Result};

/// The accepted token hashes. Empty means every authenticated route refuses.
#[derive(Clone, Default)]
pub struct BearerTokens {
    hashes: Vec<[u8; 32]>,
}

impl std::fmt::Debug for BearerTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BearerTokens({} hashes)", self.hashes.len())
    }
}

/// The hex SHA-256 of a token: what goes into the keystore's configuration.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl BearerTokens {
    /// From hex SHA-256 hashes (64 hex digits each).
    pub fn from_hashes<S: AsRef<str>>(hashes: impl IntoIterator<Item = S>) -> Result<Self> {
        let mut parsed = Vec::new();
        for hash in hashes {
            let hash = hash.as_ref().trim();
            if hash.is_empty() {
                continue;
            }
            let mut bytes = [0u8; 32];
            hex::decode_to_slice(hash, &mut bytes).map_err(|_| {
                Error::Config("token hashes must be 64 hex digits (SHA-256 of the token)".into())
            })?;
            parsed.push(bytes);
        }
        Ok(Self { hashes: parsed })
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Checks an `Authorization` header value (`Bearer <token>`).
    pub fn check(&self, header: Option<&str>) -> Result<()> {
        let token = header
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(Error::Unauthorized)?;
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        // Compare with every hash, without stopping at a match.
        let matched = self
            .hashes
            .iter()
            .fold(Choice::from(0), |acc, h| acc | h.ct_eq(&digest));
        if bool::from(matched) {
            Ok(())
        } else {
            Err(Error::Unauthorized)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_configured_tokens() {
        let tokens = BearerTokens::from_hashes([hash_token("worker-1"), hash_token("w2")]).unwrap();
        assert!(tokens.check(Some("Bearer worker-1")).is_ok());
        assert!(tokens.check(Some("Bearer w2")).is_ok());
        for bad in [
            None,
            Some(""),
            Some("Bearer "),
            Some("worker-1"),
            Some("Bearer worker-2"),
            Some("Basic d29ya2VyLTE="),
        ] {
            assert!(
                matches!(tokens.check(bad), Err(Error::Unauthorized)),
                "{bad:?}"
            );
        }
        assert!(
            BearerTokens::default()
                .check(Some("Bearer worker-1"))
                .is_err()
        );
        assert!(BearerTokens::from_hashes(["abc"]).is_err());
        assert_eq!(format!("{tokens:?}"), "BearerTokens(2 hashes)");
    }
}
