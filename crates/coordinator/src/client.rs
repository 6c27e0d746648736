//! A small HTTP client for the coordinator API, used by workers, the event
//! monitor, the CLI's benchmark and the tests; plus the raw HTTP layer it and
//! the keystore proxy share.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use outlayer_types::ExecutionRequest;
use outlayer_types::coordinator::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// A raw response.
#[derive(Debug)]
pub struct RawResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl RawResponse {
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::Internal(format!(
                "unexpected response ({}): {e}: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            ))
        })
    }

    /// The error message of an error response.
    pub fn error_message(&self) -> String {
        self.json::<ApiError>()
            .map(|e| e.error)
            .unwrap_or_else(|_| String::from_utf8_lossy(&self.body).into_owned())
    }
}

/// Plain HTTP/1 over a pooled connector (the coordinator and keystore sit
/// behind TLS-terminating proxies, or on localhost).
#[derive(Clone)]
pub struct HttpClient {
    inner: Client<HttpConnector, Full<Bytes>>,
}

impl Default for HttpClient {
    fn default() -> Self {
        Self::new()
    }
}

impl HttpClient {
    pub fn new() -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Self {
            inner: Client::builder(TokioExecutor::new())
                .pool_idle_timeout(Duration::from_secs(30))
                .build(connector),
        }
    }

    pub async fn send(
        &self,
        method: Method,
        url: &str,
        bearer: Option<&str>,
        body: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<RawResponse> {
        self.send_with(method, url, bearer, body, HeaderMap::new(), timeout)
            .await
    }

    pub async fn send_with(
        &self,
        method: Method,
        url: &str,
        bearer: Option<&str>,
        body: Option<Vec<u8>>,
        extra: HeaderMap,
        timeout: Duration,
    ) -> Result<RawResponse> {
        let mut builder = Request::builder().method(method).uri(url);
        if let Some(token) = bearer {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let has_body = body.is_some();
        let mut request = builder
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| Error::BadRequest(format!("bad request URL {url}: {e}")))?;
        if has_body && !extra.contains_key(header::CONTENT_TYPE) {
            request.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        request.headers_mut().extend(extra);
        let call = async {
            let response = self
                .inner
                .request(request)
                .await
                .map_err(|e| Error::Unavailable(format!("{url}: {e}")))?;
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| Error::Unavailable(format!("{url}: {e}")))?
                .to_bytes();
            Ok(RawResponse {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        };
        tokio::time::timeout(timeout, call)
            .await
            .map_err(|_| Error::Unavailable(format!("{url}: timed out")))?
    }
}

/// A typed client for one coordinator.
#[derive(Clone)]
pub struct CoordinatorClient {
    base: String,
    token: Option<String>,
    http: HttpClient,
    timeout: Duration,
}

impl CoordinatorClient {
    pub fn new(base: &str, token: Option<String>) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            token,
            http: HttpClient::new(),
            timeout: Duration::from_secs(60),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Any request; the response as it came.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<RawResponse> {
        let url = format!("{}{path}", self.base);
        self.http
            .send(method, &url, self.token.as_deref(), body, self.timeout)
            .await
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T> {
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|e| Error::Internal(e.to_string()))?;
        let response = self.raw(method, path, body).await?;
        if response.status.is_success() {
            return response.json();
        }
        let message = response.error_message();
        Err(match response.status {
            StatusCode::UNAUTHORIZED => Error::Unauthorized,
            StatusCode::NOT_FOUND => Error::NotFound(message),
            StatusCode::CONFLICT => Error::Conflict(message),
            StatusCode::TOO_MANY_REQUESTS => Error::RateLimited {
                retry_after_secs: response
                    .headers
                    .get(header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1),
            },
            status if status.is_client_error() => Error::BadRequest(message),
            _ => Error::Unavailable(format!("coordinator: {} {message}", response.status)),
        })
    }

    pub async fn create_execution(
        &self,
        request: &ExecutionRequest,
    ) -> Result<CreateExecutionResponse> {
        let body = CreateExecution {
            request: request.clone(),
        };
        self.call(Method::POST, "/executions", Some(&body)).await
    }

    pub async fn poll(
        &self,
        worker_id: &str,
        capabilities: &[JobType],
        timeout_ms: u64,
    ) -> Result<Option<JobOffer>> {
        let body = PollJobs {
            worker_id: worker_id.to_owned(),
            capabilities: capabilities.to_vec(),
            timeout_ms: Some(timeout_ms),
        };
        let response: PollResponse = self.call(Method::POST, "/jobs/poll", Some(&body)).await?;
        Ok(response.job)
    }

    pub async fn claim(
        &self,
        worker_id: &str,
        job_id: Option<u64>,
        capabilities: &[JobType],
    ) -> Result<ClaimedJob> {
        let body = ClaimJob {
            worker_id: worker_id.to_owned(),
            job_id,
            capabilities: capabilities.to_vec(),
        };
        self.call(Method::POST, "/jobs/claim", Some(&body)).await
    }

    pub async fn extend_lease(&self, job_id: u64, lease_token: &str) -> Result<LeaseExtended> {
        let body = ExtendLease {
            lease_token: lease_token.to_owned(),
        };
        self.call(
            Method::POST,
            &format!("/jobs/{job_id}/heartbeat"),
            Some(&body),
        )
        .await
    }

    pub async fn complete(&self, job_id: u64, done: &CompleteJob) -> Result<JobCompleted> {
        self.call(
            Method::POST,
            &format!("/jobs/{job_id}/complete"),
            Some(done),
        )
        .await
    }

    pub async fn upload_artifact(&self, checksum: &str, bytes: Vec<u8>) -> Result<ArtifactStatus> {
        let url = format!("{}/artifacts/{checksum}", self.base);
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        let response = self
            .http
            .send_with(
                Method::PUT,
                &url,
                self.token.as_deref(),
                Some(bytes),
                headers,
                self.timeout,
            )
            .await?;
        if response.status.is_success() {
            response.json()
        } else {
            Err(Error::BadRequest(format!(
                "{}: {}",
                response.status,
                response.error_message()
            )))
        }
    }

    /// The artifact's bytes, or `None` when it is not cached (or was corrupt).
    pub async fn download_artifact(&self, checksum: &str) -> Result<Option<Vec<u8>>> {
        let response = self
            .raw(Method::GET, &format!("/artifacts/{checksum}"), None)
            .await?;
        match response.status {
            StatusCode::OK => Ok(Some(response.body.to_vec())),
            StatusCode::NOT_FOUND => Ok(None),
            status => Err(Error::Unavailable(format!(
                "artifact download: {status} {}",
                response.error_message()
            ))),
        }
    }

    pub async fn artifact_exists(&self, checksum: &str) -> Result<ArtifactStatus> {
        self.call::<(), _>(
            Method::GET,
            &format!("/public/artifacts/{checksum}/exists"),
            None,
        )
        .await
    }

    pub async fn acquire_lock(&self, key: &str, ttl_ms: u64) -> Result<LockGrant> {
        let body = AcquireLock {
            key: key.to_owned(),
            ttl_ms,
        };
        self.call(Method::POST, "/locks/acquire", Some(&body)).await
    }

    pub async fn release_lock(&self, key: &str, owner_token: &str) -> Result<()> {
        let body = ReleaseLock {
            key: key.to_owned(),
            owner_token: owner_token.to_owned(),
        };
        let _: serde_json::Value = self
            .call(Method::POST, "/locks/release", Some(&body))
            .await?;
        Ok(())
    }

    pub async fn worker_heartbeat(&self, heartbeat: &WorkerHeartbeat) -> Result<()> {
        let _: serde_json::Value = self
            .call(Method::POST, "/workers/heartbeat", Some(heartbeat))
            .await?;
        Ok(())
    }

    pub async fn cursor(&self, name: &str) -> Result<Option<u64>> {
        match self
            .call::<(), BlockCursor>(Method::GET, &format!("/monitor/cursor/{name}"), None)
            .await
        {
            Ok(cursor) => Ok(Some(cursor.block_height)),
            Err(Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn set_cursor(&self, name: &str, block_height: u64) -> Result<()> {
        let body = BlockCursor { block_height };
        let _: serde_json::Value = self
            .call(Method::PUT, &format!("/monitor/cursor/{name}"), Some(&body))
            .await?;
        Ok(())
    }

    pub async fn stats(&self) -> Result<CoordinatorStats> {
        self.call::<(), _>(Method::GET, "/public/stats", None).await
    }

    /// `query` is the raw query string (`state=failed&limit=10`).
    pub async fn jobs(&self, query: &str) -> Result<JobsPage> {
        self.call::<(), _>(Method::GET, &format!("/public/jobs?{query}"), None)
            .await
    }

    pub async fn workers(&self) -> Result<Vec<WorkerInfo>> {
        self.call::<(), _>(Method::GET, "/public/workers", None)
            .await
    }
}
