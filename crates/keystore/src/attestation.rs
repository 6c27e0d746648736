//! Attestation checks for decrypt requests. Each scheme is a verifier
//! registered by its `type`; a request whose type has no verifier is refused
//! with a message naming the type. `none` (no evidence at all) is a
//! verifier like any other and is registered only on explicit opt-in.

use std::collections::BTreeMap;
use std::sync::Arc;

use outlayer_types::{Attestation, DecryptRequest};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttestationError {
    #[error(
        "attestation type \"none\" is not accepted (development only: start the keystore with --accept-attestation-none)"
    )]
    NoneNotAccepted,
    #[error("unsupported attestation type {kind:?} (accepted: {accepted})")]
    Unsupported { kind: String, accepted: String },
    #[error("{kind} attestation rejected: {reason}")]
    Rejected { kind: String, reason: String },
}

/// Checks one attestation scheme's evidence for a request. It runs before
/// the keystore reads anything from the chain, so it sees the request id
/// the evidence should be bound to and nothing the worker could claim
/// besides.
pub trait AttestationVerifier: Send + Sync {
    /// The `type` this verifier handles.
    fn kind(&self) -> &str;
    /// `Err(reason)` when the evidence does not vouch for this request.
    fn verify(&self, attestation: &Attestation, request: &DecryptRequest) -> Result<(), String>;
}

/// Accepts any request that says `{"type": "none"}`: development only.
pub struct NoneVerifier;

impl AttestationVerifier for NoneVerifier {
    fn kind(&self) -> &str {
        "none"
    }

    fn verify(&self, _: &Attestation, _: &DecryptRequest) -> Result<(), String> {
        Ok(())
    }
}

/// The verifiers a keystore accepts, by type.
#[derive(Clone, Default)]
pub struct Attestations {
    verifiers: BTreeMap<String, Arc<dyn AttestationVerifier>>,
}

impl std::fmt::Debug for Attestations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.verifiers.keys()).finish()
    }
}

impl Attestations {
    /// Accepts no attestation at all until verifiers are added.
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, verifier: Arc<dyn AttestationVerifier>) -> Self {
        self.verifiers.insert(verifier.kind().to_owned(), verifier);
        self
    }

    /// Adds [`NoneVerifier`]: requests need no evidence. Development only.
    pub fn accept_none(self) -> Self {
        self.with(Arc::new(NoneVerifier))
    }

    pub fn verify(&self, request: &DecryptRequest) -> Result<(), AttestationError> {
        let attestation = &request.attestation;
        let Some(verifier) = self.verifiers.get(&attestation.kind) else {
            if attestation.kind == "none" {
                return Err(AttestationError::NoneNotAccepted);
            }
            let accepted: Vec<&str> = self.verifiers.keys().map(String::as_str).collect();
            return Err(AttestationError::Unsupported {
                kind: attestation.kind.chars().take(64).collect(),
                accepted: if accepted.is_empty() {
                    "none configured".into()
                } else {
                    accepted.join(", ")
                },
            });
        };
        verifier
            .verify(attestation, request)
            .map_err(|reason| AttestationError::Rejected {
                kind: attestation.kind.clone(),
                reason,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(kind: &str) -> DecryptRequest {
        DecryptRequest {
            request_id: 1,
            attestation: Attestation {
                kind: kind.into(),
                evidence: None,
            },
        }
    }

    struct Picky;
    impl AttestationVerifier for Picky {
        fn kind(&self) -> &str {
            "picky"
        }
        fn verify(&self, a: &Attestation, _: &DecryptRequest) -> Result<(), String> {
            a.evidence
                .as_deref()
                .filter(|e| *e == "ok")
                .map(|_| ())
                .ok_or("bad quote".into())
        }
    }

    #[test]
    fn none_needs_opt_in_and_unknown_types_are_refused() {
        let strict = Attestations::new();
        assert_eq!(
            strict.verify(&request("none")),
            Err(AttestationError::NoneNotAccepted)
        );
        let err = strict.verify(&request("tdx")).unwrap_err();
        assert!(
            err.to_string()
                .contains("unsupported attestation type \"tdx\""),
            "{err}"
        );

        let dev = Attestations::new().accept_none();
        assert_eq!(dev.verify(&request("none")), Ok(()));
        assert!(
            dev.verify(&request("sgx"))
                .unwrap_err()
                .to_string()
                .contains("accepted: none")
        );

        let picky = Attestations::new().with(Arc::new(Picky));
        let mut req = request("picky");
        assert!(matches!(
            picky.verify(&req),
            Err(AttestationError::Rejected { .. })
        ));
        req.attestation.evidence = Some("ok".into());
        assert_eq!(picky.verify(&req), Ok(()));
    }
}
