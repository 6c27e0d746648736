//! The HTTP API: the router, the caller identification and rate-limit layer,
//! and extractors that turn every malformed input into a 4xx with a message.

mod dashboard;
mod extract;
mod public;
mod routes;
mod worker;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::{bearer, hash_token};
use crate::error::Error;
use crate::ratelimit::BucketKey;
use crate::service::Coordinator;

pub use extract::Worker;
pub use routes::Routes;

/// Who is calling, decided once per request by [`identify`].
#[derive(Clone, Debug)]
pub enum Caller {
    /// Presented a live worker token (its name).
    Worker(String),
    Anonymous,
}

/// Every documented route: the worker and public routers, each route
/// declared once (see [`Routes`]). `max_artifact_bytes` bounds artifact
/// uploads and changes nothing in the description.
fn routes(max_artifact_bytes: usize) -> Routes {
    worker::routes(max_artifact_bytes).merge(public::routes())
}

/// The operations the API serves, as `/openapi.json` describes them.
pub fn operations() -> Vec<crate::openapi::Op> {
    routes(0).into_parts().1
}

/// Time a request may take beyond the longest long poll.
const REQUEST_TIMEOUT_MARGIN: Duration = Duration::from_secs(30);

/// The whole API, ready to serve or to call with `oneshot` in tests.
pub fn app(coordinator: Arc<Coordinator>) -> Router {
    let max_body = coordinator.config.max_body_bytes;
    let (api, _) = routes(coordinator.config.max_artifact_bytes).into_parts();
    api
        // The dashboard is a static site (only with --dashboard-dir), not
        // part of the API or its document.
        .merge(dashboard::router(&coordinator.config))
        .fallback(outlayer_http::no_such_route)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn_with_state(
            coordinator.clone(),
            identify,
        ))
        // A bound on every request, above the longest poll, so a stuck
        // store call cannot hold a connection forever.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_millis(coordinator.config.max_poll_ms) + REQUEST_TIMEOUT_MARGIN,
        ))
        // Outermost but tracing: 405s, body-limit rejections and timeouts
        // get the JSON error body too.
        .layer(middleware::from_fn(outlayer_http::json_errors))
        .layer(TraceLayer::new_for_http())
        .with_state(coordinator)
}

/// Identifies the caller (token or client address) and applies its rate
/// limit before any handler runs. Invalid tokens are charged to the
/// address's bucket, so guessing tokens does not buy a bigger budget, and
/// are looked up only while that bucket has room. Live tokens are
/// remembered for `--token-cache-ms`.
async fn identify(
    State(coordinator): State<Arc<Coordinator>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let addr = coordinator.limiter.client_addr(peer, request.headers());
    let caller = match bearer(request.headers()) {
        Some(token) => {
            let hash = hash_token(token);
            match coordinator.store.cached_token_name(&hash) {
                Some(name) => Caller::Worker(name),
                None => {
                    // Limit first: a token the cache does not know costs a
                    // store lookup, which an address already refused does
                    // not get (a flood of made-up tokens never reaches the
                    // store). Only peeked: a live token is charged to its
                    // own bucket below, an unknown one to the address.
                    if let Err(retry_after_secs) = coordinator.limiter.peek(&BucketKey::Addr(addr))
                    {
                        coordinator.metrics.rate_limited();
                        return Error::RateLimited { retry_after_secs }.into_response();
                    }
                    coordinator.metrics.token_lookup();
                    match coordinator.store.token_name(&hash).await {
                        Ok(Some(name)) => Caller::Worker(name),
                        Ok(None) => Caller::Anonymous,
                        Err(e) => return e.into_response(),
                    }
                }
            }
        }
        None => Caller::Anonymous,
    };
    let bucket = match &caller {
        Caller::Worker(name) => BucketKey::Token(name.clone()),
        Caller::Anonymous => BucketKey::Addr(addr),
    };
    if let Err(retry_after_secs) = coordinator.limiter.check(bucket) {
        coordinator.metrics.rate_limited();
        return Error::RateLimited { retry_after_secs }.into_response();
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}
