//! The dashboard under `outlayer dev`: its built assets (`dashboard/dist`)
//! and a `config.json` naming this stack's chain, coordinator and contract,
//! with the funded development accounts' keys and example programs. Those
//! keys make it a localhost-only server: it refuses to listen elsewhere and
//! answers only requests addressed to a loopback name (a page on another
//! site cannot rebind its domain to 127.0.0.1 and read them).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use outlayer_types::{BuildTarget, CodeSource};
use serde_json::{Value, json};
use tower_http::services::{ServeDir, ServeFile};

use crate::Stack;

/// The accounts offered to the page for signing (funded at genesis).
pub const DEV_ACCOUNTS: [&str; 2] = ["alice.test.near", "bob.test.near"];

#[derive(Clone, Debug, clap::Args)]
pub struct DashboardArgs {
    /// Address of the dashboard (loopback only: it hands out development keys).
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub dashboard_listen: SocketAddr,
    /// The built dashboard (`cd dashboard && npm ci && npm run build`);
    /// without it `outlayer dev` runs without a dashboard.
    #[arg(long, default_value = "dashboard/dist")]
    pub dashboard_dir: PathBuf,
}

/// A running dashboard server; dropping it stops it.
pub struct Dashboard {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves the dashboard for `stack`, or `Ok(None)` when it is not built.
pub async fn serve(
    stack: &Stack,
    project: &Path,
    args: &DashboardArgs,
) -> anyhow::Result<Option<Dashboard>> {
    if !args.dashboard_dir.join("index.html").is_file() {
        return Ok(None);
    }
    if !args.dashboard_listen.ip().is_loopback() {
        bail!(
            "--dashboard-listen {}: the dashboard hands out development keys, so it listens on loopback only",
            args.dashboard_listen
        );
    }
    let config = config(stack, project)?;
    let listener = tokio::net::TcpListener::bind(args.dashboard_listen)
        .await
        .with_context(|| format!("dashboard: cannot listen on {}", args.dashboard_listen))?;
    let port = listener.local_addr()?.port();
    let dir = &args.dashboard_dir;
    let assets = ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html")));
    let app = Router::new()
        .route(
            "/config.json",
            get(|State(config): State<Value>| async move { Json(config) }),
        )
        .with_state(config)
        .fallback_service(assets)
        .layer(middleware::from_fn_with_state(port, loopback_host_only));
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "dashboard server stopped");
        }
    });
    Ok(Some(Dashboard {
        url: format!("http://127.0.0.1:{port}"),
        task,
    }))
}

/// What the page needs to know about this stack.
fn config(stack: &Stack, project: &Path) -> anyhow::Result<Value> {
    let mut accounts = Vec::new();
    for account in DEV_ACCOUNTS {
        let path = stack.key_file(account);
        let file: Value = serde_json::from_slice(
            &std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?,
        )?;
        accounts.push(json!({
            "account_id": file["account_id"],
            "public_key": file["public_key"],
            "private_key": file["private_key"],
        }));
    }
    Ok(json!({
        "network": "local",
        "rpc_url": stack.rpc_url,
        "coordinator_url": stack.coordinator_url(),
        "contract_id": stack.contract(),
        "dev_accounts": accounts,
        "examples": examples(project),
    }))
}

/// The guest examples of this project's repository at its HEAD, as the
/// worker builds them (no examples when the project is not a git checkout).
fn examples(project: &Path) -> Value {
    let Ok(project) = project.canonicalize() else {
        return json!([]);
    };
    let Ok(commit) = crate::demo::git_head(&project) else {
        return json!([]);
    };
    let repo = format!("file://{}", project.display());
    let examples = [
        ("echo", "Echo: returns its input"),
        ("random", "Random: bytes from the request's seed"),
        (
            "secrets-env",
            "Secrets: reads API_KEY from the caller's secrets",
        ),
        ("compute", "Compute: a fuel-heavy loop"),
    ];
    examples
        .iter()
        .map(|(package, name)| {
            let source = CodeSource::GitPackage {
                repo: repo.clone(),
                commit: commit.clone(),
                path: format!("examples/{package}"),
                build_target: BuildTarget::Wasip1,
            };
            json!({"name": name, "source": source})
        })
        .collect()
}

/// Answers only requests whose `Host` is a loopback name on our port.
async fn loopback_host_only(State(port): State<u16>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let allowed = ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .any(|name| host == format!("{name}:{port}"));
    if allowed {
        next.run(request).await
    } else {
        (
            StatusCode::FORBIDDEN,
            Json(json!({"error": "forbidden", "message": "the dashboard answers loopback hosts only"})),
        )
            .into_response()
    }
}
