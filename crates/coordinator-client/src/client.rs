//! [`CoordinatorClient`]: one method per coordinator route, each with its
//! retry decision next to it.

use std::time::Duration;

use outlayer_types::ExecutionRequest;
use outlayer_types::coordinator::*;
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::{DeserializeOwned, IgnoredAny};

use crate::path::segment;
use crate::retry::{Failure, Repeat, RetryPolicy};
use crate::wire::{ClaimJobs, ClaimedJobs};
use crate::{ClientError, RawResponse};

/// Each call's bound, unless [`CoordinatorClient::with_timeout`] sets another.
/// Generous: artifact uploads of several MiB go through it too.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// How much longer than its long poll a poll may take: the coordinator
/// answers at the end of the poll, plus a round trip and a slow store.
const POLL_MARGIN: Duration = Duration::from_secs(10);

/// A typed client for one coordinator. Cheap to clone (connections are
/// pooled and shared between clones).
#[derive(Clone)]
pub struct CoordinatorClient {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
    timeout: Duration,
    retry: RetryPolicy,
}

impl std::fmt::Debug for CoordinatorClient {
    /// Without the token: clients end up in structs that get logged.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CoordinatorClient")
            .field("base", &self.base)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .finish()
    }
}

/// A request body and its content type.
struct Body {
    bytes: Vec<u8>,
    content_type: &'static str,
}

impl Body {
    fn json<B: Serialize>(value: &B) -> Self {
        Self {
            // The wire types are plain structs with string keys.
            bytes: serde_json::to_vec(value).expect("request types serialise to JSON"),
            content_type: "application/json",
        }
    }
}

/// One call, as it is sent on every try.
struct Call {
    method: Method,
    path: String,
    body: Option<Body>,
    timeout: Duration,
    repeat: Repeat,
}

