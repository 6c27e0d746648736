//! Glue shared by subcommands.

use std::process::ExitCode;

/// Exit status for usage and configuration errors (clap uses it too).
pub(crate) const USAGE_ERROR: u8 = 2;

/// Runs an async subcommand on a fresh runtime with logs on stderr:
/// `Ok(code)` is the command's own status, `Err` a usage or configuration
/// error (exit 2).
pub(crate) fn block_on(command: impl Future<Output = anyhow::Result<ExitCode>>) -> ExitCode {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(USAGE_ERROR);
        }
    };
    runtime.block_on(command).unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        ExitCode::from(USAGE_ERROR)
    })
}
