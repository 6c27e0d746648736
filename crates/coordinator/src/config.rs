//! Every coordinator setting, parsed once (flags or environment) and passed
//! down. Defaults suit one machine; the doc line of each says what to use in
//! production.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use outlayer_types::MaxLimits;

#[derive(Clone, Debug, clap::Args)]
pub struct Config {
    /// Address to listen on (production: behind a TLS-terminating proxy).
    #[arg(long, env = "COORDINATOR_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// PostgreSQL URL (production). Unset: a SQLite file under the data directory.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Where the SQLite database and the artifact cache live.
    #[arg(
        long,
        env = "COORDINATOR_DATA_DIR",
        default_value = "./data/coordinator"
    )]
    pub data_dir: PathBuf,
    /// Redis URL for queue wake-ups (production). Unset: an in-process queue.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,
    /// Prefix of the Redis keys, so several deployments can share one Redis.
    #[arg(long, env = "REDIS_PREFIX", default_value = "outlayer")]
    pub redis_prefix: String,
    /// Keystore base URL (internal network only); `/secrets/pubkey` proxies to it.
    #[arg(long, env = "KEYSTORE_URL")]
    pub keystore_url: Option<String>,
    /// Bearer token the coordinator presents to the keystore.
    #[arg(long, env = "KEYSTORE_TOKEN", hide_env_values = true)]
    pub keystore_token: Option<String>,
    /// Turn worker authentication off. Only for `outlayer dev` on one machine.
    #[arg(long, env = "COORDINATOR_INSECURE_NO_AUTH")]
    pub insecure_no_auth: bool,
    /// How long a claim holds a job before it is handed out again, unless extended.
    #[arg(long, env = "COORDINATOR_LEASE_MS", default_value_t = 120_000)]
    pub lease_ms: u64,
    /// Claims of one job before it fails with an infrastructure error.
    #[arg(long, env = "COORDINATOR_MAX_ATTEMPTS", default_value_t = 3)]
    pub max_attempts: u32,
    /// Upper bound on a long poll.
    #[arg(long, env = "COORDINATOR_MAX_POLL_MS", default_value_t = 30_000)]
    pub max_poll_ms: u64,
    /// How often expired leases are reaped and lost wake-ups re-sent.
    #[arg(long, env = "COORDINATOR_RECONCILE_MS", default_value_t = 2_000)]
    pub reconcile_ms: u64,
    /// A pending job not claimed for this long is enqueued again.
    #[arg(long, env = "COORDINATOR_REQUEUE_MS", default_value_t = 10_000)]
    pub requeue_ms: u64,
    /// Total bytes of cached artifacts; least recently used are evicted beyond it.
    #[arg(long, env = "COORDINATOR_ARTIFACT_CACHE_BYTES", default_value_t = 2 << 30)]
    pub artifact_cache_bytes: u64,
    /// Largest artifact upload.
    #[arg(long, env = "COORDINATOR_MAX_ARTIFACT_BYTES", default_value_t = 64 << 20)]
    pub max_artifact_bytes: usize,
    /// Largest JSON body.
    #[arg(long, env = "COORDINATOR_MAX_BODY_BYTES", default_value_t = 1 << 20)]
    pub max_body_bytes: usize,
    /// How long a branch or tag resolved by a worker is reused by all
    /// workers (ms). Short: `main` moves, and a new commit must be built.
    #[arg(long, env = "COORDINATOR_PIN_TTL_MS", default_value_t = 30_000)]
    pub pin_ttl_ms: u64,
    /// Requests per second per client address without a token.
    #[arg(long, env = "COORDINATOR_ANON_RPS", default_value_t = 5.0)]
    pub anon_rps: f64,
    /// Burst per client address without a token.
    #[arg(long, env = "COORDINATOR_ANON_BURST", default_value_t = 10.0)]
    pub anon_burst: f64,
    /// Requests per second per worker token. A job costs a worker about
    /// eight calls (claim, heartbeats, complete, the monitor's create and
    /// cursor, ...), so this bounds a worker's jobs per second at about an
    /// eighth of it: a guard against a runaway worker, not a throttle.
    #[arg(long, env = "COORDINATOR_KEYED_RPS", default_value_t = 1000.0)]
    pub keyed_rps: f64,
    /// Burst per worker token.
    #[arg(long, env = "COORDINATOR_KEYED_BURST", default_value_t = 2000.0)]
    pub keyed_burst: f64,
    /// How long a worker token (and a worker id's owner) looked up in the
    /// store is remembered (ms; 0: always ask the store). A token revoked
    /// by `outlayer coordinator token revoke` stops working within this.
    #[arg(long, env = "COORDINATOR_TOKEN_CACHE_MS", default_value_t = 5_000)]
    pub token_cache_ms: u64,
    /// The clock leases, pins, caches and rate limits run on: the system's,
    /// or a manual one in tests (`Clock::manual`).
    #[arg(skip)]
    pub clock: crate::clock::Clock,
    /// The contract's caps (its `get_max_limits`, as JSON): `/executions`
    /// refuses what the contract would refuse. Set it when the contract's
    /// owner changed them.
    #[arg(long, env = "COORDINATOR_CONTRACT_MAX_LIMITS", default_value_t = ContractCaps::default())]
    pub contract_max_limits: ContractCaps,
    /// Proxies whose `X-Forwarded-For` is believed (comma-separated addresses).
    #[arg(long, env = "COORDINATOR_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<IpAddr>,
    /// A worker not seen for this long counts as gone.
    #[arg(long, env = "COORDINATOR_WORKER_TIMEOUT_MS", default_value_t = 60_000)]
    pub worker_timeout_ms: u64,
    /// The event monitor is lagging when its cursor has not moved for this long.
    #[arg(
        long,
        env = "COORDINATOR_MONITOR_MAX_LAG_MS",
        default_value_t = 120_000
    )]
    pub monitor_max_lag_ms: u64,
    /// Serve this built dashboard (`dashboard/dist`) at `/dashboard/`, with
    /// a `config.json` from the flags below (no development accounts).
    #[arg(
        long,
        env = "COORDINATOR_DASHBOARD_DIR",
        requires_all = ["public_url", "dashboard_rpc_url", "dashboard_contract_id"]
    )]
    pub dashboard_dir: Option<PathBuf>,
    /// This coordinator's URL as browsers reach it (e.g. behind its proxy).
    #[arg(long, env = "COORDINATOR_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The NEAR network the dashboard signs on (with a wallet).
    #[arg(long, env = "COORDINATOR_DASHBOARD_NETWORK", default_value = "testnet", value_parser = ["testnet", "mainnet"])]
    pub dashboard_network: String,
    /// The NEAR RPC the dashboard reads the chain from (it must answer CORS).
    #[arg(long, env = "COORDINATOR_DASHBOARD_RPC_URL")]
    pub dashboard_rpc_url: Option<String>,
    /// The OutLayer contract the dashboard shows.
    #[arg(long, env = "COORDINATOR_DASHBOARD_CONTRACT_ID")]
    pub dashboard_contract_id: Option<String>,
}