impl CoordinatorClient {
    /// `base` like `http://127.0.0.1:8080`; `token` is sent as a bearer token
    /// (public routes need none). Retries are on ([`Self::with_retries`]).
    ///
    /// Panics only if the TLS backend cannot be initialised, as
    /// `reqwest::Client::new` does.
    pub fn new(base: &str, token: Option<String>) -> Self {
        let http = reqwest::Client::builder()
            // Redirects are not part of the API; following one would turn a
            // POST into a GET somewhere else. They surface as `Unexpected`.
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(30))
            .tcp_nodelay(true)
            .build()
            .expect("the HTTP client's TLS backend initialises");
        Self {
            base: base.trim_end_matches('/').to_owned(),
            token,
            http,
            timeout: DEFAULT_TIMEOUT,
            retry: RetryPolicy::default(),
        }
    }

    /// At most `retries` tries after the first (default 3; 0 turns retrying
    /// off, e.g. for callers with their own retry loop).
    pub fn with_retries(mut self, retries: u32) -> Self {
        self.retry.retries = retries;
        self
    }

    /// The bound on each try of each call (default 60 s). A poll always gets
    /// at least its long-poll time plus a margin.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Any request, tried once, with a JSON content type when there is a
    /// body; the response as it came, whatever its status. Not retried: the
    /// client cannot know what an arbitrary route does twice.
    pub async fn raw(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<RawResponse, ClientError> {
        let call = Call {
            method,
            path: path.to_owned(),
            body: body.map(|bytes| Body {
                bytes,
                content_type: "application/json",
            }),
            timeout: self.timeout,
            repeat: Repeat::OnlyIfNotActed,
        };
        self.attempt(&call)
            .await
            .map_err(|e| ClientError::transport(&e))
    }

    /// Reports a request. Idempotent on `request_id` (a repeat answers
    /// `created: false`), so it is retried.
    pub async fn create_execution(
        &self,
        request: &ExecutionRequest,
    ) -> Result<CreateExecutionResponse, ClientError> {
        let body = CreateExecution {
            request: request.clone(),
        };
        self.call(self.post("/executions", &body, Repeat::Safe))
            .await
    }

    /// Waits up to `timeout_ms` for a job this worker can take. Only a hint
    /// (claim to get the job), so a lost answer costs nothing: retried.
    pub async fn poll(
        &self,
        worker_id: &str,
        capabilities: &[JobType],
        timeout_ms: u64,
    ) -> Result<Option<JobOffer>, ClientError> {
        let body = PollJobs {
            worker_id: worker_id.to_owned(),
            capabilities: capabilities.to_vec(),
            timeout_ms: Some(timeout_ms),
        };
        let mut call = self.post("/jobs/poll", &body, Repeat::Safe);
        // The coordinator holds the call open for the long poll itself.
        let long_poll = Duration::from_millis(timeout_ms).saturating_add(POLL_MARGIN);
        call.timeout = call.timeout.max(long_poll);
        let response: PollResponse = self.call(call).await?;
        Ok(response.job)
    }

    /// Claims a job (`job_id`) or any pending one (`None`).
    ///
    /// Not retried after a timeout, a broken connection or a 502/503/504:
    /// the claim may have gone through with its answer lost, and a second
    /// claim would take a second job while the first one's lease runs out
    /// unworked. Retried only when the coordinator certainly did nothing: a
    /// 429 (the rate limiter answers before any handler runs) or a failure
    /// to connect. After any other failure the caller polls again; a lost
    /// claim comes back when its lease expires.
    pub async fn claim(
        &self,
        worker_id: &str,
        job_id: Option<u64>,
        capabilities: &[JobType],
    ) -> Result<ClaimedJob, ClientError> {
        let body = ClaimJob {
            worker_id: worker_id.to_owned(),
            job_id,
            capabilities: capabilities.to_vec(),
        };
        self.call(self.post("/jobs/claim", &body, Repeat::OnlyIfNotActed))
            .await
    }

    /// Claims up to `max_jobs` pending jobs at once (the worker's free
    /// slots), waiting up to `wait_ms` when none is pending; an empty list
    /// when the wait ran out. Retried like [`Self::claim`], and for the same
    /// reason: only when the coordinator certainly did nothing.
    pub async fn claim_batch(
        &self,
        worker_id: &str,
        capabilities: &[JobType],
        max_jobs: u32,
        wait_ms: u64,
    ) -> Result<Vec<ClaimedJob>, ClientError> {
        let body = ClaimJobs {
            worker_id: worker_id.to_owned(),
            capabilities: capabilities.to_vec(),
            max_jobs,
            wait_ms: Some(wait_ms),
        };
        let mut call = self.post("/jobs/claim-batch", &body, Repeat::OnlyIfNotActed);
        // The coordinator holds the call open while it waits.
        let wait = Duration::from_millis(wait_ms).saturating_add(POLL_MARGIN);
        call.timeout = call.timeout.max(wait);
        let claimed: ClaimedJobs = self.call(call).await?;
        Ok(claimed.jobs)
    }

    /// Extends the lease. Repeating only moves its expiry again: retried.
    pub async fn extend_lease(
        &self,
        job_id: u64,
        lease_token: &str,
    ) -> Result<LeaseExtended, ClientError> {
        let body = ExtendLease {
            lease_token: lease_token.to_owned(),
        };
        let path = format!("/jobs/{job_id}/heartbeat");
        self.call(self.post(&path, &body, Repeat::Safe)).await
    }

    /// Records the outcome. The coordinator answers a repeat by the same
    /// lease holder as the first (see `explain_refused_completion`): retried.
    pub async fn complete(
        &self,
        job_id: u64,
        done: &CompleteJob,
    ) -> Result<JobCompleted, ClientError> {
        let path = format!("/jobs/{job_id}/complete");
        self.call(self.post(&path, done, Repeat::Safe)).await
    }

    /// Records several held jobs' outcomes in one call and one transaction
    /// (1 to `MAX_COMPLETE_BATCH` distinct jobs). Each gets what
    /// [`Self::complete`] would have returned for it, in the order given: a
    /// refusal of one (its lease ran out, another holder, unknown job) is
    /// that item's `Err(ClientError::Refused { .. })` and takes nothing from
    /// the others. The outer error is the call failing (nothing recorded, or
    /// an answer lost); a repeat answers each item as the first did, so it
    /// is retried like [`Self::complete`].
    pub async fn complete_batch(
        &self,
        completions: &[JobCompletion],
    ) -> Result<Vec<Result<JobCompleted, ClientError>>, ClientError> {
        let body = CompleteJobs {
            completions: completions.to_vec(),
        };
        let answer: JobsCompleted = self
            .call(self.post("/jobs/complete-batch", &body, Repeat::Safe))
            .await?;
        check_count(answer.results.len(), completions.len())?;
        Ok(answer
            .results
            .into_iter()
            .map(|result| item_result(result.status, result.completed, result.error))
            .collect())
    }

    /// Reports several requests (an event monitor's block) in one call and
    /// one transaction (1 to `MAX_CREATE_BATCH`). Each gets what
    /// [`Self::create_execution`] would have returned for it, in the order
    /// given (`created: false` for a known one; a refusal is that item's
    /// `Err`). Idempotent on every `request_id`, so retried.
    pub async fn create_executions(
        &self,
        requests: &[ExecutionRequest],
    ) -> Result<Vec<Result<CreateExecutionResponse, ClientError>>, ClientError> {
        let body = CreateExecutions {
            requests: requests.to_vec(),
        };
        let answer: ExecutionsCreated = self
            .call(self.post("/executions/batch", &body, Repeat::Safe))
            .await?;
        check_count(answer.results.len(), requests.len())?;
        Ok(answer
            .results
            .into_iter()
            .map(|result| item_result(result.status, result.created, result.error))
            .collect())
    }

    /// Stores an artifact under its checksum; storing it twice stores the
    /// same bytes: retried.
    pub async fn upload_artifact(
        &self,
        checksum: &str,
        bytes: Vec<u8>,
    ) -> Result<ArtifactStatus, ClientError> {
        let call = Call {
            method: Method::PUT,
            path: format!("/artifacts/{}", segment(checksum)?),
            body: Some(Body {
                bytes,
                content_type: "application/octet-stream",
            }),
            timeout: self.timeout,
            repeat: Repeat::Safe,
        };
        self.call(call).await
    }

    /// The artifact's bytes, or `None` when it is not cached (or was corrupt).
    pub async fn download_artifact(&self, checksum: &str) -> Result<Option<Vec<u8>>, ClientError> {
        let response = self
            .send(&self.get(&format!("/artifacts/{}", segment(checksum)?)))
            .await?;
        match response.error_for_status() {
            Ok(response) => Ok(Some(response.body)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn artifact_exists(&self, checksum: &str) -> Result<ArtifactStatus, ClientError> {
        let path = format!("/public/artifacts/{}/exists", segment(checksum)?);
        self.call(self.get(&path)).await
    }

    /// Takes a lock for `ttl_ms`. Not retried after the coordinator may have
    /// acted: a repeat of a granted lock conflicts with the grant whose owner
    /// token was lost, which would read as "someone else holds it".
    pub async fn acquire_lock(&self, key: &str, ttl_ms: u64) -> Result<LockGrant, ClientError> {
        let body = AcquireLock {
            key: key.to_owned(),
            ttl_ms,
        };
        self.call(self.post("/locks/acquire", &body, Repeat::OnlyIfNotActed))
            .await
    }

    /// Releases a lock. Not retried after the coordinator may have acted: a
    /// repeat of a release that went through answers 409 "not the owner".
    /// A release that is lost ends with the lock's TTL.
    pub async fn release_lock(&self, key: &str, owner_token: &str) -> Result<(), ClientError> {
        let body = ReleaseLock {
            key: key.to_owned(),
            owner_token: owner_token.to_owned(),
        };
        let _: IgnoredAny = self
            .call(self.post("/locks/release", &body, Repeat::OnlyIfNotActed))
            .await?;
        Ok(())
    }

    /// Reports this worker alive; only refreshes a timestamp: retried.
    pub async fn worker_heartbeat(&self, heartbeat: &WorkerHeartbeat) -> Result<(), ClientError> {
        let _: IgnoredAny = self
            .call(self.post("/workers/heartbeat", heartbeat, Repeat::Safe))
            .await?;
        Ok(())
    }

    /// The monitor's saved block height, `None` before the first save.
    pub async fn cursor(&self, name: &str) -> Result<Option<u64>, ClientError> {
        let path = format!("/monitor/cursor/{}", segment(name)?);
        match self.call::<BlockCursor>(self.get(&path)).await {
            Ok(cursor) => Ok(Some(cursor.block_height)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Saves the monitor's block height; a PUT of a value: retried.
    pub async fn set_cursor(&self, name: &str, block_height: u64) -> Result<(), ClientError> {
        let call = Call {
            method: Method::PUT,
            ..self.post(
                &format!("/monitor/cursor/{}", segment(name)?),
                &BlockCursor { block_height },
                Repeat::Safe,
            )
        };
        let _: IgnoredAny = self.call(call).await?;
        Ok(())
    }

    /// The commit a branch or tag of the source with this unpinned
    /// `artifact_checksum` was resolved to recently, if any worker shared it.
    pub async fn pin(&self, key: &str) -> Result<Option<String>, ClientError> {
        let path = format!("/pins/{}", segment(key)?);
        match self.call::<SourcePin>(self.get(&path)).await {
            Ok(pin) => Ok(Some(pin.commit)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Shares a branch or tag resolved to `commit`; a PUT of a value: retried.
    pub async fn set_pin(&self, key: &str, commit: &str) -> Result<(), ClientError> {
        let call = Call {
            method: Method::PUT,
            ..self.post(
                &format!("/pins/{}", segment(key)?),
                &SourcePin {
                    commit: commit.to_owned(),
                },
                Repeat::Safe,
            )
        };
        let _: IgnoredAny = self.call(call).await?;
        Ok(())
    }

    /// Records the contract's settlement of a request. A repeat writes the
    /// same values again: retried.
    pub async fn settled(
        &self,
        request_id: u64,
        settled: &ExecutionSettled,
    ) -> Result<(), ClientError> {
        let path = format!("/executions/{request_id}/settled");
        let _: IgnoredAny = self.call(self.post(&path, settled, Repeat::Safe)).await?;
        Ok(())
    }

    pub async fn stats(&self) -> Result<CoordinatorStats, ClientError> {
        self.call(self.get("/public/stats")).await
    }

    /// `query` is the raw query string (`state=failed&limit=10`).
    pub async fn jobs(&self, query: &str) -> Result<JobsPage, ClientError> {
        self.call(self.get(&format!("/public/jobs?{query}"))).await
    }

    /// Every job of one request (at most one per job type, so one page).
    pub async fn jobs_for_request(&self, request_id: u64) -> Result<Vec<JobInfo>, ClientError> {
        let page = self.jobs(&format!("request_id={request_id}")).await?;
        Ok(page.jobs)
    }

    pub async fn workers(&self) -> Result<Vec<WorkerInfo>, ClientError> {
        self.call(self.get("/public/workers")).await
    }

    /// `query` is the raw query string (`account=alice.near&limit=10`).
    pub async fn requests(&self, query: &str) -> Result<RequestsPage, ClientError> {
        self.call(self.get(&format!("/public/requests?{query}")))
            .await
    }

    /// One request with its jobs and timeline; `None` when the coordinator
    /// does not know it.
    pub async fn request(&self, request_id: u64) -> Result<Option<RequestDetail>, ClientError> {
        match self
            .call(self.get(&format!("/public/requests/{request_id}")))
            .await
        {
            Ok(detail) => Ok(Some(detail)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn get(&self, path: &str) -> Call {
        Call {
            method: Method::GET,
            path: path.to_owned(),
            body: None,
            timeout: self.timeout,
            repeat: Repeat::Safe,
        }
    }

    fn post<B: Serialize>(&self, path: &str, body: &B, repeat: Repeat) -> Call {
        Call {
            method: Method::POST,
            path: path.to_owned(),
            body: Some(Body::json(body)),
            timeout: self.timeout,
            repeat,
        }
    }

    /// Sends with retries, then decodes a success as `T`.
    async fn call<T: DeserializeOwned>(&self, call: Call) -> Result<T, ClientError> {
        self.send(&call).await?.error_for_status()?.json()
    }

    /// Sends, retrying as the call's [`Repeat`] and the policy allow; the
    /// last response (of any status) or transport error.
    async fn send(&self, call: &Call) -> Result<RawResponse, ClientError> {
        let mut retried = 0;
        loop {
            let result = self.attempt(call).await;
            let failure = match &result {
                Ok(response) => Failure::from_status(
                    response.status.as_u16(),
                    response
                        .headers
                        .get(RETRY_AFTER)
                        .and_then(|v| v.to_str().ok()),
                ),
                Err(e) if e.is_connect() => Some(Failure::Connect),
                Err(_) => Some(Failure::MaybeActed),
            };
            let delay = failure.and_then(|f| self.retry.delay(call.repeat, f, retried));
            let Some(delay) = delay else {
                return result.map_err(|e| ClientError::transport(&e));
            };
            tracing::debug!(
                method = %call.method,
                path = %call.path,
                retried,
                ?delay,
                failure = ?failure,
                "retrying coordinator call"
            );
            tokio::time::sleep(delay).await;
            retried += 1;
        }
    }

    /// One try: the whole response read within the call's timeout.
    async fn attempt(&self, call: &Call) -> Result<RawResponse, reqwest::Error> {
        let url = format!("{}{}", self.base, call.path);
        let mut request = self
            .http
            .request(call.method.clone(), url)
            .timeout(call.timeout);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, body.content_type)
                // A copy per try: the request owns its body.
                .body(body.bytes.clone());
        }
        let response = request.send().await?;
        let status: StatusCode = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await?.to_vec();
        Ok(RawResponse {
            status,
            headers,
            body,
        })
    }
}

/// A batch's answer has one result per item sent.
fn check_count(answered: usize, sent: usize) -> Result<(), ClientError> {
    if answered == sent {
        Ok(())
    } else {
        Err(ClientError::Unexpected {
            status: 200,
            body: format!("{answered} results for {sent} items"),
        })
    }
}

/// One item of a batch's answer, as its single call would have returned it.
fn item_result<T>(
    status: u16,
    value: Option<T>,
    error: Option<ApiError>,
) -> Result<T, ClientError> {
    match (value, error) {
        (Some(value), None) if (200..300).contains(&status) => Ok(value),
        (_, Some(error)) => Err(ClientError::from_item(status, error)),
        _ => Err(ClientError::Unexpected {
            status,
            body: "a batch result with neither a value nor an error".into(),
        }),
    }
}
