//! The OpenAPI 3.1 description of the API, served at `/openapi.json`.
//!
//! Paths are not written here: every route is declared once, in its
//! router (`api/worker.rs`, `api/public.rs`), as an [`Op`] next to its
//! handler, and [`crate::api::Routes`] turns that one declaration into both
//! the axum route and the path item below. The component schemas the
//! operations name are written here by hand, so `outlayer-types` stays free
//! of HTTP and OpenAPI dependencies and the schemas can say what serde
//! cannot (patterns, bounds, which fields are always written).

use std::sync::OnceLock;

use axum::http::StatusCode;
use axum::routing::MethodFilter;
use serde_json::{Map, Value, json};

/// A reference to a component schema.
pub fn schema(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The HTTP methods the API uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Put,
}

impl Verb {
    /// Its name in an OpenAPI path item.
    pub fn key(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::Post => "post",
            Verb::Put => "put",
        }
    }

    pub(crate) fn filter(self) -> MethodFilter {
        match self {
            Verb::Get => MethodFilter::GET,
            Verb::Post => MethodFilter::POST,
            Verb::Put => MethodFilter::PUT,
        }
    }
}

/// One operation as the document describes it: method, path, summary,
/// whether it needs a worker token, parameters, request body and answers.
/// Built with [`Op::get`], [`Op::post`] or [`Op::put`] and given to
/// [`crate::api::Routes::route`] with its handler.
#[derive(Clone, Debug)]
pub struct Op {
    pub verb: Verb,
    pub path: &'static str,
    summary: &'static str,
    worker: bool,
    parameters: Vec<Value>,
    body: Option<Value>,
    responses: Map<String, Value>,
}

impl Op {
    fn new(verb: Verb, path: &'static str, summary: &'static str) -> Self {
        Self {
            verb,
            path,
            summary,
            worker: false,
            parameters: Vec::new(),
            body: None,
            // Rate limits apply to every route.
            responses: Map::new(),
        }
        .errors(&[429])
    }

    pub fn get(path: &'static str, summary: &'static str) -> Self {
        Self::new(Verb::Get, path, summary)
    }

    pub fn post(path: &'static str, summary: &'static str) -> Self {
        Self::new(Verb::Post, path, summary)
    }

    pub fn put(path: &'static str, summary: &'static str) -> Self {
        Self::new(Verb::Put, path, summary)
    }

    /// Needs `Authorization: Bearer <worker token>` (else 401).
    pub fn worker(mut self) -> Self {
        self.worker = true;
        self.errors(&[401])
    }

    /// A `{name}` segment of the path (each must be declared; a test
    /// checks).
    pub fn path_param(mut self, name: &str, schema: Value) -> Self {
        self.parameters
            .push(json!({ "name": name, "in": "path", "required": true, "schema": schema }));
        self
    }

    /// An optional query parameter.
    pub fn query(mut self, name: &str, schema: Value) -> Self {
        self.parameters
            .push(json!({ "name": name, "in": "query", "required": false, "schema": schema }));
        self
    }

    /// A JSON body of the named component schema.
    pub fn body(self, name: &str) -> Self {
        self.body_as("application/json", schema(name))
    }

    /// A body of another content type, or an inline schema.
    pub fn body_as(mut self, content_type: &str, schema: Value) -> Self {
        self.body =
            Some(json!({ "required": true, "content": { content_type: { "schema": schema } } }));
        self
    }

    /// Answers `status` with a JSON body of the named component schema.
    pub fn answers(self, status: u16, name: &str) -> Self {
        self.answers_as(status, "application/json", schema(name))
    }

    /// Answers `status` with a body of another content type, or an inline
    /// schema.
    pub fn answers_as(mut self, status: u16, content_type: &str, schema: Value) -> Self {
        let description = StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Answer");
        self.responses.insert(
            status.to_string(),
            json!({ "description": description, "content": { content_type: { "schema": schema } } }),
        );
        self
    }

