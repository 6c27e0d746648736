//! An account's ED25519 signing key: parsed from NEAR's key strings or
//! near-cli's credentials files, generated, and written back out.
//!
//! The secret lives in an `ed25519_dalek::SigningKey`, which zeroizes itself
//! when dropped; intermediate copies are zeroized too, and neither `Debug`
//! nor any error message ever contains it.

use std::fmt;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use ed25519_dalek::ed25519::signature::Signer as _;
use outlayer_types::AccountId;
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::transaction::{PublicKey, Signature, strip_curve};

/// Why a key string or credentials file was refused. Never includes the
/// secret.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("unsupported key type {curve:?} (only ed25519)")]
    UnsupportedCurve { curve: String },
    #[error("{what} is not valid base58")]
    Base58 { what: &'static str },
    #[error("{what} has {actual} bytes, expected {expected}")]
    Length {
        what: &'static str,
        expected: usize,
        actual: usize,
    },
    /// A 64-byte secret whose second half, or a credentials file whose
    /// `public_key`, is not the secret's public key.
    #[error("the public key does not belong to the secret key")]
    PublicKeyMismatch,
    #[error("invalid account id {account_id:?}: {message}")]
    AccountId { account_id: String, message: String },
    #[error("cannot read {path}: {message}")]
    Io { path: PathBuf, message: String },
    /// `path` is empty for [`Signer::from_credentials_json`].
    #[error("invalid credentials{}: {message}", in_file(path))]
    Credentials { path: PathBuf, message: String },
    #[error("no randomness from the operating system: {message}")]
    Random { message: String },
}

fn in_file(path: &Path) -> String {
    if path.as_os_str().is_empty() {
        String::new()
    } else {
        format!(" in {}", path.display())
    }
}

/// Signs transactions for `account_id` with one ED25519 key.
#[derive(Clone)]
pub struct Signer {
    pub account_id: AccountId,
    key: SigningKey,
}

impl Signer {
    /// From NEAR's secret key string: `ed25519:<base58>` of the 64-byte
    /// `seed ‖ public key` (what near-cli and near-api-js write) or of the
    /// 32-byte seed. Bare base58 is taken as ED25519.
    pub fn from_secret_key(account_id: AccountId, secret_key: &str) -> Result<Self, KeyError> {
        let encoded = strip_curve(secret_key.trim())?;
        let bytes = Zeroizing::new(
            bs58::decode(encoded)
                .into_vec()
                .map_err(|_| KeyError::Base58 { what: "secret key" })?,
        );
        let key = match bytes.len() {
            32 => {
                let mut seed = Zeroizing::new([0u8; 32]);
                seed.copy_from_slice(&bytes);
                SigningKey::from_bytes(&seed)
            }
            64 => {
                let mut pair = Zeroizing::new([0u8; 64]);
                pair.copy_from_slice(&bytes);
                SigningKey::from_keypair_bytes(&pair).map_err(|_| KeyError::PublicKeyMismatch)?
            }
            actual => {
                return Err(KeyError::Length {
                    what: "secret key",
                    expected: 64,
                    actual,
                });
            }
        };
        Ok(Self { account_id, key })
    }

