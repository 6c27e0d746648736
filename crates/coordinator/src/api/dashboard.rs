//! The built dashboard at `/dashboard/` when `--dashboard-dir` is given:
//! its assets, and a `config.json` naming this coordinator, the NEAR RPC
//! and the contract. Never development accounts: those exist only under
//! `outlayer dev`, which serves the dashboard itself.

use std::sync::Arc;

use axum::Router;
use axum::response::Redirect;
use axum::routing::get;
use serde_json::json;
use tower_http::services::{ServeDir, ServeFile};

use crate::config::Config;
use crate::service::Coordinator;

pub(super) fn router(config: &Config) -> Router<Arc<Coordinator>> {
    let Some(dir) = &config.dashboard_dir else {
        return Router::new();
    };
    let page = json!({
        "network": config.dashboard_network,
        "rpc_url": config.dashboard_rpc_url,
        "coordinator_url": config.public_url.as_deref().map(|url| url.trim_end_matches('/')),
        "contract_id": config.dashboard_contract_id,
    });
    let assets = ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html")));
    Router::new()
        .route(
            "/dashboard",
            get(|| async { Redirect::permanent("/dashboard/") }),
        )
        .route(
            "/dashboard/config.json",
            get(move || async move { axum::Json(page) }),
        )
        .nest_service("/dashboard/", assets)
}
