//! Test support: a throwaway PostgreSQL cluster and Redis server per test
//! binary (started on first use, stopped when the binary exits), a fresh
//! database per test, and a coordinator harness on a real port.
//!
//! Missing PostgreSQL or Redis binaries fail the tests loudly: CI installs
//! them through `scripts/setup`.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use outlayer_coordinator::{Config, Running, spawn, tokens};
use outlayer_coordinator_client::CoordinatorClient;
use outlayer_types::{
    AccountId, BuildTarget, CodeSource, ExecutionContext, ExecutionRequest, ResourceLimits,
    ResponseFormat, U128,
};
use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    PostgresRedis,
}

/// Runs one scenario on both backends.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::common::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres_redis() {
                    super::$name($crate::common::Backend::PostgresRedis).await
                }
            }
        )*
    };
}

/// A background server whose lifetime is tied to this test process: its
/// wrapper shell waits for our end of a pipe to close (which happens however
/// the process exits) and then stops the server.
pub(crate) struct Server {
    pub port: u16,
    pub dir: PathBuf,
    guard: Mutex<Option<(Child, ChildStdin)>>,
}

impl Server {
    /// Stops the server now (for tests that need a dependency to go away).
    pub(crate) fn stop(&self) {
        if let Some((mut child, stdin)) = self.guard.lock().unwrap().take() {
            drop(stdin);
            let _ = child.wait();
        }
    }
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs `program args` under the watchdog shell, as `nobody` when we are root
/// (PostgreSQL refuses to run as root).
fn start_guarded(
    program: &Path,
    args: &[String],
    unprivileged: bool,
    scratch: &Path,
) -> (Child, ChildStdin) {
    let log = scratch.join("server.log");
    // After the server stops, its scratch directory goes too.
    let script = r#"prog="$1"; shift; "$prog" "$@" </dev/null >>"$LOGFILE" 2>&1 & pid=$!; cat >/dev/null; kill -INT $pid 2>/dev/null; wait $pid; rm -rf "$SCRATCH""#;
    let mut command = if unprivileged && is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "nobody", "--", "sh", "-c", script, "sh"]);
        c
    } else {
        let mut c = Command::new("sh");
        c.args(["-c", script, "sh"]);
        c
    };
    command
        .arg(program)
        .args(args)
        .env("LOGFILE", &log)
        .env("SCRATCH", scratch);
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
    let stdin = child.stdin.take().unwrap();
    (child, stdin)
}

fn wait_for_port(port: u16, what: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = std::fs::read_to_string(log).unwrap_or_default();
    panic!("{what} did not start listening on {port} within 60 s; log:\n{log}");
}

fn temp_dir_for_nobody(prefix: &str) -> PathBuf {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .unwrap()
        .keep();
    if is_root() {
        let status = Command::new("chown")
            .args(["-R", "nobody", dir.to_str().unwrap()])
            .status()
            .unwrap();
        assert!(status.success(), "chown {} failed", dir.display());
    }
    dir
}

fn postgres_bin(name: &str) -> PathBuf {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dirs| {
            dirs.filter_map(|d| d.ok())
                .map(|d| d.path().join("bin").join(name))
                .filter(|p| p.exists())
                .collect()
        })
        .unwrap_or_default();
    candidates.sort();
    candidates.pop().unwrap_or_else(|| {
        panic!("PostgreSQL's {name} not found under /usr/lib/postgresql/*/bin: run scripts/setup (apt-get install postgresql)")
    })
}

/// This process's PostgreSQL cluster (fsync off: it is thrown away).
pub(crate) fn postgres() -> &'static Server {
    static PG: OnceLock<Server> = OnceLock::new();
    PG.get_or_init(|| {
        let dir = temp_dir_for_nobody("outlayer-pg-");
        let data = dir.join("data");
        let log = dir.join("server.log");
        let mut initdb = Command::new(if is_root() { "runuser" } else { "env" });
        if is_root() {
            initdb.args(["-u", "nobody", "--"]);
        }
        let output = initdb
            .arg(postgres_bin("initdb"))
            .args([
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "--no-sync",
                "-E",
                "UTF8",
            ])
            .output()
            .expect("run initdb");
        assert!(
            output.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let port = free_port();
        let args: Vec<String> = [
            "-D",
            data.to_str().unwrap(),
            "-p",
            &port.to_string(),
            "-k",
            dir.to_str().unwrap(),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=400",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let guard = start_guarded(&postgres_bin("postgres"), &args, true, &dir);
        wait_for_port(port, "postgres", &log);
        Server {
            port,
            dir,
            guard: Mutex::new(Some(guard)),
        }
    })
}

/// A Redis server of our own (not shared), on a free port.
pub(crate) fn start_redis() -> Server {
    start_redis_on(free_port())
}

/// A Redis server of our own on this port (to restart one in place).
pub(crate) fn start_redis_on(port: u16) -> Server {
    let dir = tempfile::Builder::new()
        .prefix("outlayer-redis-")
        .tempdir()
        .unwrap()
        .keep();
    let log = dir.join("server.log");
    let program = which("redis-server").unwrap_or_else(|| {
        panic!("redis-server not found on PATH: run scripts/setup (apt-get install redis-server)")
    });
    let args: Vec<String> = [
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        dir.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let guard = start_guarded(&program, &args, false, &dir);
    wait_for_port(port, "redis-server", &log);
    Server {
        port,
        dir,
        guard: Mutex::new(Some(guard)),
    }
}

/// This process's shared Redis server.
pub(crate) fn redis() -> &'static Server {
    static REDIS: OnceLock<Server> = OnceLock::new();
    REDIS.get_or_init(start_redis)
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(program))
            .find(|p| p.exists())
    })
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A new, empty PostgreSQL database.
pub(crate) async fn fresh_database() -> String {
    use sqlx::Connection;
    let pg = postgres();
    let admin = format!("postgres://postgres@127.0.0.1:{}/postgres", pg.port);
    let name = unique("t");
    sqlx::any::install_default_drivers();
    // The port opens before the server accepts sessions ("starting up"):
    // retry for a bounded time.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let attempt = async {
            let mut conn = sqlx::AnyConnection::connect(&admin).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await?;
            conn.close().await
        };
        match attempt.await {
            Ok(()) => break,
            Err(e) if Instant::now() < deadline => {
                eprintln!("test database not ready yet: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("cannot create a test database: {e}"),
        }
    }
    format!("postgres://postgres@127.0.0.1:{}/{name}", pg.port)
}

