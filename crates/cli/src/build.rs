//! `outlayer build`: builds a source exactly as a worker would (the same
//! sandbox, limits and artifact key) ahead of any request. Given a
//! coordinator, the program goes to its artifact cache under the build lock,
//! so the first paid request finds it there and never spends its yield
//! window on a cold build. Exit status: 0 built or already cached, 1 the
//! source does not build (with the summary a caller would see) or the build
//! could not be done, 2 usage.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use outlayer_coordinator_client::CoordinatorClient;
use outlayer_types::MaxLimits;
use outlayer_worker::{Artifacts, BuildArgs, ProgramError};
use serde_json::json;

use crate::source::SourceArgs;

#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    source: SourceArgs,
    /// The coordinator whose artifact cache receives the program (needs a
    /// worker token). Unset: build here only.
    #[arg(long, env = "COORDINATOR_URL")]
    coordinator_url: Option<String>,
    /// Bearer token for the coordinator (`outlayer coordinator token create`).
    #[arg(long, env = "WORKER_TOKEN", hide_env_values = true)]
    coordinator_token: Option<String>,
    /// Also write the program here.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Longest build, in seconds (default: the most a request can pay for).
    #[arg(long, default_value_t = MaxLimits::default().max_compile_seconds,
          value_parser = clap::value_parser!(u64).range(1..=MaxLimits::default().max_compile_seconds))]
    timeout_s: u64,
    #[command(flatten)]
    build: BuildArgs,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

pub(crate) async fn main(args: Args) -> anyhow::Result<ExitCode> {
    let source = args.source.code_source()?;
    let builder = args.build.builder().context("cannot set up the builder")?;
    let coordinator = args
        .coordinator_url
        .as_deref()
        .map(|url| CoordinatorClient::new(url, args.coordinator_token.clone()));
    let artifacts = Artifacts::new(coordinator, builder, 1);
    let built = async {
        let pinned = artifacts.pin(&source).await?;
        let program = artifacts
            .obtain(&pinned, Duration::from_secs(args.timeout_s))
            .await?;
        Ok::<_, ProgramError>((pinned, program))
    }
    .await;
    let (pinned, program) = match built {
        Ok(built) => built,
        Err(ProgramError::User { summary, .. }) => {
            eprintln!("the source does not build: {summary}");
            return Ok(ExitCode::FAILURE);
        }
        Err(ProgramError::Infrastructure(message)) => {
            eprintln!("error: the build could not be done: {message}");
            return Ok(ExitCode::FAILURE);
        }
    };
    if let Some(out) = &args.out {
        std::fs::write(out, &program.wasm)
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    let artifact = pinned.artifact_checksum();
    if args.json {
        println!(
            "{}",
            json!({
                "source": pinned,
                "artifact": artifact,
                "bytes": program.wasm.len(),
                "built_ms": program.built_ms,
                "cached": program.cached,
                "uploaded": args.coordinator_url.is_some() && !program.cached,
            })
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!("source    {}", describe(&pinned));
    println!("artifact  {artifact}");
    let how = match (program.cached, program.built_ms) {
        (true, _) => "already in the coordinator's cache".to_owned(),
        (false, Some(ms)) => format!("built in {:.1} s", ms as f64 / 1000.0),
        (false, None) => "downloaded and checked".to_owned(),
    };
    println!("program   {} bytes, {how}", program.wasm.len());
    match (&args.coordinator_url, program.cached) {
        (Some(url), false) => {
            println!("cached    at {url}: the first request for it builds nothing")
        }
        (None, _) => println!("cached    nowhere (give --coordinator-url to prebuild for workers)"),
        _ => {}
    }
    Ok(ExitCode::SUCCESS)
}

fn describe(source: &outlayer_types::CodeSource) -> String {
    use outlayer_types::CodeSource;
    match source {
        CodeSource::GitHub { repo, commit, .. } => format!("{repo} at {commit}"),
        CodeSource::GitPackage {
            repo, commit, path, ..
        } => format!("{repo} at {commit}, package {path}"),
        CodeSource::WasmUrl { url, hash, .. } => format!("{url} (sha256 {hash})"),
        CodeSource::GitScript { repo, commit, path } => {
            format!("{repo} at {commit}, JavaScript {path}")
        }
        CodeSource::JavaScript { .. } => {
            format!("inline JavaScript (sha256 {})", source.artifact_checksum())
        }
    }
}
