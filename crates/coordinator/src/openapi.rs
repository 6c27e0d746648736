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
        "ExtendLease": object(&["lease_token"], json!({ "lease_token": { "type": "string" } })),
        "LeaseExtended": { "type": "object", "properties": { "lease_expires_at_ms": u64_ } },
        "CompleteJob": object(&["lease_token", "success"], json!({
            "lease_token": { "type": "string" },
            "success": { "type": "boolean" },
            "error_category": { "oneOf": [category, { "type": "null" }] },
            "error": { "type": ["string", "null"], "maxLength": 2048 },
            "output_summary": { "type": ["string", "null"], "maxLength": 4096 },
            "metrics": { "type": ["object", "null"] },
            "actual_cost": { "type": ["string", "null"], "pattern": "^[0-9]+$" } })),
        "JobCompleted": { "type": "object", "properties": { "state": state,
            "next_job": { "oneOf": [schema("JobOffer"), { "type": "null" }] } } },
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
        "WorkerInfo": { "type": "object" },
        "BlockCursor": object(&["block_height"], json!({ "block_height": u64_ })),
        "SourcePin": object(&["commit"], json!({ "commit": { "type": "string", "pattern": "^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$" } })),
        "JobInfo": { "type": "object", "properties": { "job_id": u64_, "request_id": u64_,
            "job_type": job_type, "state": state, "attempt": u64_ } },
        "JobsPage": { "type": "object", "properties": {
            "jobs": { "type": "array", "items": schema("JobInfo") },
            "next_offset": { "type": ["integer", "null"] } } },
        "CoordinatorStats": { "type": "object" },
        "HealthReport": { "type": "object", "properties": { "status": health_status,
            "store": check, "queue": check, "keystore": check, "workers": check, "monitor": check } },
        "Ok": { "type": "object" }
    })
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
            "/jobs/poll": { "post": worker_op("Wait for a pending job", Some("PollJobs"), ("200", ok("PollResponse")), &["400", "413"]) },
            "/jobs/claim": { "post": worker_op("Claim a job under a lease", Some("ClaimJob"), ("200", ok("ClaimedJob")), &["400", "404", "409"]) },
            "/jobs/{id}/heartbeat": { "post": {
                "parameters": [job_id_param()],
                "summary": "Extend a held lease", "security": [{ "worker": [] }], "requestBody": body("ExtendLease"),
                "responses": responses(("200", ok("LeaseExtended")), &["400", "401", "409"]) } },
            "/jobs/{id}/complete": { "post": {
                "parameters": [job_id_param()],
                "summary": "Record a held job's outcome", "security": [{ "worker": [] }], "requestBody": body("CompleteJob"),
                "responses": responses(("200", ok("JobCompleted")), &["400", "401", "404", "409"]) } },
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
