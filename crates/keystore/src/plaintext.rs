//! The plaintext inside a blob: a JSON object of environment-variable names
//! to string values. Checked before encryption (the CLI, `/pubkey`) and
//! after decryption, so a reserved name never reaches a program.
//! Error messages name keys, never values.

use std::collections::BTreeMap;

use outlayer_types::env::{SecretNameError, check_secret_name};
use serde_json::Value;
use zeroize::Zeroize;

pub const MAX_SECRETS: usize = 64;
pub const MAX_VALUE_BYTES: usize = 16 * 1024;
/// Bounds the serialised plaintext so its blob fits what the contract stores.
pub const MAX_PLAINTEXT_BYTES: usize = outlayer_types::limits::MAX_SECRETS_PLAINTEXT_BYTES;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretsError {
    #[error("secrets must be valid JSON")]
    NotJson,
    #[error("secrets must be a JSON object of names to string values")]
    NotObject,
    #[error("the value of {0:?} must be a string")]
    NotString(String),
    #[error("{0}")]
    Name(#[from] SecretNameError),
    #[error("at most {MAX_SECRETS} secrets per profile (got {0})")]
    TooMany(usize),
    #[error("the value of {0:?} is longer than {MAX_VALUE_BYTES} bytes")]
    ValueTooLarge(String),
    #[error(
        "secrets are longer than {MAX_PLAINTEXT_BYTES} bytes in all (as compact JSON): \
         their encrypted form would not fit the contract's {} base64 characters",
        outlayer_types::limits::MAX_SECRETS_BLOB_BASE64
    )]
    TooLarge,
}

/// Validated secrets. Values are wiped from memory on drop and never shown
/// by `Debug`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretMap(BTreeMap<String, String>);

impl std::fmt::Debug for SecretMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Drop for SecretMap {
    fn drop(&mut self) {
        for value in self.0.values_mut() {
            value.zeroize();
        }
    }
}

impl SecretMap {
    /// Parses and checks serialised secrets (a file, a decrypted blob).
    pub fn parse(bytes: &[u8]) -> Result<Self, SecretsError> {
        // A bound on parsing work only: whitespace and escapes may make a
        // file larger than its canonical form, which is what is checked.
        if bytes.len() > 4 * MAX_PLAINTEXT_BYTES {
            return Err(SecretsError::TooLarge);
        }
        // serde_json's messages can quote input; report only "not JSON".
        let value: Value = serde_json::from_slice(bytes).map_err(|_| SecretsError::NotJson)?;
        Self::from_value(value)
    }

    /// Checks an already parsed JSON value.
    pub fn from_value(value: Value) -> Result<Self, SecretsError> {
        let Value::Object(object) = value else {
            return Err(SecretsError::NotObject);
        };
        if object.len() > MAX_SECRETS {
            return Err(SecretsError::TooMany(object.len()));
        }
        let mut map = Self::default();
        for (name, value) in object {
            check_secret_name(&name)?;
            let Value::String(value) = value else {
                return Err(SecretsError::NotString(name));
            };
            if value.len() > MAX_VALUE_BYTES {
                return Err(SecretsError::ValueTooLarge(name));
            }
            map.0.insert(name, value);
        }
        // Entries are bounded above, so this serialisation is bounded too.
        if map.to_json().len() > MAX_PLAINTEXT_BYTES {
            return Err(SecretsError::TooLarge);
        }
        Ok(map)
    }

    /// The canonical serialisation that gets encrypted: compact JSON, keys
    /// sorted. Wipe the returned bytes after use.
    pub fn to_json(&self) -> zeroize::Zeroizing<Vec<u8>> {
        zeroize::Zeroizing::new(serde_json::to_vec(&self.0).expect("string map serialises"))
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Hands the values over (to a response or a program's environment).
    pub fn into_inner(mut self) -> BTreeMap<String, String> {
        std::mem::take(&mut self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_string_maps_and_refuses_the_rest() {
        let map = SecretMap::parse(br#"{"B":"2","A_KEY":"1"}"#).unwrap();
        assert_eq!(map.names().collect::<Vec<_>>(), ["A_KEY", "B"]);
        assert_eq!(&*map.to_json(), br#"{"A_KEY":"1","B":"2"}"#);
        assert_eq!(format!("{map:?}"), r#"{"A_KEY", "B"}"#);

        assert_eq!(SecretMap::parse(b"[1]"), Err(SecretsError::NotObject));
        assert_eq!(SecretMap::parse(b"{"), Err(SecretsError::NotJson));
        assert_eq!(
            SecretMap::parse(br#"{"A":5}"#),
            Err(SecretsError::NotString("A".into()))
        );
        for reserved in ["NEAR_SENDER_ID", "OUTLAYER_X", "TZ", "LANG", "NEAR_ANY"] {
            let json = format!(r#"{{"{reserved}":"x"}}"#);
            assert!(
                matches!(
                    SecretMap::parse(json.as_bytes()),
                    Err(SecretsError::Name(SecretNameError::Reserved(_)))
                ),
                "{reserved}"
            );
        }
        assert!(matches!(
            SecretMap::parse(br#"{"1BAD":"x"}"#),
            Err(SecretsError::Name(SecretNameError::Invalid(_)))
        ));
    }

    #[test]
    fn sizes_are_bounded_and_errors_hide_values() {
        let many: serde_json::Map<String, Value> = (0..=MAX_SECRETS)
            .map(|i| (format!("K{i}"), Value::from("v")))
            .collect();
        assert_eq!(
            SecretMap::from_value(Value::Object(many)),
            Err(SecretsError::TooMany(MAX_SECRETS + 1))
        );
        let big = format!(r#"{{"K":"{}"}}"#, "x".repeat(MAX_VALUE_BYTES + 1));
        assert_eq!(
            SecretMap::parse(big.as_bytes()),
            Err(SecretsError::ValueTooLarge("K".into()))
        );
        let err = SecretMap::parse(br#"{"A": 12345678}"#).unwrap_err();
        assert!(!err.to_string().contains("12345678"));
        let err = SecretMap::parse(br#"{"A": "sk-secret" "#).unwrap_err();
        assert!(!err.to_string().contains("sk-secret"));
    }
}
