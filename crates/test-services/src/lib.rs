//! Throwaway PostgreSQL and Redis servers for tests: one PostgreSQL cluster
//! and one shared Redis per test binary (started on first use, stopped when
//! the binary exits, however it exits), fresh databases, and private Redis
//! servers for tests that stop one.
//!
//! Missing PostgreSQL or Redis binaries fail the tests loudly: CI installs
//! them through `scripts/setup`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A background server whose lifetime is tied to this test process: its
/// wrapper shell waits for our end of a pipe to close (which happens however
/// the process exits) and then stops the server.
pub struct Server {
    pub port: u16,
    pub dir: PathBuf,
    guard: Mutex<Option<(Child, ChildStdin)>>,
}

impl Server {
    /// Stops the server now (for tests that need a dependency to go away).
    pub fn stop(&self) {
        if let Some((mut child, stdin)) = self.guard.lock().unwrap().take() {
            drop(stdin);
            let _ = child.wait();
        }
    }
}

pub fn free_port() -> u16 {
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
pub fn postgres() -> &'static Server {
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
pub fn start_redis() -> Server {
    start_redis_on(free_port())
}

/// A Redis server of our own on this port (to restart one in place).
pub fn start_redis_on(port: u16) -> Server {
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
pub fn redis() -> &'static Server {
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

/// A name no other caller in this process gets (databases, key prefixes).
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A new, empty PostgreSQL database on this process's cluster; its URL.
pub fn fresh_database() -> String {
    let pg = postgres();
    let name = unique("t");
    // The port opens before the server accepts sessions ("starting up"):
    // retry for a bounded time.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let output = Command::new(postgres_bin("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &pg.port.to_string(),
                "-U",
                "postgres",
            ])
            .args(["-d", "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c"])
            .arg(format!("CREATE DATABASE {name}"))
            .output()
            .expect("run psql");
        if output.status.success() {
            break;
        }
        let error = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(
            Instant::now() < deadline,
            "cannot create a test database: {error}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    format!("postgres://postgres@127.0.0.1:{}/{name}", pg.port)
}
