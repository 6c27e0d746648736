//! The HTTP service. `app` builds the router (tests drive it directly);
//! `serve` runs it on a listener until shutdown.
//!
//! - `GET /health`: liveness, no auth.
//! - `POST /pubkey` (bearer): the public key for an accessor and owner,
//!   after checking candidate secrets if the request carries them.
//! - `POST /decrypt` (bearer + attestation): the body names a request id
//!   only. The keystore reads that pending request from the contract (at
//!   final) and takes everything from it: the owner and profile from its
//!   `secrets_ref`, the caller from its signer, the accessors from its code
//!   source (a branch's own secrets before the repository's). It reads the
//!   first stored record, checks its access condition for the caller and
//!   decrypts.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header::AUTHORIZATION};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use outlayer_near_client::{BlockReference, Error as NearError, Finality, NearRpc};
use outlayer_types::{
    Accessor, AccountId, DecryptRequest, DecryptResponse, ExecutionRequest, PubkeyRequest,
    PubkeyResponse, RequestView, SecretsRecord,
};
use serde::de::DeserializeOwned;
use serde_json::json;
use tower_http::timeout::TimeoutLayer;

use crate::conditions::{self, CheckLimits, Denial};
use crate::crypto::AccessorKey;
use crate::{Attestations, BearerTokens, Error, MasterSecret, Result, SecretMap};

/// Request bodies are small JSON documents; candidate secrets are bounded
/// at `MAX_SECRETS_PLAINTEXT_BYTES` by [`SecretMap`].
const MAX_BODY_BYTES: usize = 256 * 1024;
/// Chain reads of one decrypt, each bounded by the check deadline:
/// `get_request`, `get_secrets` for at most two accessors (a branch's, then
/// the repository's), the access check.
const DECRYPT_READ_PHASES: u32 = 4;
/// Longest a profile name may be (the contract allows 1–64).
const MAX_PROFILE_LEN: usize = 64;

/// Everything the service needs, resolved from configuration.
#[derive(Debug)]
pub struct KeystoreSettings {
    pub master: MasterSecret,
    pub near_rpc_url: String,
    pub contract_id: AccountId,
    pub tokens: BearerTokens,
    pub attestations: Attestations,
    pub limits: CheckLimits,
}

/// The service state shared by all requests.
#[derive(Clone)]
pub struct Keystore {
    inner: Arc<Inner>,
}

struct Inner {
    master: MasterSecret,
    chain: NearRpc,
    contract_id: AccountId,
    tokens: BearerTokens,
    attestations: Attestations,
    limits: CheckLimits,
}

impl Keystore {
    pub fn new(settings: KeystoreSettings) -> Result<Self> {
        // Each read gets at most the whole check's budget.
        let chain = NearRpc::new(settings.near_rpc_url, settings.limits.deadline)
            .map_err(|e| Error::Config(e.to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                master: settings.master,
                chain,
                contract_id: settings.contract_id,
                tokens: settings.tokens,
                attestations: settings.attestations,
                limits: settings.limits,
            }),
        })
    }

    /// The key for a normalised accessor and owner.
    fn key(&self, accessor: &Accessor, owner: &AccountId) -> AccessorKey {
        AccessorKey::derive(&self.inner.master, &accessor.key_seed(owner))
    }
}

/// The router, with body-size and time bounds.
pub fn app(keystore: Keystore) -> Router {
    // Longer than the request read, the record reads and the access check
    // (each bounded by the deadline), so their own timeouts answer first,
    // with a clear error.
    let request_timeout =
        keystore.inner.limits.deadline * DECRYPT_READ_PHASES + Duration::from_secs(5);
    Router::new()
        .route("/health", get(health))
        .route("/pubkey", post(pubkey))
        .route("/decrypt", post(decrypt))
        .fallback(outlayer_http::no_such_route)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            request_timeout,
        ))
        // 405s, body-limit rejections and timeouts in the one error shape.
        .layer(axum::middleware::from_fn(outlayer_http::json_errors))
        .with_state(keystore)
}