    /// Refusals it may give, each with the `ApiError` body (401 and 429
    /// are added by [`Op::worker`] and for every route).
    pub fn errors(mut self, codes: &[u16]) -> Self {
        for code in codes {
            self.responses.insert(
                code.to_string(),
                json!({ "description": "Error", "content": { "application/json": { "schema": schema("ApiError") } } }),
            );
        }
        self
    }

    /// The operation object of the document.
    pub fn to_json(&self) -> Value {
        let mut op = json!({ "summary": self.summary, "responses": self.responses });
        if self.worker {
            op["security"] = json!([{ "worker": [] }]);
        }
        if !self.parameters.is_empty() {
            op["parameters"] = Value::Array(self.parameters.clone());
        }
        if let Some(body) = &self.body {
            op["requestBody"] = body.clone();
        }
        op
    }
}

/// The schema of an unsigned 64-bit number (ids, heights, times).
pub fn u64_schema() -> Value {
    json!({ "type": "integer", "format": "int64", "minimum": 0 })
}

/// The schema of an artifact checksum (SHA-256, lower-case hex).
pub fn checksum_schema() -> Value {
    json!({ "type": "string", "pattern": "^[0-9a-f]{64}$" })
}

/// The schema of raw bytes (artifacts).
pub fn binary_schema() -> Value {
    json!({ "type": "string", "format": "binary" })
}

pub fn enum_of(values: &[&str]) -> Value {
    json!({ "type": "string", "enum": values })
}

fn object(required: &[&str], properties: Value) -> Value {
    json!({ "type": "object", "required": required, "properties": properties, "additionalProperties": false })
}

