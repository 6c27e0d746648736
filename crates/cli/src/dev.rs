//! `outlayer dev`: the whole system on one machine with nothing to
//! configure (see `outlayer-dev`); `--demo` pays for requests, prints what
//! comes back and stops. Ctrl-C stops everything.

use std::path::PathBuf;
use std::process::ExitCode;

use outlayer_dev::dashboard::{self, DashboardArgs};
use outlayer_dev::{DevArgs, Stack};

#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    dev: DevArgs,
    #[command(flatten)]
    dashboard: DashboardArgs,
    /// Store an encrypted secret and pay for requests of a program from this
    /// project's examples/ (built by the worker from git), print the
    /// results, and stop.
    #[arg(long)]
    demo: bool,
    /// Measure: pay for one request (built), then N cached ones submitted
    /// back to back; print requests/s, blocks to settlement and where the
    /// off-chain time goes (JSON), and stop.
    #[arg(long, value_name = "N", conflicts_with = "demo")]
    bench: Option<usize>,
    /// The git checkout whose examples/ the demo builds (default: the
    /// checkout around the current directory, else the one this binary was
    /// built from).
    #[arg(long)]
    project: Option<PathBuf>,
}

pub(crate) async fn main(args: Args) -> anyhow::Result<ExitCode> {
    let stack = Stack::start(&args.dev).await?;
    let project = args
        .project
        .clone()
        .unwrap_or_else(outlayer_devchain::checkout);
    let dashboard = match dashboard::serve(&stack, &project, &args.dashboard).await {
        Ok(dashboard) => dashboard,
        Err(e) => {
            stack.stop().await;
            return Err(e);
        }
    };
    println!("{}", stack.describe());
    match &dashboard {
        Some(dashboard) => println!("  dashboard     {}", dashboard.url),
        None => println!(
            "  dashboard     not built ({} has no index.html: cd dashboard && npm ci && npm run build)",
            args.dashboard.dashboard_dir.display()
        ),
    }
    let code = if let Some(requests) = args.bench {
        match outlayer_dev::bench::run(&stack, &project, requests).await {
            Ok(report) => {
                println!("{report:#}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: the benchmark failed: {e:#}");
                ExitCode::FAILURE
            }
        }
    } else if args.demo {
        match outlayer_dev::demo::run(&stack, &project).await {
            Ok(settled) if settled.iter().all(|s| s.success()) => ExitCode::SUCCESS,
            Ok(_) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("error: the demo failed: {e:#}");
                ExitCode::FAILURE
            }
        }
    } else {
        println!("\nCtrl-C stops everything.");
        tokio::signal::ctrl_c().await.ok();
        ExitCode::SUCCESS
    };
    drop(dashboard);
    stack.stop().await;
    Ok(code)
}