    /// Reads near-cli's credentials JSON: `{"account_id", "public_key",
    /// "private_key"}` (`secret_key` is accepted for `private_key`). A
    /// `public_key` that is present must match the secret.
    pub fn from_credentials_file(path: impl AsRef<Path>) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| KeyError::Io {
            path: path.to_owned(),
            message: e.to_string(),
        })?);
        Self::from_credentials_json(&text).map_err(|e| match e {
            KeyError::Credentials { message, .. } => KeyError::Credentials {
                path: path.to_owned(),
                message,
            },
            other => other,
        })
    }

    /// [`Self::from_credentials_file`] for the file's contents.
    pub fn from_credentials_json(json: &str) -> Result<Self, KeyError> {
        let invalid = |message: String| KeyError::Credentials {
            path: PathBuf::new(),
            message,
        };
        // Parsed as a `Value` and read by hand so that no serde message can
        // quote the secret; the secret's copy in the `Value` is scrubbed.
        let value = Scrubbed(serde_json::from_str::<Value>(json).map_err(|e| {
            invalid(format!(
                "not JSON (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?);
        let field = |name: &str| value.0.get(name).and_then(Value::as_str);
        let account_id = field("account_id").ok_or_else(|| invalid("no \"account_id\"".into()))?;
        let account_id = account_id
            .parse::<AccountId>()
            .map_err(|e| KeyError::AccountId {
                account_id: account_id.to_owned(),
                message: e.to_string(),
            })?;
        let secret = field("private_key")
            .or_else(|| field("secret_key"))
            .ok_or_else(|| invalid("no \"private_key\" or \"secret_key\"".into()))?;
        let signer = Self::from_secret_key(account_id, secret)?;
        if let Some(public_key) = field("public_key")
            && public_key.parse::<PublicKey>()? != signer.public_key_bytes()
        {
            return Err(KeyError::PublicKeyMismatch);
        }
        Ok(signer)
    }

    /// A new random key from the operating system's generator.
    pub fn generate(account_id: AccountId) -> Result<Self, KeyError> {
        let mut seed = Zeroizing::new([0u8; 32]);
        getrandom::fill(seed.as_mut()).map_err(|e| KeyError::Random {
            message: e.to_string(),
        })?;
        Ok(Self {
            account_id,
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// `ed25519:<base58>`, as access keys are named on chain.
    pub fn public_key(&self) -> String {
        self.public_key_bytes().to_string()
    }

    pub fn public_key_bytes(&self) -> PublicKey {
        PublicKey(self.key.verifying_key().to_bytes())
    }

    /// `ed25519:<base58 of seed ‖ public key>`, the form near-cli writes.
    pub fn secret_key(&self) -> Zeroizing<String> {
        let pair = Zeroizing::new(self.key.to_keypair_bytes());
        let encoded = Zeroizing::new(bs58::encode(pair.as_ref()).into_string());
        Zeroizing::new(format!("ed25519:{}", encoded.as_str()))
    }

    /// near-cli's credentials JSON for this key (contains the secret).
    pub fn to_credentials_json(&self) -> Zeroizing<String> {
        let json = Scrubbed(json!({
            "account_id": self.account_id,
            "public_key": self.public_key(),
            "private_key": self.secret_key().as_str(),
        }));
        Zeroizing::new(serde_json::to_string_pretty(&json.0).expect("a JSON object serialises"))
    }

    /// Writes [`Self::to_credentials_json`] to a new file readable only by
    /// its owner (mode 0600 on Unix); refuses to overwrite.
    pub fn write_credentials_file(&self, path: impl AsRef<Path>) -> Result<(), KeyError> {
        use std::io::Write as _;
        let path = path.as_ref();
        let io = |e: std::io::Error| KeyError::Io {
            path: path.to_owned(),
            message: e.to_string(),
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(path).map_err(io)?;
        file.write_all(self.to_credentials_json().as_bytes())
            .and_then(|()| file.write_all(b"\n"))
            .map_err(io)
    }

    /// The ED25519 signature of `message` (for transactions, their hash).
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.key.sign(message).to_bytes())
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("account_id", &self.account_id)
            .field("public_key", &self.public_key())
            .finish_non_exhaustive()
    }
}

/// A credentials JSON value whose secret strings are zeroized on drop.
struct Scrubbed(Value);

impl Drop for Scrubbed {
    fn drop(&mut self) {
        for name in ["private_key", "secret_key"] {
            if let Some(Value::String(secret)) = self.0.get_mut(name) {
                zeroize::Zeroize::zeroize(secret);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "ed25519:3hoMW1HvnRLSFCLZnvPzWeoGwtdHzke34B2cTHM8rhcbG3TbuLKtShTv3DvyejnXKXKBiV7YPkLeqUHN1ghnqpFv";
    /// The first 32 bytes of SECRET.
    const SEED: &str = "ed25519:A6qKia1XuFzETgSqNnWApMFALsvStyqzLtCoiJrCrNHV";
    const PUBLIC: &str = "ed25519:Anu7LYDfpLtkP7E16LT9imXF694BdQaa9ufVkQiwTQxC";

    fn id(s: &str) -> AccountId {
        s.parse().unwrap()
    }

    #[test]
    fn secret_key_strings() {
        let signer = Signer::from_secret_key(id("test.near"), SECRET).unwrap();
        assert_eq!(signer.public_key(), PUBLIC);
        assert_eq!(signer.secret_key().as_str(), SECRET);
        let from_seed = Signer::from_secret_key(id("test.near"), SEED).unwrap();
        assert_eq!(from_seed.public_key(), PUBLIC);
        assert_eq!(from_seed.secret_key().as_str(), SECRET);
        let bare = Signer::from_secret_key(id("test.near"), &SECRET[8..]).unwrap();
        assert_eq!(bare.public_key(), PUBLIC);
        assert_eq!(bare.sign(b"m"), signer.sign(b"m"));
    }

    #[test]
    fn bad_secret_keys_have_typed_errors_without_the_secret() {
        let err = |s: &str| Signer::from_secret_key(id("a.near"), s).unwrap_err();
        assert!(
            matches!(err("secp256k1:abc"), KeyError::UnsupportedCurve { curve } if curve == "secp256k1")
        );
        assert!(matches!(
            err("ed25519:0OIl"),
            KeyError::Base58 { what: "secret key" }
        ));
        assert!(matches!(
            err("ed25519:abc"),
            KeyError::Length {
                expected: 64,
                actual: 3,
                ..
            }
        ));
        // The public half of another key.
        let mut pair = bs58::decode(&SECRET[8..]).into_vec().unwrap();
        pair[40] ^= 1;
        let tampered = format!("ed25519:{}", bs58::encode(&pair).into_string());
        let e = err(&tampered);
        assert!(matches!(e, KeyError::PublicKeyMismatch), "{e:?}");
        for e in [e, err("ed25519:0OIl"), err(&SECRET[..40])] {
            let text = format!("{e} {e:?}");
            assert!(!text.contains(&SECRET[8..20]), "{text}");
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let signer = Signer::from_secret_key(id("test.near"), SECRET).unwrap();
        let debug = format!("{signer:?} {signer:#?}");
        assert_eq!(
            format!("{signer:?}"),
            format!(
                "Signer {{ account_id: AccountId(\"test.near\"), public_key: \"{PUBLIC}\", .. }}"
            )
        );
        assert!(!debug.contains(&SECRET[8..20]));
        assert!(!debug.contains(&SEED[8..20]));
    }

    #[test]
    fn credentials_files() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let cli = write(
            "cli.json",
            &format!(
                r#"{{"account_id":"test.near","public_key":"{PUBLIC}","private_key":"{SECRET}"}}"#
            ),
        );
        let signer = Signer::from_credentials_file(&cli).unwrap();
        assert_eq!(signer.account_id, id("test.near"));
        assert_eq!(signer.public_key(), PUBLIC);

        let secret_key = write(
            "secret.json",
            &format!(r#"{{"account_id":"test.near","secret_key":"{SEED}"}}"#),
        );
        assert_eq!(
            Signer::from_credentials_file(&secret_key)
                .unwrap()
                .public_key(),
            PUBLIC
        );

        let other = Signer::generate(id("test.near")).unwrap().public_key();
        let mismatch = write(
            "mismatch.json",
            &format!(
                r#"{{"account_id":"test.near","public_key":"{other}","private_key":"{SECRET}"}}"#
            ),
        );
        assert!(matches!(
            Signer::from_credentials_file(&mismatch),
            Err(KeyError::PublicKeyMismatch)
        ));

        let no_key = write("nokey.json", r#"{"account_id":"test.near"}"#);
        match Signer::from_credentials_file(&no_key) {
            Err(e @ KeyError::Credentials { .. }) => assert_eq!(
                e.to_string(),
                format!(
                    r#"invalid credentials in {}: no "private_key" or "secret_key""#,
                    no_key.display()
                )
            ),
            other => panic!("{other:?}"),
        }
        let bad_account = write(
            "account.json",
            &format!(r#"{{"account_id":"Not Valid","private_key":"{SECRET}"}}"#),
        );
        assert!(matches!(
            Signer::from_credentials_file(&bad_account),
            Err(KeyError::AccountId { account_id, .. }) if account_id == "Not Valid"
        ));
        let not_json = write("broken.json", &format!("{{\"private_key\": \"{SECRET}\""));
        match Signer::from_credentials_file(&not_json) {
            Err(e @ KeyError::Credentials { .. }) => {
                assert!(!format!("{e} {e:?}").contains(&SECRET[8..20]));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            Signer::from_credentials_file(dir.path().join("missing.json")),
            Err(KeyError::Io { .. })
        ));
    }

    #[test]
    fn generated_keys_round_trip_through_credentials() {
        let a = Signer::generate(id("worker.near")).unwrap();
        let b = Signer::generate(id("worker.near")).unwrap();
        assert_ne!(a.public_key(), b.public_key());

        let json: Value = serde_json::from_str(&a.to_credentials_json()).unwrap();
        assert_eq!(json["account_id"], "worker.near");
        assert_eq!(json["public_key"], a.public_key().as_str());
        assert_eq!(json["private_key"], a.secret_key().as_str());
        let back = Signer::from_credentials_json(&a.to_credentials_json()).unwrap();
        assert_eq!(
            Signer::from_credentials_json("{}").unwrap_err().to_string(),
            r#"invalid credentials: no "account_id""#
        );
        assert_eq!(back.public_key(), a.public_key());
        assert_eq!(back.sign(b"x"), a.sign(b"x"));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("worker.near.json");
        a.write_credentials_file(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(
            Signer::from_credentials_file(&path).unwrap().public_key(),
            a.public_key()
        );
        assert!(matches!(
            b.write_credentials_file(&path),
            Err(KeyError::Io { .. })
        ));
    }
}