fn schemas() -> Value {
    let u64_ = json!({ "type": "integer", "format": "int64", "minimum": 0 });
    let job_type = enum_of(&["compile", "execute"]);
    let state = enum_of(&["pending", "claimed", "completed", "failed"]);
    let category = enum_of(&[
        "compilation_failed",
        "execution_failed",
        "access_denied",
        "insufficient_payment",
        "infrastructure",
    ]);
    let health_status = enum_of(&["healthy", "degraded", "unhealthy", "disabled"]);
    let name = json!({ "type": "string", "minLength": 1, "maxLength": 128, "pattern": "^[!-~]+$" });
    let offer = json!({ "type": "object", "required": ["job_id", "job_type", "request_id"],
        "properties": { "job_id": u64_, "job_type": job_type, "request_id": u64_ } });
    let check = json!({ "type": "object", "properties": { "status": health_status, "detail": { "type": "string" } } });
    json!({
        "ApiError": { "type": "object", "required": ["error", "message"], "properties": {
            "error": { "type": "string", "description": "bad_request, unauthorized, not_found, method_not_allowed, conflict, payload_too_large, rate_limited, unavailable, internal" },
            "message": { "type": "string" } } },
        "ExecutionRequest": {
            "type": "object",
            "description": "outlayer_types::ExecutionRequest (the execution_requested event's data)",
            "required": ["context", "code_source", "resource_limits", "payment", "payer_account_id"],
            "properties": {
                "context": { "type": "object" },
                "code_source": { "type": "object" },
                "resource_limits": { "type": "object" },
                "input_data": { "type": ["string", "null"] },
                "input_in_state": { "type": "boolean" },
                "secrets_ref": { "type": ["object", "null"] },
                "response_format": enum_of(&["Text", "Json", "Bytes"]),
                "payment": { "type": "string", "pattern": "^[0-9]+$" },
                "payer_account_id": { "type": "string" }
            }
        },
        "CreateExecution": object(&["request"], json!({ "request": schema("ExecutionRequest") })),
        "CreateExecutionResponse": { "type": "object", "properties": {
            "request_id": u64_, "created": { "type": "boolean" },
            "status": enum_of(&["compiling", "executing", "completed", "failed"]),
            "first_job": job_type, "artifact_checksum": { "type": "string" } } },
        "PollJobs": object(&["worker_id", "capabilities"], json!({
            "worker_id": name,
            "capabilities": { "type": "array", "minItems": 1, "items": job_type },
            "timeout_ms": { "type": ["integer", "null"], "format": "int64", "minimum": 0 } })),
        "JobOffer": offer,
        "PollResponse": { "type": "object", "properties": { "job": { "oneOf": [schema("JobOffer"), { "type": "null" }] } } },
        "ClaimJob": object(&["worker_id"], json!({
            "worker_id": name,
            "job_id": { "type": ["integer", "null"], "format": "int64", "minimum": 0 },
            "capabilities": { "type": "array", "minItems": 1, "items": job_type } })),
        "ClaimedJob": { "type": "object", "properties": {
            "job_id": u64_, "job_type": job_type, "request_id": u64_, "attempt": u64_,
            "lease_token": { "type": "string" }, "lease_expires_at_ms": u64_,
            "artifact_checksum": { "type": "string" }, "request": schema("ExecutionRequest") } },
        "ClaimJobs": object(&["worker_id", "max_jobs"], json!({
            "worker_id": name,
            "capabilities": { "type": "array", "minItems": 1, "items": job_type },
            "max_jobs": { "type": "integer", "minimum": 1, "maximum": 64,
                "description": "The worker's free slots: at most this many jobs are claimed" },
            "wait_ms": { "type": ["integer", "null"], "format": "int64", "minimum": 0,
                "description": "When nothing is pending, wait up to this long (capped by --max-poll-ms); 0 or absent answers at once" } })),
        "ClaimedJobs": { "type": "object", "properties": {
            "jobs": { "type": "array", "items": schema("ClaimedJob"),
                "description": "Oldest first, each under its own lease; empty when nothing was pending within the wait" } } },
        "ExtendLease": object(&["lease_token"], json!({ "lease_token": { "type": "string" } })),
        "LeaseExtended": { "type": "object", "properties": { "lease_expires_at_ms": u64_ } },
        "CompleteJob": object(&["lease_token", "success"], json!({
            "lease_token": { "type": "string" },
            "success": { "type": "boolean" },
            "error_category": { "oneOf": [category, { "type": "null" }] },
            "error": { "type": ["string", "null"], "maxLength": 2048 },
            "output_summary": { "type": ["string", "null"], "maxLength": 4096 },
            "metrics": { "type": ["object", "null"] },
            "actual_cost": { "type": ["string", "null"], "pattern": "^[0-9]+$" },
            "resolve_tx_hash": { "type": ["string", "null"], "pattern": "^[1-9A-HJ-NP-Za-km-z]{32,44}$",
                "description": "The resolve_execution transaction this job sent" },
            "resolve_submitted_at_ms": { "type": ["integer", "null"], "format": "int64", "minimum": 0 } })),
        "ExecutionSettled": object(&["block_height", "success", "charged", "refunded"], json!({
            "block_height": u64_, "success": { "type": "boolean" },
            "charged": { "type": "string", "pattern": "^[0-9]+$" },
            "refunded": { "type": "string", "pattern": "^[0-9]+$" } })),
        "JobCompleted": { "type": "object", "properties": { "state": state,
            "next_job": { "oneOf": [schema("JobOffer"), { "type": "null" }] } } },
        "JobCompletion": object(&["job_id", "completion"], json!({
            "job_id": u64_, "completion": schema("CompleteJob") })),
        "CompleteJobs": object(&["completions"], json!({
            "completions": { "type": "array", "minItems": 1, "maxItems": 64, "items": schema("JobCompletion"),
                "description": "Completions of distinct jobs, recorded in one transaction" } })),
        "CompletionResult": { "type": "object", "properties": {
            "job_id": u64_, "status": { "type": "integer", "description": "What POST /jobs/{id}/complete would answer: 200, or 400/404/409" },
            "completed": { "oneOf": [schema("JobCompleted"), { "type": "null" }] },
            "error": { "oneOf": [schema("ApiError"), { "type": "null" }] } } },
        "JobsCompleted": { "type": "object", "properties": {
            "results": { "type": "array", "items": schema("CompletionResult"), "description": "One per completion, in the order given" } } },
        "CreateExecutions": object(&["requests"], json!({
            "requests": { "type": "array", "minItems": 1, "maxItems": 64, "items": schema("ExecutionRequest"),
                "description": "Requests recorded in one transaction, each idempotent on request_id" } })),
        "CreationResult": { "type": "object", "properties": {
            "request_id": u64_, "status": { "type": "integer", "description": "What POST /executions would answer: 201, 200, or 400/409" },
            "created": { "oneOf": [schema("CreateExecutionResponse"), { "type": "null" }] },
            "error": { "oneOf": [schema("ApiError"), { "type": "null" }] } } },
        "ExecutionsCreated": { "type": "object", "properties": {
            "results": { "type": "array", "items": schema("CreationResult"), "description": "One per request, in the order given" } } },
        "ArtifactStatus": { "type": "object", "properties": { "checksum": { "type": "string" },
            "exists": { "type": "boolean" }, "size": { "type": ["integer", "null"] } } },
        "AcquireLock": object(&["key", "ttl_ms"], json!({ "key": name,
            "ttl_ms": { "type": "integer", "format": "int64", "minimum": 1, "maximum": 86_400_000 } })),
        "LockGrant": { "type": "object", "properties": { "key": { "type": "string" },
            "owner_token": { "type": "string" }, "expires_at_ms": u64_ } },
        "ReleaseLock": object(&["key", "owner_token"], json!({ "key": name, "owner_token": { "type": "string" } })),
        "WorkerHeartbeat": object(&["worker_id", "status"], json!({ "worker_id": name,
            "status": enum_of(&["idle", "busy", "draining"]),
            "capabilities": { "type": "array", "items": job_type },
            "version": { "type": ["string", "null"] } })),
        "WorkerInfo": { "type": "object", "required": ["worker_id", "token_name", "status", "capabilities", "last_seen_ms", "active", "jobs_completed", "jobs_failed", "current_job"],
            "properties": {
                "worker_id": { "type": "string" }, "token_name": { "type": "string" },
                "status": enum_of(&["idle", "busy", "draining"]),
                "capabilities": { "type": "array", "items": job_type },
                "version": { "type": ["string", "null"] },
                "last_seen_ms": u64_, "active": { "type": "boolean" },
                "jobs_completed": u64_, "jobs_failed": u64_,
                "current_job": { "type": ["integer", "null"], "format": "int64", "minimum": 0,
                    "description": "The request id of the job it most recently claimed and still holds" } } },
        "BlockCursor": object(&["block_height"], json!({ "block_height": u64_ })),
        "SourcePin": object(&["commit"], json!({ "commit": { "type": "string", "pattern": "^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$" } })),
        "JobInfo": { "type": "object",
            "required": ["job_id", "request_id", "job_type", "state", "attempt", "created_at_ms", "updated_at_ms", "claimed_at_ms", "finished_at_ms"],
            "properties": { "job_id": u64_, "request_id": u64_,
            "job_type": job_type, "state": state, "attempt": u64_,
            "worker_id": { "type": ["string", "null"] },
            "error_category": { "oneOf": [category, { "type": "null" }] },
            "error": { "type": ["string", "null"] },
            "output_summary": { "type": ["string", "null"] },
            "metrics": { "oneOf": [schema("ResourceMetrics"), { "type": "null" }] },
            "actual_cost": { "type": ["string", "null"], "pattern": "^[0-9]+$" },
            "created_at_ms": u64_, "updated_at_ms": u64_,
            "claimed_at_ms": { "type": ["integer", "null"], "format": "int64", "minimum": 0,
                "description": "When the current or last claim took it; claimed_at_ms - created_at_ms is the queue wait of a first attempt" },
            "finished_at_ms": { "type": ["integer", "null"], "format": "int64", "minimum": 0,
                "description": "When it completed or failed; finished_at_ms - claimed_at_ms is the run time" } } },
        "ResourceMetrics": { "type": "object", "required": ["instructions", "time_ms"], "properties": {
            "instructions": u64_, "time_ms": u64_,
            "compile_time_ms": { "type": ["integer", "null"], "format": "int64", "minimum": 0 } } },
        "JobsPage": { "type": "object", "properties": {
            "jobs": { "type": "array", "items": schema("JobInfo") },
            "next_offset": { "type": ["integer", "null"] } } },
        "CoordinatorStats": { "type": "object", "properties": {
            "requests_total": u64_, "requests_completed": u64_, "requests_failed": u64_,
            "jobs": { "type": "object", "properties": { "pending": u64_, "claimed": u64_, "completed": u64_, "failed": u64_ } },
            "workers_active": u64_, "artifacts": u64_, "artifact_bytes": u64_,
            "instructions_total": u64_, "execution_ms_total": u64_, "compile_ms_total": u64_,
            "failures_by_category": { "type": "object", "description": "Failed requests by error category",
                "required": ["compilation_failed", "execution_failed", "access_denied", "insufficient_payment", "infrastructure"],
                "properties": { "compilation_failed": u64_, "execution_failed": u64_, "access_denied": u64_,
                    "insufficient_payment": u64_, "infrastructure": u64_ } } } },
        "RequestSummary": request_summary(),
        "RequestsPage": { "type": "object", "required": ["requests", "next_offset"], "properties": {
            "requests": { "type": "array", "items": schema("RequestSummary") },
            "next_offset": { "type": ["integer", "null"] } } },
        "RequestDetail": request_detail(),
        "HealthReport": { "type": "object", "properties": { "status": health_status,
            "store": check, "queue": check, "keystore": check, "workers": check, "monitor": check } },
        "Ok": { "type": "object" }
    })
}

