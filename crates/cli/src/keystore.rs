//! `outlayer keystore`: runs the keystore service until Ctrl-C.

use std::io::Read as _;
use std::process::ExitCode;

use anyhow::Context as _;
use outlayer_keystore::{Keystore, KeystoreArgs, hash_token};

#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    keystore: KeystoreArgs,
    /// Read a bearer token from standard input, print its SHA-256 (the form
    /// --auth-token-hashes takes) and exit.
    #[arg(long)]
    hash_token: bool,
}

/// Entry point for a caller without an async runtime.
/// `Err` is a usage or configuration error (exit 2).
pub(crate) async fn main(args: Args) -> anyhow::Result<ExitCode> {
    if args.hash_token {
        let mut token = String::new();
        std::io::stdin()
            .read_to_string(&mut token)
            .context("reading the token from standard input")?;
        let token = token.trim_end_matches(['\r', '\n']);
        anyhow::ensure!(!token.is_empty(), "no token on standard input");
        println!("{}", hash_token(token));
        return Ok(ExitCode::SUCCESS);
    }
    let listen = args.keystore.listen;
    let settings = args.keystore.into_settings()?;
    let keystore = Keystore::new(settings)?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let shutdown = async {
        tokio::signal::ctrl_c().await.ok();
        tracing::info!("keystore shutting down");
    };
    match outlayer_keystore::serve(listener, keystore, shutdown).await {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            eprintln!("error: keystore stopped: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}
