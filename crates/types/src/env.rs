//! The guest environment's reserved names. The runtime sets these for every
//! execution; secrets may not override them, and the keystore refuses them
//! before a secret is even encrypted.

/// Fixed for determinism in every execution.
pub const FIXED_ENV: [(&str, &str); 2] = [("TZ", "UTC"), ("LANG", "C")];

/// Set from the request's context and limits.
pub const CONTEXT_ENV_NAMES: [&str; 11] = [
    "NEAR_REQUEST_ID",
    "NEAR_SENDER_ID",
    "NEAR_PREDECESSOR_ID",
    "NEAR_CONTRACT_ID",
    "NEAR_BLOCK_HEIGHT",
    "NEAR_BLOCK_TIMESTAMP",
    "NEAR_TRANSACTION_HASH",
    "NEAR_MAX_INSTRUCTIONS",
    "NEAR_MAX_MEMORY_MB",
    "NEAR_MAX_EXECUTION_SECONDS",
    "OUTLAYER_EXECUTION_TYPE",
];

/// Every name under these prefixes is reserved, present or future.
pub const RESERVED_ENV_PREFIXES: [&str; 2] = ["NEAR_", "OUTLAYER_"];

/// Longest secret name accepted.
pub const MAX_SECRET_NAME_LEN: usize = 128;

/// Why a name cannot be used for a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretNameError {
    /// Not `[A-Za-z_][A-Za-z0-9_]*` of at most [`MAX_SECRET_NAME_LEN`] bytes.
    Invalid(String),
    /// Reserved by the runtime (context, limits, fixed environment).
    Reserved(String),
}

impl std::fmt::Display for SecretNameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Invalid(name) => write!(
                f,
                "{name:?} is not a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*, at most {MAX_SECRET_NAME_LEN} bytes)"
            ),
            Self::Reserved(name) => write!(
                f,
                "{name:?} is reserved by the runtime (NEAR_*, OUTLAYER_*, TZ, LANG)"
            ),
        }
    }
}

impl std::error::Error for SecretNameError {}

/// True when the runtime owns this name.
pub fn is_reserved_env_name(name: &str) -> bool {
    RESERVED_ENV_PREFIXES.iter().any(|p| name.starts_with(p))
        || FIXED_ENV.iter().any(|(n, _)| *n == name)
        || CONTEXT_ENV_NAMES.contains(&name)
}

/// Checks that `name` may carry a secret into a program's environment.
pub fn check_secret_name(name: &str) -> Result<(), SecretNameError> {
    let valid = !name.is_empty()
        && name.len() <= MAX_SECRET_NAME_LEN
        && name
            .bytes()
            .enumerate()
            .all(|(i, b)| b == b'_' || b.is_ascii_alphabetic() || (i > 0 && b.is_ascii_digit()));
    if !valid {
        return Err(SecretNameError::Invalid(name.to_owned()));
    }
    if is_reserved_env_name(name) {
        return Err(SecretNameError::Reserved(name.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names() {
        assert_eq!(check_secret_name("API_KEY"), Ok(()));
        assert_eq!(check_secret_name("_x9"), Ok(()));
        for bad in ["", "9A", "A-B", "A B", "Ä", &"A".repeat(129)] {
            assert_eq!(
                check_secret_name(bad),
                Err(SecretNameError::Invalid(bad.into()))
            );
        }
        for reserved in [
            "NEAR_SENDER_ID",
            "NEAR_ANYTHING",
            "OUTLAYER_X",
            "TZ",
            "LANG",
        ] {
            assert_eq!(
                check_secret_name(reserved),
                Err(SecretNameError::Reserved(reserved.into()))
            );
        }
        assert!(
            check_secret_name("near_lower").is_ok(),
            "prefixes are case-sensitive, like env"
        );
    }
}
