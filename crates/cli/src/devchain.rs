//! `outlayer devchain`: runs `outlayer-devchain`, the local NEAR chain. It is
//! a separate binary from its own workspace (devchain/: nearcore's VM needs a
//! wasmtime build without features our runtime uses), looked up next to this
//! executable, then on `PATH`; its arguments are passed through.

use std::ffi::OsString;
use std::os::unix::process::CommandExt as _;
use std::process::ExitCode;

const BINARY: &str = "outlayer-devchain";

#[derive(clap::Args)]
#[command(disable_help_flag = true)]
pub(crate) struct Args {
    /// Arguments for outlayer-devchain (`--help` lists them).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<OsString>,
}

/// Replaces this process with the chain's, so signals and exit status are its own.
pub(crate) fn main(args: Args) -> anyhow::Result<ExitCode> {
    let Some(binary) = outlayer_dev::devchain_binary() else {
        anyhow::bail!(
            "{BINARY} is not built: run scripts/build-devchain (it installs next to outlayer)"
        );
    };
    let error = std::process::Command::new(&binary).args(args.args).exec();
    anyhow::bail!("cannot run {}: {error}", binary.display())
}