/// Serves `app` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    keystore: Keystore,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    tracing::info!(addr = %listener.local_addr()?, "keystore listening");
    axum::serve(listener, app(keystore))
        .with_graceful_shutdown(shutdown)
        .await
}

/// A keystore serving in the background (`outlayer dev`, tests).
pub struct Running {
    pub addr: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets requests in flight finish.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.server.await;
    }
}

/// Serves `keystore` on `listen` in the background.
pub async fn spawn(listen: std::net::SocketAddr, keystore: Keystore) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, keystore, async {
        stopped.await.ok();
    }));
    Ok(Running { addr, stop, server })
}

async fn health() -> impl IntoResponse {
    axum::Json(json!({"status": "ok"}))
}

async fn pubkey(
    State(keystore): State<Keystore>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::Json<PubkeyResponse>> {
    authenticate(&keystore, &headers)?;
    let request: PubkeyRequest = parse_body(&body)?;
    let accessor = normalize(&request.accessor)?;
    if let Some(candidate) = request.secrets {
        let checked = SecretMap::from_value(candidate)
            .map_err(|e| Error::BadRequest(format!("secrets: {e}")))?;
        tracing::debug!(count = checked.len(), "candidate secrets are valid");
    }
    let pubkey = keystore.key(&accessor, &request.owner).public_hex();
    tracing::info!(owner = %request.owner, accessor = %accessor_label(&accessor), "pubkey");
    Ok(axum::Json(PubkeyResponse { pubkey }))
}

async fn decrypt(
    State(keystore): State<Keystore>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::Json<DecryptResponse>> {
    authenticate(&keystore, &headers)?;
    let mut audit = Audit::default();
    let outcome = decrypt_checked(&keystore, &body, &mut audit).await;
    // One log line per request, with names and codes only: error messages
    // are built to carry no secret material, and values never reach here.
    match outcome {
        Ok(secrets) => {
            tracing::info!(
                request_id = %shown(&audit.request_id),
                owner = %shown(&audit.owner),
                profile = %shown(&audit.profile),
                caller = %shown(&audit.caller),
                accessor = %shown(&audit.accessor),
                code = %"ok",
                count = secrets.len(),
                "decrypt granted"
            );
            Ok(axum::Json(DecryptResponse {
                secrets: secrets.into_inner(),
            }))
        }
        Err(error) => {
            tracing::info!(
                request_id = %shown(&audit.request_id),
                owner = %shown(&audit.owner),
                profile = %shown(&audit.profile),
                caller = %shown(&audit.caller),
                accessor = %shown(&audit.accessor),
                code = %error.code(),
                %error,
                "decrypt refused"
            );
            Err(error)
        }
    }
}

/// What one decryption is about, filled in as it becomes known and logged
/// once when it ends. Public names only.
#[derive(Default)]
struct Audit {
    request_id: Option<u64>,
    owner: Option<AccountId>,
    profile: Option<String>,
    caller: Option<AccountId>,
    /// The accessor whose record was used; before one is found (or when
    /// none exists), the candidates tried, most specific first.
    accessor: Option<String>,
}

fn shown<T: std::fmt::Display>(value: &Option<T>) -> String {
    value
        .as_ref()
        .map_or_else(|| "-".to_owned(), ToString::to_string)
}

async fn decrypt_checked(keystore: &Keystore, body: &[u8], audit: &mut Audit) -> Result<SecretMap> {
    let inner = &keystore.inner;
    let request: DecryptRequest = parse_body(body)?;
    let request_id = request.request_id;
    audit.request_id = Some(request_id);
    inner
        .attestations
        .verify(&request)
        .map_err(|e| Error::AttestationRefused(e.to_string()))?;

    // Who asks, for whose secrets and for which code: all from the request
    // as the contract holds it, nothing from the worker.
    let pending = fetch_request(keystore, request_id).await?;
    let caller = pending.context.sender_id;
    audit.caller = Some(caller.clone());
    let secrets_ref = pending
        .secrets_ref
        .ok_or_else(|| Error::BadRequest(format!("request {request_id} names no secrets")))?;
    let (owner, profile) = (secrets_ref.account_id, secrets_ref.profile);
    audit.owner = Some(owner.clone());
    audit.profile = Some(profile.clone());
    if profile.is_empty() || profile.len() > MAX_PROFILE_LEN {
        return Err(Error::BadRequest(format!(
            "request {request_id}: profile must be 1 to {MAX_PROFILE_LEN} characters"
        )));
    }
    let candidates = pending
        .code_source
        .secrets_accessors()
        .iter()
        .map(|accessor| {
            accessor
                .normalized()
                .map_err(|e| Error::BadRequest(format!("request {request_id}: accessor: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    audit.accessor = Some(
        candidates
            .iter()
            .map(accessor_label)
            .collect::<Vec<_>>()
            .join(","),
    );

    // The most specific accessor with a record wins.
    let mut found = None;
    for accessor in candidates {
        if let Some(record) = fetch_record(keystore, &accessor, &profile, &owner).await? {
            found = Some((accessor, record));
            break;
        }
    }
    let Some((accessor, record)) = found else {
        return Err(Error::NotFound {
            profile,
            owner: owner.to_string(),
        });
    };
    audit.accessor = Some(accessor_label(&accessor));

    conditions::check(&record.access, &caller, &inner.chain, inner.limits)
        .await
        .map_err(|denial| denial_error(denial, &caller))?;
    let blob = STANDARD
        .decode(record.encrypted_secrets_base64.trim())
        .map_err(|_| Error::BadCiphertext("stored blob is not valid base64".into()))?;
    let plaintext = keystore
        .key(&accessor, &owner)
        .decrypt(&blob)
        .map_err(|e| Error::BadCiphertext(e.to_string()))?;
    SecretMap::parse(&plaintext)
        .map_err(|e| Error::BadCiphertext(format!("decrypted secrets are invalid: {e}")))
}

/// The pending request `request_id` as the contract holds it at final.
/// Unknown, settled or already resolved requests are refused: their
/// secrets are no longer anyone's to read.
async fn fetch_request(keystore: &Keystore, request_id: u64) -> Result<ExecutionRequest> {
    let inner = &keystore.inner;
    let args = json!({ "request_id": request_id });
    let view = match read_view::<Option<RequestView>>(keystore, "get_request", &args).await {
        Ok(view) => view,
        // `get_request` takes nothing a caller chose but a number: a failure
        // means the configured contract is not OutLayer's.
        Err(ReadError::Near(e @ NearError::ContractExecution { .. })) => {
            return Err(Error::Internal(format!(
                "get_request on {}: {e}",
                inner.contract_id
            )));
        }
        Err(e) => {
            return Err(e.into_error(keystore, "get_request", &format!("request {request_id}")));
        }
    };
    let Some(view) = view else {
        return Err(Error::RequestNotPending {
            request_id,
            reason: "it is unknown or already settled",
        });
    };
    let context = &view.request.context;
    if context.request_id != request_id || context.contract_id != inner.contract_id {
        return Err(Error::Internal(format!(
            "get_request({request_id}) on {} returned request {} of {}",
            inner.contract_id, context.request_id, context.contract_id
        )));
    }
    if view.resolved {
        return Err(Error::RequestNotPending {
            request_id,
            reason: "it was already answered",
        });
    }
    Ok(view.request)
}

/// The record the contract holds for (accessor, profile, owner), if any; a
/// chain failure is an error, never an allow.
async fn fetch_record(
    keystore: &Keystore,
    accessor: &Accessor,
    profile: &str,
    owner: &AccountId,
) -> Result<Option<SecretsRecord>> {
    let args = json!({"accessor": accessor, "profile": profile, "owner": owner});
    let record = match read_view::<Option<SecretsRecord>>(keystore, "get_secrets", &args).await {
        Ok(Some(record)) => record,
        Ok(None) => return Ok(None),
        Err(ReadError::Near(e @ NearError::ContractExecution { .. })) => {
            return Err(Error::BadRequest(format!(
                "the contract refused the secrets lookup: {e}"
            )));
        }
        Err(e) => return Err(e.into_error(keystore, "get_secrets", "the secrets record")),
    };
    // The contract keys records by these; a mismatch means the view is not
    // the contract we think it is, so refuse rather than decrypt.
    let stored_accessor = record.accessor.normalized().ok();
    if stored_accessor.as_ref() != Some(accessor)
        || &record.owner != owner
        || record.profile != profile
    {
        return Err(Error::Internal(
            "get_secrets returned a record for a different accessor, owner or profile".into(),
        ));
    }
    Ok(Some(record))
}

/// Why a view of the configured contract gave no answer.
enum ReadError {
    Near(NearError),
    TimedOut,
}

impl ReadError {
    /// The refusal for a failed read of `what` (by `method`).
    fn into_error(self, keystore: &Keystore, method: &str, what: &str) -> Error {
        match self {
            Self::Near(
                e @ (NearError::UnknownAccount { .. }
                | NearError::NoContractCode { .. }
                | NearError::Decode { .. }),
            ) => {
                // The configured contract is not OutLayer's: an operator problem.
                Error::Internal(format!("{method} on {}: {e}", keystore.inner.contract_id))
            }
            Self::Near(e) => Error::ChainUnavailable(format!("reading {what}: {e}")),
            Self::TimedOut => Error::ChainUnavailable(format!("reading {what} timed out")),
        }
    }
}

/// One view call on the configured contract at `finality: final`, bounded
/// by the check deadline.
async fn read_view<R: DeserializeOwned>(
    keystore: &Keystore,
    method: &str,
    args: &serde_json::Value,
) -> std::result::Result<R, ReadError> {
    let inner = &keystore.inner;
    let block = BlockReference::Finality(Finality::Final);
    let read = inner
        .chain
        .view_call::<_, R>(&inner.contract_id, method, args, &block);
    match tokio::time::timeout(inner.limits.deadline, read).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(ReadError::Near(e)),
        Err(_) => Err(ReadError::TimedOut),
    }
}

fn denial_error(denial: Denial, caller: &AccountId) -> Error {
    match denial {
        Denial::NotMet(condition) => Error::AccessDenied {
            condition,
            caller: caller.to_string(),
            detail: "does not hold".into(),
        },
        Denial::Unverifiable { condition, reason } => Error::AccessDenied {
            condition,
            caller: caller.to_string(),
            detail: format!("could not be checked: {reason}"),
        },
        Denial::Chain(reason) => Error::ChainUnavailable(reason),
        Denial::Invalid(reason) => Error::InvalidCondition(reason),
    }
}

fn authenticate(keystore: &Keystore, headers: &HeaderMap) -> Result<()> {
    let header = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    keystore.inner.tokens.check(header).inspect_err(|_| {
        tracing::warn!("request with a missing or unknown bearer token");
    })
}

fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| Error::BadRequest(format!("invalid request: {e}")))
}

fn normalize(accessor: &Accessor) -> Result<Accessor> {
    accessor
        .normalized()
        .map_err(|e| Error::BadRequest(format!("accessor: {e}")))
}

/// A log label for an accessor (public data: repositories and hashes).
fn accessor_label(accessor: &Accessor) -> String {
    match accessor {
        Accessor::Repo { repo, branch: None } => format!("repo:{repo}"),
        Accessor::Repo {
            repo,
            branch: Some(branch),
        } => format!("repo:{repo}@{branch}"),
        Accessor::WasmHash { hash } => format!("wasm:{hash}"),
    }
}
