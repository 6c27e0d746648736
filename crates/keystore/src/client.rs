//! The keystore's HTTP client, for workers (decrypt) and the CLI (pubkey).

use std::time::Duration;

use outlayer_types::{
    Attestation, DecryptRequest, DecryptResponse, KeystoreErrorBody, PubkeyRequest, PubkeyResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// How often [`KeystoreClient::decrypt`] asks at most.
pub const DECRYPT_ATTEMPTS: usize = DECRYPT_BACKOFF.len() + 1;
/// The waits between its tries.
pub const DECRYPT_BACKOFF: [Duration; 2] = [Duration::from_millis(200), Duration::from_millis(400)];

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

    /// Worth asking again: the keystore was not reached, or it could not
    /// read the chain (`chain_unavailable`, HTTP 503). Refusals are final.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport(_) => true,
            Self::Refused { status, body } => *status == 503 && body.error == "chain_unavailable",
            Self::Unexpected { .. } => false,
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
    /// request on chain. Asked up to [`DECRYPT_ATTEMPTS`] times while the
    /// keystore is unreachable or answers `chain_unavailable` (waiting
    /// [`DECRYPT_BACKOFF`] between tries); every other answer is final.
    pub async fn decrypt(&self, request: &DecryptRequest) -> Result<DecryptResponse, ClientError> {
        let mut backoff = DECRYPT_BACKOFF.iter();
        loop {
            let outcome = self.post("decrypt", request).await;
            match (&outcome, backoff.next()) {
                (Err(error), Some(wait)) if error.is_transient() => {
                    tracing::debug!(
                        request_id = request.request_id,
                        %error,
                        "keystore decrypt failed, asking again in {wait:?}"
                    );
                    tokio::time::sleep(*wait).await;
                }
                _ => return outcome,
            }
        }
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    use axum::http::StatusCode;

    use super::*;

    /// A stand-in keystore whose n-th `/decrypt` gets `answers[n]` (the last
    /// one from then on): its URL and how often it was asked.
    async fn scripted(answers: Vec<(u16, &'static str)>) -> (String, Arc<AtomicUsize>) {
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let answers = Arc::new(answers);
        let app = axum::Router::new().route(
            "/decrypt",
            axum::routing::post(move |body: axum::body::Bytes| {
                let (counter, answers) = (counter.clone(), answers.clone());
                async move {
                    let request: DecryptRequest = serde_json::from_slice(&body).unwrap();
                    assert_eq!(request.request_id, 42);
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    let (status, body) = answers[n.min(answers.len() - 1)];
                    (StatusCode::from_u16(status).unwrap(), body)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        (url, hits)
    }

    fn client(url: &str) -> KeystoreClient {
        KeystoreClient::new(url, Some("t".into()), Duration::from_secs(5)).unwrap()
    }

    const CHAIN_UNAVAILABLE: &str = r#"{"error":"chain_unavailable","message":"access denied: chain state could not be read (x)"}"#;
    const GRANTED: &str = r#"{"secrets":{"K":"v"}}"#;

    #[tokio::test]
    async fn chain_unavailable_is_asked_again_with_backoff() {
        let (url, hits) = scripted(vec![
            (503, CHAIN_UNAVAILABLE),
            (503, CHAIN_UNAVAILABLE),
            (200, GRANTED),
        ])
        .await;
        let started = Instant::now();
        let response = client(&url)
            .decrypt_for_request(42, Attestation::none())
            .await
            .unwrap();
        assert_eq!(response.secrets["K"], "v");
        assert_eq!(hits.load(Ordering::SeqCst), 3);
        assert!(started.elapsed() >= Duration::from_millis(600));
    }

    #[tokio::test]
    async fn retries_are_bounded() {
        let (url, hits) = scripted(vec![(503, CHAIN_UNAVAILABLE)]).await;
        let err = client(&url)
            .decrypt_for_request(42, Attestation::none())
            .await
            .unwrap_err();
        assert!(
            matches!(err, ClientError::Refused { status: 503, .. }),
            "{err:?}"
        );
        assert_eq!(err.code(), Some("chain_unavailable"));
        assert_eq!(hits.load(Ordering::SeqCst), DECRYPT_ATTEMPTS);
        assert_eq!(DECRYPT_ATTEMPTS, 3);
    }

    #[tokio::test]
    async fn refusals_and_other_failures_are_final() {
        for (status, body) in [
            (
                409,
                r#"{"error":"request_not_pending","message":"request 42 is not pending: it was already answered"}"#,
            ),
            (
                403,
                r#"{"error":"access_denied","message":"denied","condition":"Whitelist (1 accounts)"}"#,
            ),
            (401, r#"{"error":"unauthorized","message":"no"}"#),
            (500, r#"{"error":"internal","message":"internal error"}"#),
            // 503 without chain_unavailable (the keystore's own timeout).
            (503, r#"{"error":"internal","message":"x"}"#),
            (503, "request timed out"),
        ] {
            let (url, hits) = scripted(vec![(status, body)]).await;
            let err = client(&url)
                .decrypt_for_request(42, Attestation::none())
                .await
                .unwrap_err();
            assert!(!err.is_transient(), "{err:?}");
            assert_eq!(hits.load(Ordering::SeqCst), 1, "{status} {body}");
        }
    }

    #[tokio::test]
    async fn an_unreachable_keystore_is_asked_three_times() {
        // A port nobody listens on any more.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let started = Instant::now();
        let err = client(&url)
            .decrypt_for_request(42, Attestation::none())
            .await
            .unwrap_err();
        assert!(matches!(err, ClientError::Transport(_)), "{err:?}");
        assert!(
            started.elapsed() >= Duration::from_millis(600),
            "waited {:?}",
            started.elapsed()
        );
    }
}
