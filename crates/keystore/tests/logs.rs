//! No secret material in any log line: every log record of a session that
//! hands out keys, decrypts and refuses is captured (all targets, TRACE) and
//! searched for plaintext values, the master secret and derived keys.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use outlayer_keystore::crypto::derive_secret_bytes;
use outlayer_types::{AccessCondition, PubkeyRequest};
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
    h.chain.add_account("bob.near", 1);
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
    let granted = client
        .decrypt(&decrypt_request(
            &app_repo(),
            "default",
            "alice.near",
            "bob.near",
        ))
        .await
        .unwrap();
    assert_eq!(granted.secrets["API_KEY"], VALUE);
    for profile in ["private", "reserved", "missing"] {
        client
            .decrypt(&decrypt_request(
                &app_repo(),
                profile,
                "alice.near",
                "bob.near",
            ))
            .await
            .unwrap_err();
    }
    h.client_with(Some("wrong"))
        .decrypt(&decrypt_request(
            &app_repo(),
            "default",
            "alice.near",
            "bob.near",
        ))
        .await
        .unwrap_err();
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("decrypt granted"), "capture works:\n{logs}");
    assert!(logs.contains("decrypt refused"), "{logs}");
    let seed = "repo:github.com/alice/app:alice.near";
    let derived = hex::encode(*derive_secret_bytes(&h.master, seed));
    for forbidden in [VALUE, CANDIDATE, MASTER_HEX, &derived, TOKEN] {
        assert!(
            !logs.contains(forbidden),
            "log contains {forbidden:?}:\n{logs}"
        );
    }
}
