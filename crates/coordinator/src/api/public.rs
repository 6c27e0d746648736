//! Public routes (no token, rate-limited per address): health, stats, recent
//! jobs, workers, artifact existence, Prometheus metrics, the OpenAPI
//! document and the keystore public-key proxy.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use outlayer_types::coordinator::*;
use serde::Deserialize;
use serde_json::json;

use super::Routes;
use super::extract::{ApiPath, ApiQuery};
use crate::error::{Error, Result};
use crate::metrics::{gauge, sample};
use crate::openapi::{Op, checksum_schema, enum_of, schema, u64_schema};
use crate::service::Coordinator;
use crate::store::{JobFilter, RequestFilter};

/// Every public route, declared once: its description in `/openapi.json`
/// and its handler.
pub(super) fn routes() -> Routes {
    let offset = || json!({ "type": "integer", "minimum": 0, "maximum": MAX_OFFSET });
    let any_object = || json!({ "type": "object" });
    Routes::new()
        .route(
            Op::get("/health", "Liveness").answers(200, "Ok"),
            health,
        )
        .route(
            Op::get("/health/detailed", "Store, queue, keystore, workers, monitor")
                .answers(200, "HealthReport")
                // Unhealthy: the same report.
                .answers(503, "HealthReport"),
            health_detailed,
        )
        .route(
            Op::get("/public/stats", "Counts").answers(200, "CoordinatorStats"),
            stats,
        )
        .route(
            Op::get("/public/jobs", "Recent jobs, newest first")
                .query("state", enum_of(&["pending", "claimed", "completed", "failed"]))
                .query("job_type", enum_of(&["compile", "execute"]))
                .query("request_id", u64_schema())
                .query("limit", json!({ "type": "integer", "minimum": 1, "maximum": MAX_PAGE }))
                .query("offset", offset())
                .answers(200, "JobsPage")
                .errors(&[400]),
            jobs,
        )
        .route(
            Op::get("/public/workers", "Workers").answers_as(
                200,
                "application/json",
                json!({ "type": "array", "items": schema("WorkerInfo") }),
            ),
            workers,
        )
        .route(
            Op::get(
                "/public/requests",
                "Requests, newest first, with their accounts, source, status and result",
            )
            .query(
                "account",
                json!({ "type": "string", "minLength": 2, "maxLength": 64,
                    "pattern": "^(([a-z\\d]+[-_])*[a-z\\d]+\\.)*([a-z\\d]+[-_])*[a-z\\d]+$",
                    "description": "The sender or the payer, exactly" }),
            )
            .query("status", enum_of(&["compiling", "executing", "completed", "failed"]))
            .query(
                "source",
                json!({ "type": "string", "minLength": 1, "maxLength": MAX_SOURCE_QUERY,
                    "description": "A substring of the repository or URL, or of a package's path (case-sensitive)" }),
            )
            .query(
                "settled",
                json!({ "type": "string", "enum": ["true", "false", "success", "failure"],
                    "description": "Settled (a monitor reported execution_completed) or not; success or failure: settled with that verdict" }),
            )
            .query("limit", json!({ "type": "integer", "minimum": 1, "maximum": MAX_REQUESTS_PAGE }))
            .query("offset", offset())
            .answers(200, "RequestsPage")
            .errors(&[400]),
            requests,
        )
        .route(
            Op::get(
                "/public/requests/{id}",
                "One request: its summary, jobs, timeline and build summary",
            )
            .path_param(
                "id",
                json!({ "type": "integer", "format": "int64", "minimum": 0, "maximum": 9_223_372_036_854_775_807_u64 }),
            )
            .answers(200, "RequestDetail")
            .errors(&[400, 404]),
            request_detail,
        )
        .route(
            Op::get("/public/artifacts/{checksum}/exists", "Whether an artifact is cached")
                .path_param("checksum", checksum_schema())
                .answers(200, "ArtifactStatus")
                .errors(&[400]),
            artifact_exists,
        )
        .route(
            Op::get("/metrics", "Prometheus metrics").answers_as(
                200,
                "text/plain",
                json!({ "type": "string" }),
            ),
            metrics,
        )
        .route(
            Op::post(
                "/secrets/pubkey",
                "The keystore's public key for an accessor (proxied to the keystore; its answer passed through)",
            )
            .body_as("application/json", any_object())
            .answers_as(200, "application/json", any_object())
            .errors(&[400, 503]),
            secrets_pubkey,
        )
        .route(
            Op::get("/openapi.json", "This document").answers_as(
                200,
                "application/json",
                any_object(),
            ),
            openapi,
        )
        // Public data for any page (the dashboard is served from another
        // origin); no credentials cross: these routes take no token.
        .layer(
            tower_http::cors::CorsLayer::new()
                .allow_origin(tower_http::cors::Any)
                .allow_methods(tower_http::cors::Any)
                .allow_headers([axum::http::header::CONTENT_TYPE]),
        )
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn health_detailed(State(c): State<Arc<Coordinator>>) -> Response {
    let report = c.health().await;
    let status = if report.status == HealthStatus::Unhealthy {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (status, Json(report)).into_response()
}

async fn stats(State(c): State<Arc<Coordinator>>) -> Result<Json<CoordinatorStats>> {
    Ok(Json(c.stats().await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JobsQuery {
    state: Option<JobState>,
    job_type: Option<JobType>,
    request_id: Option<u64>,
    limit: Option<u64>,
    offset: Option<u64>,
}

const MAX_PAGE: u64 = 500;

/// Far beyond any listing, and safe to add a page to as a SQL integer.
const MAX_OFFSET: u64 = i64::MAX as u64 / 2;

/// One page of a listing: `limit` rows (1 to the listing's maximum, 50 by
/// default) from `offset`. The store is asked for one row more, which
/// tells whether a next page exists.
struct Page {
    limit: u64,
    offset: u64,
}

impl Page {
    fn parse(limit: Option<u64>, offset: Option<u64>, max: u64) -> Result<Self> {
        let limit = limit.unwrap_or(50);
        if limit == 0 || limit > max {
            return Err(Error::BadRequest(format!("limit must be 1-{max}")));
        }
        let offset = offset.unwrap_or(0);
        if offset > MAX_OFFSET {
            return Err(Error::BadRequest("offset out of range".into()));
        }
        Ok(Self { limit, offset })
    }

    /// Rows to ask the store for.
    fn fetch(&self) -> u64 {
        self.limit + 1
    }

    /// Keeps this page's rows; the next page's offset when there is one.
    fn finish<T>(&self, rows: &mut Vec<T>) -> Option<u64> {
        let more = rows.len() as u64 > self.limit;
        rows.truncate(self.limit as usize);
        more.then_some(self.offset + self.limit)
    }
}

async fn jobs(
    State(c): State<Arc<Coordinator>>,
    ApiQuery(query): ApiQuery<JobsQuery>,
) -> Result<Json<JobsPage>> {
    let page = Page::parse(query.limit, query.offset, MAX_PAGE)?;
    let filter = JobFilter {
        state: query.state,
        job_type: query.job_type,
        request_id: query.request_id,
        limit: page.fetch(),
        offset: page.offset,
    };
    let mut jobs = c.store.list_jobs(&filter).await?;
    Ok(Json(JobsPage {
        next_offset: page.finish(&mut jobs),
        jobs,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestsQuery {
    account: Option<String>,
    status: Option<RequestStatus>,
    source: Option<String>,
    settled: Option<Settled>,
    limit: Option<u64>,
    offset: Option<u64>,
}

/// The `settled` filter of `/public/requests`: whether a monitor reported
/// the contract's settlement, and with which verdict. A filter beside
/// `status` (the jobs' view), which a settlement leaves as it was.
#[derive(Clone, Copy, Deserialize)]
enum Settled {
    #[serde(rename = "true")]
    Yes,
    #[serde(rename = "false")]
    No,
    #[serde(rename = "success")]
    Success,
    #[serde(rename = "failure")]
    Failure,
}

/// The largest page of `/public/requests` (each row carries its request).
const MAX_REQUESTS_PAGE: u64 = 200;
/// The longest `source` substring searched for.
const MAX_SOURCE_QUERY: usize = 256;

async fn requests(
    State(c): State<Arc<Coordinator>>,
    ApiQuery(query): ApiQuery<RequestsQuery>,
) -> Result<Json<RequestsPage>> {
    let page = Page::parse(query.limit, query.offset, MAX_REQUESTS_PAGE)?;
    if let Some(account) = &query.account
        && account.parse::<outlayer_types::AccountId>().is_err()
    {
        return Err(Error::BadRequest(
            "account must be a NEAR account id (the sender or payer, exactly)".into(),
        ));
    }
    if let Some(source) = &query.source
        && (source.is_empty()
            || source.len() > MAX_SOURCE_QUERY
            || source.chars().any(char::is_control))
    {
        return Err(Error::BadRequest(format!(
            "source must be 1-{MAX_SOURCE_QUERY} bytes without control characters"
        )));
    }
    let filter = RequestFilter {
        account: query.account,
        status: query.status,
        source: query.source,
        settled: query.settled.map(|s| !matches!(s, Settled::No)),
        settled_success: match query.settled {
            Some(Settled::Success) => Some(true),
            Some(Settled::Failure) => Some(false),
            _ => None,
        },
        limit: page.fetch(),
        offset: page.offset,
    };
    let mut requests = c.store.list_requests(&filter).await?;
    Ok(Json(RequestsPage {
        next_offset: page.finish(&mut requests),
        requests,
    }))
}

async fn request_detail(
    State(c): State<Arc<Coordinator>>,
    ApiPath(id): ApiPath<u64>,
) -> Result<Json<RequestDetail>> {
    match c.store.request_detail(id).await? {
        Some(detail) => Ok(Json(detail)),
        None => Err(Error::NotFound(format!("request {id} not found"))),
    }
}

async fn workers(State(c): State<Arc<Coordinator>>) -> Result<Json<Vec<WorkerInfo>>> {
    let since = c.now_ms() - c.config.worker_timeout_ms as i64;
    Ok(Json(c.store.list_workers(since).await?))
}

async fn artifact_exists(
    State(c): State<Arc<Coordinator>>,
    ApiPath(checksum): ApiPath<String>,
) -> Result<Json<ArtifactStatus>> {
    let size = c.artifacts.exists(&checksum).await?;
    Ok(Json(ArtifactStatus {
        checksum,
        exists: size.is_some(),
        size,
    }))
}

async fn metrics(State(c): State<Arc<Coordinator>>) -> Result<Response> {
    let mut out = String::new();
    c.metrics.render(&mut out);
    gauge(&mut out, "jobs", "Jobs by type and state");
    let jobs = c.store.job_state_counts().await?;
    for (state, n) in jobs {
        sample(
            &mut out,
            "jobs",
            &format!("{{state=\"{}\"}}", state.as_str()),
            n,
        );
    }
    gauge(&mut out, "requests", "Requests by status");
    for (status, n) in c.store.request_status_counts().await? {
        sample(
            &mut out,
            "requests",
            &format!("{{status=\"{}\"}}", status.as_str()),
            n,
        );
    }
    let since = c.now_ms() - c.config.worker_timeout_ms as i64;
    let active = c
        .store
        .list_workers(since)
        .await?
        .iter()
        .filter(|w| w.active)
        .count();
    gauge(&mut out, "workers_active", "Workers seen recently");
    sample(&mut out, "workers_active", "", active as u64);
    let (count, bytes) = c.store.artifact_totals().await?;
    gauge(&mut out, "artifacts", "Cached artifacts");
    sample(&mut out, "artifacts", "", count);
    gauge(&mut out, "artifact_bytes", "Bytes of cached artifacts");
    sample(&mut out, "artifact_bytes", "", bytes);
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response())
}

/// Forwards the body to the keystore unchanged (it must be JSON) and returns
/// the keystore's status and body.
async fn secrets_pubkey(State(c): State<Arc<Coordinator>>, body: Bytes) -> Result<Response> {
    if serde_json::from_slice::<serde_json::Value>(&body).is_err() {
        return Err(Error::BadRequest("body must be JSON".into()));
    }
    let Some(keystore) = &c.keystore else {
        return Err(Error::Unavailable("no keystore is configured".into()));
    };
    let (status, body) = keystore.pubkey(body).await?;
    Ok((status, [(header::CONTENT_TYPE, "application/json")], body).into_response())
}

async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::document(),
    )
        .into_response()
}
