//! The OpenAPI 3.1 description of the API, served at `/openapi.json`. Written
//! by hand next to the routes (a test checks every route is described); the
//! wire types live in `outlayer-types`, which stays free of HTTP concerns.

use std::sync::OnceLock;

use serde_json::{Value, json};

fn schema(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn body(name: &str) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": schema(name) } } })
}

fn ok(name: &str) -> Value {
    json!({ "description": "OK", "content": { "application/json": { "schema": schema(name) } } })
}

/// The error responses every route may give, plus its own.
fn responses(success: (&str, Value), errors: &[&str]) -> Value {
    let mut out = serde_json::Map::new();
    out.insert(success.0.to_owned(), success.1);
    for code in errors.iter().chain(["429"].iter()) {
        out.insert(
            (*code).to_owned(),
            json!({ "description": "Error", "content": { "application/json": { "schema": schema("ApiError") } } }),
        );
    }
    Value::Object(out)
}

fn worker_op(
    summary: &str,
    request: Option<&str>,
    success: (&str, Value),
    errors: &[&str],
) -> Value {
    let mut op = json!({
        "summary": summary,
        "security": [{ "worker": [] }],
        "responses": responses(success, &[&["401"], errors].concat()),
    });
    if let Some(name) = request {
        op["requestBody"] = body(name);
    }
    op
}

fn public_op(summary: &str, success: (&str, Value), errors: &[&str]) -> Value {
    json!({ "summary": summary, "responses": responses(success, errors) })
}

fn path_param(name: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "path", "required": true, "schema": schema })
}

fn checksum_param() -> Value {
    path_param(
        "checksum",
        json!({ "type": "string", "pattern": "^[0-9a-f]{64}$" }),
    )
}

fn job_id_param() -> Value {
    path_param(
        "id",
        json!({ "type": "integer", "format": "int64", "minimum": 0 }),
    )
}

fn query_param(name: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "schema": schema })
}