/// The contract's [`MaxLimits`], read and shown as JSON.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ContractCaps(pub MaxLimits);

impl std::str::FromStr for ContractCaps {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        serde_json::from_str(text)
            .map(Self)
            .map_err(|e| format!("not the contract's max limits (get_max_limits JSON): {e}"))
    }
}

impl std::fmt::Display for ContractCaps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let json = serde_json::to_string(&self.0).map_err(|_| std::fmt::Error)?;
        f.write_str(&json)
    }
}

impl Config {
    /// Settings for tests and `outlayer dev`: the flags' defaults (the only
    /// copy of them), any free loopback port, SQLite under `data_dir`. The
    /// environment is not read, so a `DATABASE_URL` in the shell cannot
    /// point a test at a real database.
    pub fn local(data_dir: PathBuf) -> Self {
        use clap::{Args, FromArgMatches};
        let command =
            Self::augment_args(clap::Command::new("coordinator")).mut_args(|arg| arg.env(None));
        let argv: [std::ffi::OsString; 5] = [
            "coordinator".into(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--data-dir".into(),
            data_dir.into(),
        ];
        let matches = command
            .try_get_matches_from(argv)
            .expect("the coordinator's defaults parse");
        Self::from_arg_matches(&matches).expect("the coordinator's defaults parse")
    }

    /// The store URL: PostgreSQL when given, else SQLite in the data directory.
    pub fn store_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("coordinator.db").display()
            ),
        }
    }

    pub fn artifact_dir(&self) -> PathBuf {
        self.data_dir.join("artifacts")
    }

    pub fn lease(&self) -> Duration {
        Duration::from_millis(self.lease_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_settings_are_the_flag_defaults_on_a_free_port() {
        let config = Config::local("/tmp/c".into());
        assert_eq!(config.listen, SocketAddr::from(([127, 0, 0, 1], 0)));
        assert_eq!(config.data_dir, PathBuf::from("/tmp/c"));
        assert_eq!(config.database_url, None);
        assert_eq!(config.redis_url, None);
        assert!(!config.insecure_no_auth);
        assert_eq!(config.lease_ms, 120_000);
        assert_eq!(config.max_attempts, 3);
        assert_eq!(config.contract_max_limits.0, MaxLimits::default());
        let caps: ContractCaps = config.contract_max_limits.to_string().parse().unwrap();
        assert_eq!(caps, config.contract_max_limits);
        assert!("{}".parse::<ContractCaps>().is_err());
    }
}
