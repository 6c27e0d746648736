//! `outlayer worker`: follows the chain and carries requests to settlement
//! until Ctrl-C; the job in hand finishes first.

use std::process::ExitCode;

use outlayer_worker::WorkerArgs;

#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    worker: WorkerArgs,
}

pub(crate) async fn main(args: Args) -> anyhow::Result<ExitCode> {
    let running = outlayer_worker::spawn(args.worker).await?;
    tokio::signal::ctrl_c().await.ok();
    tracing::info!("worker stopping; the jobs in hand finish first");
    running.stop().await;
    Ok(ExitCode::SUCCESS)
}