/// A coordinator on a real port, with a worker token and a client.
pub(crate) struct Harness {
    pub backend: Backend,
    pub config: Config,
    pub running: Option<Running>,
    pub token: String,
    pub client: CoordinatorClient,
    pub anon: CoordinatorClient,
    _dir: tempfile::TempDir,
}

impl Harness {
    /// Starts a coordinator; rate limits are off unless `tweak` sets them.
    pub(crate) async fn start(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::local(dir.path().to_path_buf());
        config.anon_rps = 0.0;
        config.keyed_rps = 0.0;
        if backend == Backend::PostgresRedis {
            config.database_url = Some(fresh_database().await);
            config.redis_url = Some(format!("redis://127.0.0.1:{}/", redis().port));
            config.redis_prefix = unique("q");
        }
        tweak(&mut config);
        let running = spawn(config.clone()).await.expect("coordinator starts");
        let token = tokens::create(&running.coordinator.store, "test-worker")
            .await
            .unwrap();
        let client = CoordinatorClient::new(&running.url(), Some(token.clone()));
        let anon = CoordinatorClient::new(&running.url(), None);
        // Restarts reuse the port, so clients keep working across them.
        config.listen = running.addr;
        Self {
            backend,
            config,
            running: Some(running),
            token,
            client,
            anon,
            _dir: dir,
        }
    }

    pub(crate) fn coordinator(&self) -> &outlayer_coordinator::Coordinator {
        &self.running.as_ref().unwrap().coordinator
    }

    pub(crate) fn url(&self) -> String {
        self.running.as_ref().unwrap().url()
    }

    /// A client with another token.
    pub(crate) async fn client_named(&self, name: &str) -> CoordinatorClient {
        let token = tokens::create(&self.coordinator().store, name)
            .await
            .unwrap();
        CoordinatorClient::new(&self.url(), Some(token))
    }

    /// Stops the coordinator and starts it again on the same store and port.
    pub(crate) async fn restart(&mut self) {
        self.running.take().unwrap().stop().await;
        self.running = Some(
            spawn(self.config.clone())
                .await
                .expect("coordinator restarts"),
        );
    }

    pub(crate) async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
    }
}

pub(crate) fn account(id: &str) -> AccountId {
    id.parse().unwrap()
}

/// A request for a program built from a repository (compile, then execute).
pub(crate) fn github_request(request_id: u64, commit: &str) -> ExecutionRequest {
    request(
        request_id,
        CodeSource::GitHub {
            repo: "github.com/outlayer/example".into(),
            commit: commit.into(),
            build_target: BuildTarget::Wasip1,
        },
    )
}

/// A request for a prebuilt binary (execute only).
pub(crate) fn wasm_request(request_id: u64) -> ExecutionRequest {
    request(
        request_id,
        CodeSource::WasmUrl {
            url: "https://example.org/p.wasm".into(),
            hash: "ab".repeat(32),
            build_target: BuildTarget::Wasip1,
        },
    )
}

fn request(request_id: u64, code_source: CodeSource) -> ExecutionRequest {
    ExecutionRequest {
        context: ExecutionContext {
            request_id,
            sender_id: account("alice.near"),
            predecessor_id: account("alice.near"),
            contract_id: account("outlayer.near"),
            block_height: 100,
            block_timestamp: 1,
            transaction_hash: None,
            random_seed: [7; 32],
        },
        code_source,
        resource_limits: ResourceLimits::default(),
        input_data: Some("{}".into()),
        input_in_state: false,
        secrets_ref: None,
        response_format: ResponseFormat::Text,
        payment: U128(1_000),
        payer_account_id: account("alice.near"),
        max_compile_seconds: None,
    }
}

/// Waits for `check` to hold, polling; panics with `what` after `limit`.
pub(crate) async fn eventually<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    loop {
        if check().await {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The timeout for one test request.
pub(crate) const T: Duration = Duration::from_secs(10);

/// One raw HTTP request: status, headers and the body as JSON (`Null` when
/// it is not JSON), for the tests that need to see exactly what was sent.
pub(crate) async fn send(
    url: &str,
    method: Method,
    bearer: Option<&str>,
    body: Option<&str>,
    mut headers: HeaderMap,
) -> (StatusCode, HeaderMap, Value) {
    // A body is JSON unless the test says otherwise.
    if body.is_some() && !headers.contains_key(header::CONTENT_TYPE) {
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    let mut request = reqwest::Client::new()
        .request(method, url)
        .headers(headers)
        .timeout(T);
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.body(body.to_owned());
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let body = response.bytes().await.unwrap();
    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (status, headers, value)
}
