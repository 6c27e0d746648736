//! `outlayer keystore`'s settings: one clap struct, flags with environment
//! fallbacks, parsed once by the CLI and turned into [`KeystoreSettings`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use outlayer_types::AccountId;
use zeroize::Zeroizing;

use crate::{
    Attestations, BearerTokens, CheckLimits, Error, KeystoreSettings, MasterSecret, Result,
};

#[derive(Debug, Clone, clap::Args)]
pub struct KeystoreArgs {
    /// Address to listen on. Keep it private: only workers and the
    /// coordinator may reach the keystore.
    #[arg(long, env = "KEYSTORE_LISTEN", default_value = "127.0.0.1:8081")]
    pub listen: SocketAddr,

    /// File holding the 32-byte master secret (64 hex digits or raw bytes).
    /// Alternatively set KEYSTORE_MASTER_SECRET (64 hex digits).
    #[arg(long, env = "KEYSTORE_MASTER_FILE")]
    pub master_file: Option<PathBuf>,

    /// The master secret itself, 64 hex digits; from the environment only
    /// (a command-line value would show in the process list).
    #[arg(
        long = "master-secret",
        env = "KEYSTORE_MASTER_SECRET",
        hide = true,
        hide_env_values = true
    )]
    master_secret: Option<HiddenString>,

    /// Use the fixed, publicly known development master secret. Anyone can
    /// decrypt what it protects: local development and tests only.
    #[arg(long, env = "KEYSTORE_DEV_MASTER")]
    pub dev_master: bool,

    /// NEAR JSON-RPC endpoint access conditions are checked against.
    #[arg(long, env = "NEAR_RPC_URL", default_value = "http://127.0.0.1:3030")]
    pub near_rpc_url: String,

    /// The OutLayer contract whose `get_secrets` view holds the secrets.
    #[arg(
        long,
        env = "OUTLAYER_CONTRACT_ID",
        default_value = "outlayer.test.near"
    )]
    pub contract_id: AccountId,

    /// Accepted bearer tokens, as hex SHA-256 hashes, comma-separated
    /// (`echo -n TOKEN | outlayer keystore --hash-token` prints one). None: every
    /// authenticated request is refused.
    #[arg(long, env = "KEYSTORE_AUTH_TOKEN_HASHES", value_delimiter = ',')]
    pub auth_token_hashes: Vec<String>,

    /// Accept decrypt requests with attestation type "none". Development only.
    #[arg(long, env = "KEYSTORE_ACCEPT_ATTESTATION_NONE")]
    pub accept_attestation_none: bool,

    /// Chain reads one access check may make.
    #[arg(long, env = "KEYSTORE_MAX_CHAIN_READS", default_value_t = 16)]
    pub max_chain_reads: u32,

    /// Time budget for one access check, all its chain reads included (ms).
    #[arg(long, env = "KEYSTORE_CHECK_TIMEOUT_MS", default_value_t = 10_000)]
    pub check_timeout_ms: u64,
}

/// A string that is wiped on drop and never shown by `Debug`.
#[derive(Clone)]
struct HiddenString(Zeroizing<String>);

impl std::str::FromStr for HiddenString {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Ok(Self(Zeroizing::new(s.to_owned())))
    }
}

impl std::fmt::Debug for HiddenString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl KeystoreArgs {
    /// Resolves the master secret (exactly one source) and the other
    /// settings. Consumes the arguments so the secret's text is dropped
    /// (and wiped) here.
    pub fn into_settings(self) -> Result<KeystoreSettings> {
        let master = match (&self.master_file, &self.master_secret, self.dev_master) {
            (Some(path), None, false) => MasterSecret::from_file(path)?,
            (None, Some(text), false) => MasterSecret::from_hex(&text.0)?,
            (None, None, true) => {
                tracing::warn!("using the public development master secret: never in production");
                MasterSecret::development()
            }
            (None, None, false) => {
                return Err(Error::Config(
                    "no master secret: set KEYSTORE_MASTER_SECRET, pass --master-file, or --dev-master for local development".into(),
                ));
            }
            _ => {
                return Err(Error::Config(
                    "give exactly one of KEYSTORE_MASTER_SECRET, --master-file and --dev-master"
                        .into(),
                ));
            }
        };
        let tokens = BearerTokens::from_hashes(&self.auth_token_hashes)?;
        if tokens.is_empty() {
            tracing::warn!(
                "no auth token hashes configured: /pubkey and /decrypt refuse every request"
            );
        }
        let mut attestations = Attestations::new();
        if self.accept_attestation_none {
            tracing::warn!("accepting attestation type none: development only");
            attestations = attestations.accept_none();
        }
        Ok(KeystoreSettings {
            master,
            near_rpc_url: self.near_rpc_url,
            contract_id: self.contract_id,
            tokens,
            attestations,
            limits: CheckLimits {
                max_reads: self.max_chain_reads,
                deadline: Duration::from_millis(self.check_timeout_ms),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: KeystoreArgs,
    }

    fn settings(argv: &[&str]) -> Result<KeystoreSettings> {
        Cli::try_parse_from(std::iter::once("keystore").chain(argv.iter().copied()))
            .expect("arguments parse")
            .args
            .into_settings()
    }

    #[test]
    fn exactly_one_master_source() {
        let err = settings(&[]).unwrap_err().to_string();
        assert!(err.contains("no master secret"), "{err}");
        let hex_master = "ab".repeat(32);
        let ok = settings(&[
            "--master-secret",
            &hex_master,
            "--auth-token-hashes",
            &crate::hash_token("t"),
        ])
        .unwrap();
        assert!(!ok.tokens.is_empty());
        let err = settings(&["--master-secret", &hex_master, "--dev-master"]).unwrap_err();
        assert!(err.to_string().contains("exactly one"), "{err}");
        let dev = settings(&["--dev-master"]).unwrap();
        assert!(dev.tokens.is_empty());
        let err = settings(&["--master-file", "/nonexistent/master"]).unwrap_err();
        assert!(
            err.to_string().contains("cannot read master secret file"),
            "{err}"
        );
    }

    #[test]
    fn the_master_secret_never_shows() {
        let hex_master = "cd".repeat(32);
        let cli = Cli::try_parse_from(["keystore", "--master-secret", &hex_master]).unwrap();
        let shown = format!("{:?}", cli.args);
        assert!(!shown.contains(&hex_master), "{shown}");
        let settings = cli.args.into_settings().unwrap();
        assert!(!format!("{settings:?}").contains(&hex_master));
        let err = settings_error_for("zz-not-hex");
        assert!(!err.contains("zz-not-hex"), "{err}");
    }

    fn settings_error_for(master: &str) -> String {
        settings(&["--master-secret", master])
            .unwrap_err()
            .to_string()
    }
}
