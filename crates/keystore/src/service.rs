//! The HTTP service. `app` builds the router (tests drive it directly);
//! `serve` runs it on a listener until shutdown.
//!
//! - `GET /health`: liveness, no auth.
//! - `POST /pubkey` (bearer): the public key for an accessor and owner,
//!   after checking candidate secrets if the request carries them.
//! - `POST /decrypt` (bearer + attestation): reads the stored record from
//!   the contract, checks its access condition for the caller, decrypts.

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
use outlayer_near_client::{BlockReference, Error as NearError, NearRpc};
use outlayer_types::{
    Accessor, AccountId, DecryptRequest, DecryptResponse, PubkeyRequest, PubkeyResponse,
    SecretsRecord,
};
use serde::de::DeserializeOwned;
use serde_json::json;
use tower_http::timeout::TimeoutLayer;

use crate::conditions::{self, CheckLimits, Denial};
use crate::crypto::AccessorKey;
use crate::{Attestations, BearerTokens, Error, MasterSecret, Result, SecretMap};

/// Request bodies are small JSON documents; candidate secrets are bounded
/// at 64 KiB by [`SecretMap`].
const MAX_BODY_BYTES: usize = 256 * 1024;
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
    // Longer than the record read plus the access check (each bounded by
    // the deadline), so their own timeouts answer first, with a clear error.
    let request_timeout = keystore.inner.limits.deadline * 2 + Duration::from_secs(5);
    Router::new()
        .route("/health", get(health))
        .route("/pubkey", post(pubkey))
        .route("/decrypt", post(decrypt))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            request_timeout,
        ))
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
    let request: DecryptRequest = parse_body(&body)?;
    let span = tracing::info_span!(
        "decrypt",
        owner = %request.owner,
        profile = %request.profile,
        caller = %request.caller,
        // Normalised: a repository URL may carry credentials.
        accessor = %request
            .accessor
            .normalized()
            .map(|a| accessor_label(&a))
            .unwrap_or_else(|_| "<invalid>".into()),
    );
    // One log line per request, with names and codes only: error messages
    // are built to carry no secret material, and values never reach here.
    match decrypt_checked(&keystore, &request).await {
        Ok(secrets) => {
            span.in_scope(|| tracing::info!(count = secrets.len(), "decrypt granted"));
            Ok(axum::Json(DecryptResponse {
                secrets: secrets.into_inner(),
            }))
        }
        Err(error) => {
            span.in_scope(|| tracing::info!(code = error.code(), %error, "decrypt refused"));
            Err(error)
        }
    }
}

async fn decrypt_checked(keystore: &Keystore, request: &DecryptRequest) -> Result<SecretMap> {
    let inner = &keystore.inner;
    inner
        .attestations
        .verify(request)
        .map_err(|e| Error::AttestationRefused(e.to_string()))?;
    let accessor = normalize(&request.accessor)?;
    if request.profile.is_empty() || request.profile.len() > MAX_PROFILE_LEN {
        return Err(Error::BadRequest(format!(
            "profile must be 1 to {MAX_PROFILE_LEN} characters"
        )));
    }
    let record = fetch_record(keystore, &accessor, request).await?;
    conditions::check(&record.access, &request.caller, &inner.chain, inner.limits)
        .await
        .map_err(|denial| denial_error(denial, &request.caller))?;
    let blob = STANDARD
        .decode(record.encrypted_secrets_base64.trim())
        .map_err(|_| Error::BadCiphertext("stored blob is not valid base64".into()))?;
    let plaintext = keystore
        .key(&accessor, &request.owner)
        .decrypt(&blob)
        .map_err(|e| Error::BadCiphertext(e.to_string()))?;
    SecretMap::parse(&plaintext)
        .map_err(|e| Error::BadCiphertext(format!("decrypted secrets are invalid: {e}")))
}

/// The record the contract holds for this request; a chain failure is an
/// error, never an allow.
async fn fetch_record(
    keystore: &Keystore,
    accessor: &Accessor,
    request: &DecryptRequest,
) -> Result<SecretsRecord> {
    let inner = &keystore.inner;
    let args = json!({"accessor": accessor, "profile": request.profile, "owner": request.owner});
    let block = BlockReference::default();
    let read = inner.chain.view_call::<_, Option<SecretsRecord>>(
        &inner.contract_id,
        "get_secrets",
        &args,
        &block,
    );
    let record = match tokio::time::timeout(inner.limits.deadline, read).await {
        Ok(Ok(Some(record))) => record,
        Ok(Ok(None)) => {
            return Err(Error::NotFound {
                profile: request.profile.clone(),
                owner: request.owner.to_string(),
            });
        }
        Ok(Err(e @ NearError::ContractExecution { .. })) => {
            return Err(Error::BadRequest(format!(
                "the contract refused the secrets lookup: {e}"
            )));
        }
        Ok(Err(
            e @ (NearError::UnknownAccount { .. }
            | NearError::NoContractCode { .. }
            | NearError::Decode { .. }),
        )) => {
            // The configured contract is not OutLayer's: an operator problem.
            return Err(Error::Internal(format!(
                "get_secrets on {}: {e}",
                inner.contract_id
            )));
        }
        Ok(Err(e)) => {
            return Err(Error::ChainUnavailable(format!(
                "reading the secrets record: {e}"
            )));
        }
        Err(_) => {
            return Err(Error::ChainUnavailable(
                "reading the secrets record timed out".into(),
            ));
        }
    };
    // The contract keys records by these; a mismatch means the view is not
    // the contract we think it is, so refuse rather than decrypt.
    let stored_accessor = record.accessor.normalized().ok();
    if stored_accessor.as_ref() != Some(accessor)
        || record.owner != request.owner
        || record.profile != request.profile
    {
        return Err(Error::Internal(
            "get_secrets returned a record for a different accessor, owner or profile".into(),
        ));
    }
    Ok(record)
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
