//! `outlayer coordinator`: serve the coordinator, manage worker tokens, and
//! benchmark the job path. Library code lives in `outlayer-coordinator`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args as ClapArgs, Subcommand};
use outlayer_coordinator::store::Store;
use outlayer_coordinator::{Config, Error, tokens};

#[derive(ClapArgs)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the coordinator API until Ctrl-C.
    Serve(Box<Config>),
    /// Create, list or revoke worker tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Measure create → claim → complete throughput, claim latency, and the
    /// HTTP and store floors of the same setting.
    Bench(outlayer_coordinator::bench::BenchOptions),
}

/// Where the tokens are stored: the coordinator's store.
#[derive(ClapArgs)]
struct StoreArgs {
    /// PostgreSQL URL. Unset: the SQLite file under the data directory.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// The coordinator's data directory.
    #[arg(
        long,
        env = "COORDINATOR_DATA_DIR",
        default_value = "./data/coordinator"
    )]
    data_dir: PathBuf,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token; it is printed once and cannot be shown again.
    Create {
        #[arg(long)]
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List tokens (names and dates, never the tokens).
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a token by name; running coordinators refuse it within their
    /// --token-cache-ms (5 s by default).
    Revoke {
        #[arg(long)]
        name: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Runs one `outlayer coordinator` command (inside `main`'s async runtime).
pub(crate) async fn run(args: Args) -> ExitCode {
    match dispatch(args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            match e {
                Error::BadRequest(_) | Error::Conflict(_) => ExitCode::from(crate::USAGE_ERROR),
                _ => ExitCode::FAILURE,
            }
        }
    }
}

async fn open_store(args: &StoreArgs) -> Result<Store, Error> {
    let mut config = Config::local(args.data_dir.clone());
    config.database_url = args.database_url.clone();
    if config.database_url.is_none() {
        tokio::fs::create_dir_all(&config.data_dir).await?;
    }
    Store::connect(&config.store_url()).await
}

async fn dispatch(args: Args) -> Result<ExitCode, Error> {
    match args.command {
        Command::Serve(config) => {
            let running = outlayer_coordinator::spawn(*config).await?;
            println!("coordinator listening on {}", running.url());
            let _ = tokio::signal::ctrl_c().await;
            running.stop().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Token { command } => match command {
            TokenCommand::Create { name, store } => {
                let store = open_store(&store).await?;
                let token = tokens::create(&store, &name).await?;
                println!("{token}");
                eprintln!("token {name:?} created; it is shown only this once");
                Ok(ExitCode::SUCCESS)
            }
            TokenCommand::List { store } => {
                let store = open_store(&store).await?;
                println!("{:<32} {:<16} STATUS", "NAME", "CREATED (ms)");
                for token in tokens::list(&store).await? {
                    let status = match token.revoked_at_ms {
                        Some(at) => format!("revoked at {at}"),
                        None => "active".to_owned(),
                    };
                    println!("{:<32} {:<16} {status}", token.name, token.created_at_ms);
                }
                Ok(ExitCode::SUCCESS)
            }
            TokenCommand::Revoke { name, store } => {
                let store = open_store(&store).await?;
                if tokens::revoke(&store, &name).await? {
                    eprintln!("token {name:?} revoked");
                    Ok(ExitCode::SUCCESS)
                } else {
                    eprintln!("error: no active token named {name:?}");
                    Ok(ExitCode::FAILURE)
                }
            }
        },
        Command::Bench(options) => {
            outlayer_coordinator::bench::main(options).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