fn enum_of(values: &[&str]) -> Value {
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

fn build() -> Value {
    let cursor_param = path_param(
        "name",
        json!({ "type": "string", "pattern": "^[!-~]{1,64}$" }),
    );
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
        "paths": {
            "/executions": { "post": worker_op("Record a request (idempotent on request_id)", Some("CreateExecution"),
                ("201", ok("CreateExecutionResponse")), &["400", "409", "413"]) },
            "/executions/batch": { "post": worker_op("Record several requests in one transaction, each answered as POST /executions would answer it", Some("CreateExecutions"),
                ("200", ok("ExecutionsCreated")), &["400", "413"]) },
            "/executions/{id}/settled": { "post": {
                "parameters": [job_id_param()],
                "summary": "Record the contract's settlement of a request (an event monitor saw execution_completed)",
                "security": [{ "worker": [] }], "requestBody": body("ExecutionSettled"),
                "responses": responses(("200", ok("Ok")), &["400", "401", "404"]) } },
            "/jobs/poll": { "post": worker_op("Wait for a pending job", Some("PollJobs"), ("200", ok("PollResponse")), &["400", "413"]) },
            "/jobs/claim": { "post": worker_op("Claim a job under a lease", Some("ClaimJob"), ("200", ok("ClaimedJob")), &["400", "404", "409"]) },
            "/jobs/claim-batch": { "post": worker_op("Claim up to max_jobs pending jobs at once, waiting up to wait_ms when none is pending", Some("ClaimJobs"), ("200", ok("ClaimedJobs")), &["400", "409"]) },
            "/jobs/{id}/heartbeat": { "post": {
                "parameters": [job_id_param()],
                "summary": "Extend a held lease", "security": [{ "worker": [] }], "requestBody": body("ExtendLease"),
                "responses": responses(("200", ok("LeaseExtended")), &["400", "401", "409"]) } },
            "/jobs/{id}/complete": { "post": {
                "parameters": [job_id_param()],
                "summary": "Record a held job's outcome", "security": [{ "worker": [] }], "requestBody": body("CompleteJob"),
                "responses": responses(("200", ok("JobCompleted")), &["400", "401", "404", "409"]) } },
            "/jobs/complete-batch": { "post": worker_op("Record several held jobs' outcomes in one transaction, each answered as POST /jobs/{id}/complete would answer it", Some("CompleteJobs"),
                ("200", ok("JobsCompleted")), &["400", "413"]) },
            "/artifacts/{checksum}": {
                "parameters": [checksum_param()],
                "put": { "summary": "Upload an artifact", "security": [{ "worker": [] }],
                    "requestBody": { "required": true, "content": { "application/octet-stream": { "schema": { "type": "string", "format": "binary" } } } },
                    "responses": responses(("201", ok("ArtifactStatus")), &["400", "401", "413"]) },
                "get": { "summary": "Download an artifact (content hash verified)", "security": [{ "worker": [] }],
                    "responses": responses(("200", json!({ "description": "The artifact",
                        "content": { "application/wasm": { "schema": { "type": "string", "format": "binary" } } } })), &["400", "401", "404"]) }
            },
            "/locks/acquire": { "post": worker_op("Take a lock with a TTL", Some("AcquireLock"), ("200", ok("LockGrant")), &["400", "409"]) },
            "/locks/release": { "post": worker_op("Release a lock you own", Some("ReleaseLock"), ("200", ok("Ok")), &["400", "409"]) },
            "/workers/heartbeat": { "post": worker_op("Report a worker's status", Some("WorkerHeartbeat"), ("200", ok("Ok")), &["400"]) },
            "/monitor/cursor/{name}": {
                "parameters": [cursor_param],
                "get": worker_op("The event monitor's last handled block", None, ("200", ok("BlockCursor")), &["400", "404"]),
                "put": worker_op("Move the event monitor's cursor", Some("BlockCursor"), ("200", ok("BlockCursor")), &["400"])
            },
            "/pins/{key}": {
                "parameters": [path_param("key", json!({ "type": "string", "pattern": "^[0-9a-f]{64}$" }))],
                "get": worker_op("The commit a branch or tag of this source was recently resolved to", None, ("200", ok("SourcePin")), &["400", "404"]),
                "put": worker_op("Share a branch or tag resolved to a commit (kept --pin-ttl-ms)", Some("SourcePin"), ("200", ok("SourcePin")), &["400"])
            },
            "/health": { "get": public_op("Liveness", ("200", ok("Ok")), &[]) },
            "/health/detailed": { "get": public_op("Store, queue, keystore, workers, monitor", ("200", ok("HealthReport")), &["503"]) },
            "/public/stats": { "get": public_op("Counts", ("200", ok("CoordinatorStats")), &[]) },
            "/public/jobs": { "get": {
                "summary": "Recent jobs, newest first",
                "parameters": [
                    query_param("state", enum_of(&["pending", "claimed", "completed", "failed"])),
                    query_param("job_type", enum_of(&["compile", "execute"])),
                    query_param("request_id", json!({ "type": "integer", "format": "int64", "minimum": 0 })),
                    query_param("limit", json!({ "type": "integer", "minimum": 1, "maximum": 500 })),
                    query_param("offset", json!({ "type": "integer", "minimum": 0, "maximum": 4_611_686_018_427_387_903_u64 }))
                ],
                "responses": responses(("200", ok("JobsPage")), &["400"]) } },
            "/public/requests": { "get": {
                "summary": "Requests, newest first, with their accounts, source, status and result",
                "parameters": [
                    query_param("account", json!({ "type": "string", "minLength": 2, "maxLength": 64,
                        "pattern": "^(([a-z\\d]+[-_])*[a-z\\d]+\\.)*([a-z\\d]+[-_])*[a-z\\d]+$",
                        "description": "The sender or the payer, exactly" })),
                    query_param("status", enum_of(&["compiling", "executing", "completed", "failed"])),
                    query_param("source", json!({ "type": "string", "minLength": 1, "maxLength": 256,
                        "description": "A substring of the repository or URL, or of a package's path (case-sensitive)" })),
                    query_param("settled", json!({ "type": "string", "enum": ["true", "false", "success", "failure"],
                        "description": "Settled (a monitor reported execution_completed) or not; success or failure: settled with that verdict" })),
                    query_param("limit", json!({ "type": "integer", "minimum": 1, "maximum": 200 })),
                    query_param("offset", json!({ "type": "integer", "minimum": 0, "maximum": 4_611_686_018_427_387_903_u64 }))
                ],
                "responses": responses(("200", ok("RequestsPage")), &["400"]) } },
            "/public/requests/{id}": { "get": {
                "summary": "One request: its summary, jobs, timeline and build summary",
                "parameters": [path_param("id", json!({ "type": "integer", "format": "int64", "minimum": 0, "maximum": 9_223_372_036_854_775_807_u64 }))],
                "responses": responses(("200", ok("RequestDetail")), &["400", "404"]) } },
            "/public/workers": { "get": public_op("Workers", ("200", json!({ "description": "OK",
                "content": { "application/json": { "schema": { "type": "array", "items": schema("WorkerInfo") } } } })), &[]) },
            "/public/artifacts/{checksum}/exists": { "get": {
                "summary": "Whether an artifact is cached", "parameters": [checksum_param()],
                "responses": responses(("200", ok("ArtifactStatus")), &["400"]) } },
            "/metrics": { "get": { "summary": "Prometheus metrics", "responses": {
                "200": { "description": "OK", "content": { "text/plain": { "schema": { "type": "string" } } } } } } },
            "/secrets/pubkey": { "post": {
                "summary": "The keystore's public key for an accessor (proxied to the keystore)",
                "requestBody": { "required": true, "content": { "application/json": { "schema": { "type": "object" } } } },
                "responses": responses(("200", json!({ "description": "The keystore's answer, passed through",
                    "content": { "application/json": { "schema": { "type": "object" } } } })), &["400", "503"]) } },
            "/openapi.json": { "get": { "summary": "This document", "responses": {
                "200": { "description": "OK", "content": { "application/json": { "schema": { "type": "object" } } } } } } }
        }
    })
}

/// The document, built once.
pub fn document() -> &'static str {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| build().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_documented_and_refs_resolve() {
        let doc: Value = serde_json::from_str(document()).unwrap();
        let text = document();
        for route in crate::api::ROUTES {
            assert!(doc["paths"][route].is_object(), "{route} is not documented");
        }
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for part in text.split("#/components/schemas/").skip(1) {
            let name: String = part.chars().take_while(|c| c.is_alphanumeric()).collect();
            assert!(schemas.contains_key(&name), "missing schema {name}");
        }
    }
}
