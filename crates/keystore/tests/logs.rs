//! No secret material in any log line: every log record of a session that
//! hands out keys, decrypts and refuses is captured (all targets, TRACE) and
//! searched for plaintext values, the master secret and derived keys. Each
//! decrypt leaves exactly one line naming the request, owner, profile,
//! caller, accessor and outcome code.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use outlayer_keystore::crypto::derive_secret_bytes;
use outlayer_types::{AccessCondition, Attestation, PubkeyRequest};
use serde_json::json;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Self;
    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

const VALUE: &str = "sk-live-0123456789abcdef";
const CANDIDATE: &str = "candidate-value-never-logged";

#[tokio::test]
async fn logs_carry_no_secret_material() {
    let capture = Capture::default();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(capture.clone())
        .with_ansi(false)
        .init();

    let h = Harness::dev().await;
    h.store(
        &app_repo(),
        "default",
        "alice.near",
        &format!(r#"{{"API_KEY":"{VALUE}"}}"#),
        AccessCondition::AllowAll,
    );
    let denied = AccessCondition::Whitelist {
        accounts: vec![account("carol.near")],
    };
    h.store(
        &app_repo(),
        "private",
        "alice.near",
        &format!(r#"{{"API_KEY":"{VALUE}"}}"#),
        denied,
    );
    h.store(
        &app_repo(),
        "reserved",
        "alice.near",
        &format!(r#"{{"NEAR_X":"{VALUE}"}}"#),
        AccessCondition::AllowAll,
    );
    let client = h.client();

    client
        .pubkey(&PubkeyRequest {
            accessor: app_repo(),
            owner: account("alice.near"),
            secrets: Some(json!({"GOOD": CANDIDATE})),
        })
        .await
        .unwrap();
    client
        .pubkey(&PubkeyRequest {
            accessor: app_repo(),
            owner: account("alice.near"),
            secrets: Some(json!({"NEAR_SENDER_ID": CANDIDATE})),
        })
        .await
        .unwrap_err();
    let granted_id = h.submit(&app_at("main"), "default", "alice.near", "bob.near");
    let granted = client
        .decrypt_for_request(granted_id, Attestation::none())
        .await
        .unwrap();
    assert_eq!(granted.secrets["API_KEY"], VALUE);
    // (request id, outcome code, accessor label) for each refusal.
    let mut expected = vec![(granted_id, "ok", "repo:github.com/alice/app".to_owned())];
    for (profile, outcome) in [
        ("private", "access_denied"),
        ("reserved", "bad_ciphertext"),
        ("missing", "not_found"),
    ] {
        let id = h.submit_app(profile, "alice.near", "bob.near");
        let err = client
            .decrypt_for_request(id, Attestation::none())
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(outcome));
        expected.push((id, outcome, "repo:github.com/alice/app".to_owned()));
    }
    let resolved = h.submit_app("default", "alice.near", "bob.near");
    h.resolve(resolved);
    for id in [resolved, 999] {
        client
            .decrypt_for_request(id, Attestation::none())
            .await
            .unwrap_err();
    }
    h.client_with(Some("wrong"))
        .decrypt_for_request(granted_id, Attestation::none())
        .await
        .unwrap_err();

    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    let decrypt_lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("decrypt granted") || l.contains("decrypt refused"))
        .collect();
    // One line per authenticated decrypt (the wrong token gets a warning
    // before any request is read).
    assert_eq!(decrypt_lines.len(), 6, "{logs}");
    assert!(logs.contains("missing or unknown bearer token"), "{logs}");
    for (id, outcome, accessor) in &expected {
        let lines: Vec<&&str> = decrypt_lines
            .iter()
            .filter(|l| l.contains(&format!("request_id={id} ")))
            .collect();
        assert_eq!(lines.len(), 1, "one line for request {id}:\n{logs}");
        let line = lines[0];
        for field in [
            "owner=alice.near".to_owned(),
            "caller=bob.near".to_owned(),
            format!("accessor={accessor} "),
            format!("code={outcome}"),
        ] {
            assert!(line.contains(&field), "{field} in {line}");
        }
        let verdict = if *outcome == "ok" {
            "decrypt granted"
        } else {
            "decrypt refused"
        };
        assert!(line.contains(verdict), "{line}");
    }
    // Refused before the request named anyone: the id and the code only.
    let line = decrypt_lines
        .iter()
        .find(|l| l.contains(&format!("request_id={resolved} ")))
        .unwrap();
    assert!(
        line.contains("code=request_not_pending") && line.contains("owner=- profile=- caller=-"),
        "{line}"
    );
    let line = decrypt_lines
        .iter()
        .find(|l| l.contains("request_id=999 "))
        .unwrap();
    assert!(line.contains("code=request_not_pending"), "{line}");

    let seed = "repo:github.com/alice/app:alice.near";
    let derived = hex::encode(*derive_secret_bytes(&h.master, seed));
    let branch_seed = "repo:github.com/alice/app:alice.near:main";
    let branch_derived = hex::encode(*derive_secret_bytes(&h.master, branch_seed));
    for forbidden in [
        VALUE,
        CANDIDATE,
        MASTER_HEX,
        &derived,
        &branch_derived,
        TOKEN,
    ] {
        assert!(
            !logs.contains(forbidden),
            "log contains {forbidden:?}:\n{logs}"
        );
    }
}
