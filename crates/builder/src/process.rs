//! Child processes with a deadline: each runs in its own process group, and
//! the whole group is killed at the deadline, when it is dropped (a build
//! future cancelled by the caller), and once its leader has exited (so a
//! background process a build script left behind does not outlive it).

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use rustix::process::{Pid, Signal, kill_process_group};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{Child, Command};
use tokio::time::Instant;

/// How much of a command's output is kept for operators.
pub(crate) const LOG_TAIL_BYTES: usize = 8 * 1024;

/// The time a build may take: the caller's whole budget and when it ends.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline {
    pub(crate) at: Instant,
    pub(crate) limit: Duration,
}

impl Deadline {
    pub(crate) fn after(limit: Duration) -> Self {
        Self {
            at: Instant::now() + limit,
            limit,
        }
    }

    pub(crate) fn timed_out(self, stage: crate::Stage, log: &LogTail) -> crate::BuildError {
        crate::BuildError::Timeout {
            stage,
            limit: self.limit,
            log: log.text(),
        }
    }
}

/// A spawned process group; killed with SIGKILL when dropped.
pub(crate) struct Group {
    child: Child,
    pgid: Option<Pid>,
}

impl Group {
    /// Spawns `command` as the leader of a new process group.
    pub(crate) fn spawn(mut command: Command) -> std::io::Result<Self> {
        command.process_group(0).kill_on_drop(true);
        let child = command.spawn()?;
        let pgid = child.id().and_then(|id| Pid::from_raw(id as i32));
        Ok(Self { child, pgid })
    }

    pub(crate) fn child(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Kills every process still in the group.
    pub(crate) fn kill(&mut self) {
        if let Some(pgid) = self.pgid.take() {
            // ESRCH (nobody left) is the usual, fine answer.
            let _ = kill_process_group(pgid, Signal::KILL);
        }
    }

    /// Waits for the leader, then kills whatever it left in its group.
    pub(crate) async fn wait(&mut self) -> std::io::Result<ExitStatus> {
        let status = self.child.wait().await;
        self.kill();
        status
    }

    /// Kills the group and reaps the leader.
    pub(crate) async fn kill_and_reap(&mut self) {
        self.kill();
        let _ = self.child.wait().await;
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The last bytes of a log, however much was written.
#[derive(Default)]
pub(crate) struct LogTail {
    bytes: Vec<u8>,
}

impl LogTail {
    pub(crate) fn push(&mut self, data: &[u8]) {
        self.bytes.extend_from_slice(data);
        // Keep up to twice the tail so trimming is amortised.
        if self.bytes.len() > 2 * LOG_TAIL_BYTES {
            let cut = self.bytes.len() - LOG_TAIL_BYTES;
            self.bytes.drain(..cut);
        }
    }

    pub(crate) fn push_line(&mut self, line: &str) {
        self.push(line.as_bytes());
        if !line.ends_with('\n') {
            self.push(b"\n");
        }
    }

    /// The last [`LOG_TAIL_BYTES`] at most, starting on a line when it can.
    pub(crate) fn text(&self) -> String {
        let start = self.bytes.len().saturating_sub(LOG_TAIL_BYTES);
        let mut tail = &self.bytes[start..];
        if start > 0
            && let Some(newline) = tail.iter().position(|&b| b == b'\n')
        {
            tail = &tail[newline + 1..];
        }
        String::from_utf8_lossy(tail).into_owned()
    }
}

/// What a finished command left.
pub(crate) struct Finished {
    pub(crate) status: ExitStatus,
    /// At most `stdout_limit` bytes of standard output.
    pub(crate) stdout: Vec<u8>,
    /// The tail of standard error.
    pub(crate) stderr: LogTail,
}

/// Why [`run`] did not return a finished command.
pub(crate) enum RunError {
    Spawn(std::io::Error),
    /// The deadline passed; the group was killed. Holds the stderr tail.
    TimedOut(LogTail),
}

/// Runs `command` to completion (stdin closed), or kills its process group
/// at `deadline`.
pub(crate) async fn run(
    mut command: Command,
    deadline: Instant,
    stdout_limit: usize,
) -> Result<Finished, RunError> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut group = Group::spawn(command).map_err(RunError::Spawn)?;
    let stdout = group.child().stdout.take();
    let stderr = group.child().stderr.take();
    let mut out = Vec::new();
    let mut err = LogTail::default();
    let work = async {
        let (_, _, status) = tokio::join!(
            read_limited(stdout, &mut out, stdout_limit),
            read_tail(stderr, &mut err),
            group.wait(),
        );
        status
    };
    match tokio::time::timeout_at(deadline, work).await {
        Ok(Ok(status)) => Ok(Finished {
            status,
            stdout: out,
            stderr: err,
        }),
        Ok(Err(error)) => Err(RunError::Spawn(error)),
        Err(_elapsed) => {
            group.kill_and_reap().await;
            Err(RunError::TimedOut(err))
        }
    }
}

/// Reads to the end, keeping the first `limit` bytes (the rest is drained so
/// the writer never blocks on a full pipe).
async fn read_limited(reader: Option<impl AsyncRead + Unpin>, into: &mut Vec<u8>, limit: usize) {
    let Some(mut reader) = reader else { return };
    let mut buf = [0u8; 8192];
    while let Ok(n) = reader.read(&mut buf).await {
        if n == 0 {
            break;
        }
        let room = limit.saturating_sub(into.len());
        into.extend_from_slice(&buf[..n.min(room)]);
    }
}

/// Reads to the end, keeping the tail.
pub(crate) async fn read_tail(reader: Option<impl AsyncRead + Unpin>, tail: &mut LogTail) {
    let Some(mut reader) = reader else { return };
    let mut buf = [0u8; 8192];
    while let Ok(n) = reader.read(&mut buf).await {
        if n == 0 {
            break;
        }
        tail.push(&buf[..n]);
    }
}

/// The environment variables passed through to commands that use the
/// network outside the sandbox (git, cargo fetch): proxies and CA bundles an
/// operator may need. Everything else is cleared.
pub(crate) fn network_env(command: &mut Command) {
    for name in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
    ] {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_tail_keeps_the_end_from_a_line_start() {
        let mut tail = LogTail::default();
        for i in 0..10_000 {
            tail.push_line(&format!("line {i}"));
        }
        let text = tail.text();
        assert!(text.len() <= LOG_TAIL_BYTES);
        assert!(text.starts_with("line "), "{}", &text[..20]);
        assert!(text.ends_with("line 9999\n"));
    }

    #[tokio::test]
    async fn deadline_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("survivor");
        let mut command = Command::new("sh");
        // A background child that would write the marker after a second.
        command
            .arg("-c")
            .arg(format!("(sleep 1; touch {}) & sleep 30", marker.display()));
        let deadline = Instant::now() + std::time::Duration::from_millis(300);
        let result = run(command, deadline, 1024).await;
        assert!(matches!(result, Err(RunError::TimedOut(_))));
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        assert!(!marker.exists(), "a process of the group survived");
    }
}
