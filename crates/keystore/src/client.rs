//! The keystore's HTTP client, for workers (decrypt) and the CLI (pubkey).

use std::time::Duration;

use outlayer_types::{
    Attestation, DecryptRequest, DecryptResponse, KeystoreErrorBody, PubkeyRequest, PubkeyResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("keystore unreachable: {0}")]
    Transport(String),
    /// The keystore refused, with its error code (`access_denied`, ...).
    #[error("keystore refused ({}): {}", .body.error, .body.message)]
    Refused {
        status: u16,
        body: KeystoreErrorBody,
    },
    #[error("keystore answered HTTP {status} with an unexpected body")]
    Unexpected { status: u16 },
}

impl ClientError {
    /// The keystore's error code, when it answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Refused { body, .. } => Some(&body.error),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct KeystoreClient {
    base_url: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl KeystoreClient {
    /// `base_url` like `http://127.0.0.1:8081`; `token` is sent as a bearer
    /// token. Each call gives up after `timeout`.
    pub fn new(
        base_url: impl Into<String>,
        token: Option<String>,
        timeout: Duration,
    ) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        Ok(Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            token,
            http,
        })
    }

    pub async fn health(&self) -> Result<(), ClientError> {
        let response = self
            .http
            .get(format!("{}/health", self.base_url))
            .send()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(ClientError::Unexpected {
                status: response.status().as_u16(),
            })
        }
    }

    pub async fn pubkey(&self, request: &PubkeyRequest) -> Result<PubkeyResponse, ClientError> {
        self.post("pubkey", request).await
    }

    /// `POST /decrypt`: the secrets of pending request `request.request_id`.
    /// The keystore takes the owner, profile, caller and accessor from the
    /// request on chain.
    pub async fn decrypt(&self, request: &DecryptRequest) -> Result<DecryptResponse, ClientError> {
        self.post("decrypt", request).await
    }

    /// [`decrypt`](Self::decrypt) for pending request `request_id`, with
    /// `attestation` as evidence of who asks.
    pub async fn decrypt_for_request(
        &self,
        request_id: u64,
        attestation: Attestation,
    ) -> Result<DecryptResponse, ClientError> {
        self.decrypt(&DecryptRequest {
            request_id,
            attestation,
        })
        .await
    }

    async fn post<B: Serialize, R: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<R, ClientError> {
        let body = serde_json::to_vec(body).expect("request types serialise");
        let mut request = self
            .http
            .post(format!("{}/{path}", self.base_url))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        if (200..300).contains(&status) {
            return serde_json::from_slice(&bytes).map_err(|_| ClientError::Unexpected { status });
        }
        match serde_json::from_slice::<KeystoreErrorBody>(&bytes) {
            Ok(body) => Err(ClientError::Refused { status, body }),
            Err(_) => Err(ClientError::Unexpected { status }),
        }
    }
}