const SUMMARY_FIELDS: &[&str] = &[
    "request_id",
    "status",
    "sender_id",
    "payer_account_id",
    "code_source",
    "artifact_checksum",
    "resource_limits",
    "max_compile_seconds",
    "response_format",
    "secrets_ref",
    "payment",
    "block_height",
    "block_timestamp",
    "transaction_hash",
    "error_category",
    "error",
    "metrics",
    "actual_cost",
    "created_at_ms",
    "updated_at_ms",
    "settled_success",
    "settled_at_ms",
];

fn summary_properties() -> serde_json::Map<String, Value> {
    let u64_ = json!({ "type": "integer", "format": "int64", "minimum": 0 });
    let null_u64 = json!({ "type": ["integer", "null"], "format": "int64", "minimum": 0 });
    let null_str = json!({ "type": ["string", "null"] });
    let amount = json!({ "type": "string", "pattern": "^[0-9]+$", "description": "yoctoNEAR" });
    let properties = json!({
        "request_id": u64_,
        "status": enum_of(&["compiling", "executing", "completed", "failed"]),
        "sender_id": { "type": "string" },
        "payer_account_id": { "type": "string" },
        "code_source": { "type": "object", "description": "outlayer_types::CodeSource ({\"GitHub\"|\"GitPackage\"|\"WasmUrl\": {...}})" },
        "artifact_checksum": { "type": "string" },
        "resource_limits": { "type": "object", "properties": {
            "max_instructions": u64_, "max_memory_mb": u64_, "max_execution_seconds": u64_ } },
        "max_compile_seconds": null_u64,
        "response_format": enum_of(&["Text", "Json", "Bytes"]),
        "secrets_ref": { "type": ["object", "null"], "properties": {
            "profile": { "type": "string" }, "account_id": { "type": "string" } } },
        "payment": amount,
        "block_height": u64_,
        "block_timestamp": { "type": "integer", "format": "int64", "minimum": 0, "description": "nanoseconds since the Unix epoch" },
        "transaction_hash": null_str,
        "error_category": { "oneOf": [enum_of(&["compilation_failed", "execution_failed", "access_denied", "insufficient_payment", "infrastructure"]), { "type": "null" }] },
        "error": null_str,
        "metrics": { "oneOf": [schema("ResourceMetrics"), { "type": "null" }] },
        "actual_cost": { "type": ["string", "null"], "pattern": "^[0-9]+$" },
        "created_at_ms": u64_,
        "updated_at_ms": u64_,
        "settled_success": { "type": ["boolean", "null"],
            "description": "The contract's verdict once a monitor reported its settlement; null until then (status stays the jobs' view)" },
        "settled_at_ms": { "type": ["integer", "null"], "format": "int64", "minimum": 0,
            "description": "When the coordinator recorded the settlement (its clock, as created_at_ms); null until then or when not recorded" }
    });
    match properties {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

fn request_summary() -> Value {
    json!({ "type": "object", "required": SUMMARY_FIELDS, "properties": summary_properties() })
}

fn request_detail() -> Value {
    let null_u64 = json!({ "type": ["integer", "null"], "format": "int64", "minimum": 0 });
    let null_str = json!({ "type": ["string", "null"] });
    let u64_ = json!({ "type": "integer", "format": "int64", "minimum": 0 });
    let state = enum_of(&["pending", "claimed", "completed", "failed"]);
    let mut properties = summary_properties();
    properties.insert(
        "jobs".into(),
        json!({ "type": "array", "items": schema("JobInfo") }),
    );
    properties.insert(
        "build_log_summary".into(),
        json!({ "type": ["string", "null"], "maxLength": 256,
        "description": "The builder's short summary of a failed build" }),
    );
    properties.insert("timeline".into(), json!({ "type": "object", "required": ["requested", "build", "run", "resolve", "settled"], "properties": {
        "requested": { "type": "object", "properties": {
            "block_height": u64_, "block_timestamp": u64_, "transaction_hash": null_str } },
        "build": { "type": ["object", "null"], "description": "null for a prebuilt binary", "properties": {
            "state": { "oneOf": [state, { "type": "null" }] },
            "claimed_at_ms": null_u64, "finished_at_ms": null_u64, "worker_id": null_str,
            "cached": { "type": ["boolean", "null"] } } },
        "run": { "type": ["object", "null"], "properties": {
            "state": state, "claimed_at_ms": null_u64, "finished_at_ms": null_u64, "worker_id": null_str } },
        "resolve": { "type": ["object", "null"], "properties": {
            "tx_hash": { "type": "string" }, "submitted_at_ms": u64_ } },
        "settled": { "type": ["object", "null"], "properties": {
            "block_height": u64_, "success": { "type": "boolean" },
            "charged": { "type": "string", "pattern": "^[0-9]+$" },
            "refunded": { "type": "string", "pattern": "^[0-9]+$" } } } } }));
    let mut required: Vec<&str> = SUMMARY_FIELDS.to_vec();
    required.extend(["jobs", "timeline", "build_log_summary"]);
    json!({ "type": "object", "required": required, "properties": properties })
}

fn build(operations: &[Op]) -> Value {
    let mut paths = Map::new();
    for op in operations {
        let item = paths
            .entry(op.path)
            .or_insert_with(|| Value::Object(Map::new()));
        item[op.verb.key()] = op.to_json();
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "OutLayer coordinator",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Requests, job claims with leases, artifacts, locks and public stats. Worker routes need `Authorization: Bearer <token>`."
        },
        "components": {
            "securitySchemes": { "worker": { "type": "http", "scheme": "bearer" } },
            "schemas": schemas()
        },
        "paths": paths
    })
}

/// The document, built once from the operations the API serves.
pub fn document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| build(&crate::api::operations()).to_string())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn schema_references_resolve() {
        let doc: Value = serde_json::from_str(document()).unwrap();
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for part in document().split("#/components/schemas/").skip(1) {
            let name: String = part.chars().take_while(|c| c.is_alphanumeric()).collect();
            assert!(schemas.contains_key(&name), "missing schema {name}");
        }
    }

    /// Every `{name}` in a path is a declared path parameter and every
    /// declared one is in the path; every operation answers something.
    #[test]
    fn operations_are_whole() {
        let operations = crate::api::operations();
        assert!(!operations.is_empty());
        for op in &operations {
            let what = format!("{} {}", op.verb.key(), op.path);
            let in_path: BTreeSet<&str> = op
                .path
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .collect();
            let declared: BTreeSet<&str> = op
                .parameters
                .iter()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            assert_eq!(in_path, declared, "{what}: path parameters");
            assert!(
                op.responses.keys().any(|code| code.starts_with('2')),
                "{what}: no success answer"
            );
            assert!(!op.summary.is_empty(), "{what}: no summary");
            if op.verb == Verb::Get {
                assert!(op.body.is_none(), "{what}: a GET with a body");
            }
        }
    }
}
