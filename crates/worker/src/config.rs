//! Every worker setting, defined once as flags with environment fallbacks.
//! `outlayer worker` parses them from its command line; `outlayer dev`
//! parses the same struct from the few values it decides, so the defaults
//! below are the only copy.

use std::path::PathBuf;

use outlayer_types::AccountId;

#[derive(Clone, Debug, clap::Args)]
pub struct WorkerArgs {
    /// The coordinator's base URL.
    #[arg(long, env = "COORDINATOR_URL", default_value = "http://127.0.0.1:8080")]
    pub coordinator_url: String,
    /// Bearer token for the coordinator (`outlayer coordinator token create`).
    #[arg(long, env = "WORKER_TOKEN", hide_env_values = true)]
    pub coordinator_token: Option<String>,
    /// The keystore's base URL (private network). Unset: requests that name
    /// secrets fail with an infrastructure error.
    #[arg(long, env = "KEYSTORE_URL")]
    pub keystore_url: Option<String>,
    /// Bearer token for the keystore.
    #[arg(long, env = "KEYSTORE_TOKEN", hide_env_values = true)]
    pub keystore_token: Option<String>,
    /// NEAR JSON-RPC endpoint (production: your own node or a keyed provider).
    #[arg(long, env = "NEAR_RPC_URL", default_value = "http://127.0.0.1:3030")]
    pub near_rpc_url: String,
    /// Block stream base URL (`/v0/block/{height}`); default: the RPC URL,
    /// as the local chain serves both (testnet: https://testnet.neardata.xyz).
    #[arg(long, env = "NEAR_BLOCK_STREAM_URL")]
    pub block_stream_url: Option<String>,
    /// The OutLayer contract.
    #[arg(
        long,
        env = "OUTLAYER_CONTRACT_ID",
        default_value = "outlayer.test.near"
    )]
    pub contract_id: AccountId,
    /// The operator's key, as a near-cli credentials file; it signs
    /// `resolve_execution`.
    #[arg(long, env = "OPERATOR_CREDENTIALS")]
    pub operator_credentials: PathBuf,
    /// This worker's name at the coordinator (default: host name and process id).
    #[arg(long, env = "WORKER_ID")]
    pub worker_id: Option<String>,
    /// Jobs this worker handles at once. Most of a job's time is waiting
    /// (for the chain, the coordinator); the runtime bounds concurrent
    /// executions by cores and `--max-builds` bounds builds.
    #[arg(long, env = "WORKER_JOBS", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub jobs: u32,
    /// Do not follow the chain; only handle jobs (run the monitor in one or
    /// more workers; any number may run it).
    #[arg(long, env = "WORKER_NO_MONITOR")]
    pub no_monitor: bool,
    /// The monitor's cursor name at the coordinator.
    #[arg(long, env = "WORKER_MONITOR_NAME", default_value = "main")]
    pub monitor_name: String,
    /// Where a monitor without a cursor starts (default: the latest final block).
    #[arg(long, env = "WORKER_MONITOR_START_HEIGHT")]
    pub monitor_start_height: Option<u64>,
    /// Longest single long poll at the coordinator (ms).
    #[arg(long, env = "WORKER_POLL_MS", default_value_t = 20_000)]
    pub poll_ms: u64,
    /// The coordinator's attempts per job: on the last one, a failure that is
    /// the platform's fault is settled on chain instead of left for a retry.
    #[arg(long, env = "WORKER_MAX_ATTEMPTS", default_value_t = 3)]
    pub max_attempts: u32,
    /// The JavaScript engine (`scripts/build-js-engine`). Default:
    /// `$OUTLAYER_JS_ENGINE`, beside this executable, or the build's output.
    /// Without one this worker leaves JavaScript requests to other workers
    /// (they fail over as infrastructure errors).
    #[arg(long, env = "WORKER_JS_ENGINE", value_name = "WASM")]
    pub js_engine: Option<PathBuf>,
    /// NEAR reads (view calls, accounts) this worker's programs may make
    /// per second, all together, at its RPC endpoint (a token bucket; 5 is
    /// an anonymous public endpoint's allowance, keyed providers allow
    /// about 20). 0 turns reads off.
    #[arg(long, env = "WORKER_NEAR_READS_PER_SECOND", default_value_t = 5)]
    pub near_reads_per_second: u32,
    /// NEAR reads one execution may make (each billed as 5,000,000
    /// instructions).
    #[arg(long, env = "WORKER_NEAR_READS_PER_EXECUTION", default_value_t = outlayer_runtime::NearReads::DEFAULT_MAX_READS)]
    pub near_reads_per_execution: u32,
    #[command(flatten)]
    pub build: BuildArgs,
}

/// How sources are built: shared by `outlayer worker` and `outlayer build`,
/// so a prebuilt program is built exactly as a worker would build it.
#[derive(Clone, Debug, clap::Args)]
pub struct BuildArgs {
    /// Builds run at once (each may use up to 4 cores and the builder's
    /// memory and disk limits).
    #[arg(long, env = "WORKER_MAX_BUILDS", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub max_builds: u32,
    /// Where checkouts and builds happen.
    #[arg(long, env = "WORKER_BUILD_DIR")]
    pub build_dir: Option<PathBuf>,
    /// Cargo registry cache for builds (default: $CARGO_HOME or ~/.cargo).
    #[arg(long, env = "WORKER_CARGO_HOME")]
    pub cargo_home: Option<PathBuf>,
    /// Accept `file://` repositories and plain-http downloads from loopback.
    /// Development only: on a public network a request must not be able to
    /// name the worker's own files.
    #[arg(long, env = "WORKER_DEV_ALLOW_FILE_REPOS")]
    pub dev_allow_file_repos: bool,
}

impl BuildArgs {
    /// The builder these settings describe.
    pub fn builder(&self) -> Result<outlayer_builder::Builder, outlayer_builder::BuildError> {
        let mut build = outlayer_builder::BuildSettings {
            allow_file_repos: self.dev_allow_file_repos,
            ..outlayer_builder::BuildSettings::default()
        };
        if let Some(dir) = &self.build_dir {
            build.work_dir = dir.clone();
        }
        if let Some(home) = &self.cargo_home {
            build.cargo_home = home.clone();
        }
        outlayer_builder::Builder::new(build)
    }
}

impl WorkerArgs {
    /// Parses settings from `flags` (as on the command line) on top of the
    /// defaults and the environment.
    pub fn from_flags<I, T>(flags: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        #[derive(clap::Parser)]
        struct Parse {
            #[command(flatten)]
            args: WorkerArgs,
        }
        let argv = std::iter::once(std::ffi::OsString::from("worker"))
            .chain(flags.into_iter().map(Into::into));
        <Parse as clap::Parser>::try_parse_from(argv).map(|p| p.args)
    }

    pub fn block_stream_url(&self) -> &str {
        self.block_stream_url
            .as_deref()
            .unwrap_or(&self.near_rpc_url)
    }

    pub fn worker_id(&self) -> String {
        self.worker_id.clone().unwrap_or_else(|| {
            let host = std::fs::read_to_string("/etc/hostname")
                .map(|h| h.trim().to_owned())
                .ok()
                .filter(|h| !h.is_empty())
                .unwrap_or_else(|| "worker".into());
            format!("{host}-{}", std::process::id())
        })
    }
}
