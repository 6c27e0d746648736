//! The keystore service over HTTP: auth, attestation, pubkey, decrypt and
//! its refusals, against a fake chain.

mod common;

use common::*;
use outlayer_keystore::crypto::AccessorKey;
use outlayer_keystore::{CheckLimits, ClientError};
use outlayer_types::{AccessCondition, Accessor, Attestation, PubkeyRequest};
use serde_json::json;

fn code(err: &ClientError) -> &str {
    err.code().unwrap_or("<no code>")
}

fn pubkey_request(accessor: Accessor, secrets: Option<serde_json::Value>) -> PubkeyRequest {
    PubkeyRequest {
        accessor,
        owner: account("alice.near"),
        secrets,
    }
}

#[tokio::test]
async fn health_needs_no_token() {
    let h = Harness::dev().await;
    h.client_with(None).health().await.unwrap();
}

#[tokio::test]
async fn pubkey_is_the_derived_key_of_the_normalised_accessor() {
    let h = Harness::dev().await;
    let client = h.client();
    let spelled = Accessor::Repo {
        repo: "https://github.com/Alice/App.git".into(),
        branch: None,
    };
    let got = client.pubkey(&pubkey_request(spelled, None)).await.unwrap();
    let expected = AccessorKey::derive(&h.master, "repo:github.com/alice/app:alice.near");
    assert_eq!(got.pubkey, expected.public_hex());
    let branch = Accessor::Repo {
        repo: "alice/app".into(),
        branch: Some("main".into()),
    };
    let other = client.pubkey(&pubkey_request(branch, None)).await.unwrap();
    assert_ne!(other.pubkey, got.pubkey, "a branch has its own key");

    let valid = json!({"API_KEY": "x", "OTHER": "y"});
    client
        .pubkey(&pubkey_request(app_repo(), Some(valid)))
        .await
        .unwrap();
}

#[tokio::test]
async fn pubkey_refuses_bad_accessors_and_reserved_names() {
    let h = Harness::dev().await;
    let client = h.client();
    let bad_hash = Accessor::WasmHash { hash: "abc".into() };
    let err = client
        .pubkey(&pubkey_request(bad_hash, None))
        .await
        .unwrap_err();
    assert_eq!(code(&err), "bad_request");

    for (secrets, needle) in [
        (json!({"NEAR_SENDER_ID": "spoof"}), "NEAR_SENDER_ID"),
        (json!({"OUTLAYER_EXECUTION_TYPE": "x"}), "reserved"),
        (json!({"TZ": "Europe/Paris"}), "reserved"),
        (
            json!({"1BAD": "x"}),
            "not a valid environment variable name",
        ),
        (json!({"A": 1}), "must be a string"),
        (json!(["A"]), "JSON object"),
    ] {
        let err = client
            .pubkey(&pubkey_request(app_repo(), Some(secrets.clone())))
            .await
            .unwrap_err();
        assert_eq!(code(&err), "bad_request", "{secrets}");
        assert!(err.to_string().contains(needle), "{secrets}: {err}");
        assert!(!err.to_string().contains("spoof") && !err.to_string().contains("Paris"));
    }
}

#[tokio::test]
async fn tokens_are_required_and_checked() {
    let h = Harness::dev().await;
    h.store(
        &app_repo(),
        "default",
        "alice.near",
        r#"{"K":"v"}"#,
        AccessCondition::AllowAll,
    );
    let request = decrypt_request(&app_repo(), "default", "alice.near", "bob.near");
    for token in [None, Some("wrong"), Some("")] {
        let client = h.client_with(token);
        let err = client.decrypt(&request).await.unwrap_err();
        assert!(
            matches!(err, ClientError::Refused { status: 401, .. }),
            "{token:?}: {err:?}"
        );
        assert_eq!(code(&err), "unauthorized");
        let err = client
            .pubkey(&pubkey_request(app_repo(), None))
            .await
            .unwrap_err();
        assert_eq!(code(&err), "unauthorized");
    }
    // A raw header without the Bearer scheme is refused too.
    let response = reqwest::Client::new()
        .post(format!("{}/decrypt", h.url))
        .header("authorization", TOKEN)
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&request).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn attestation_none_needs_opt_in_and_unknown_types_are_refused() {
    let strict = Harness::start(false, CheckLimits::default()).await;
    strict.store(
        &app_repo(),
        "default",
        "alice.near",
        r#"{"K":"v"}"#,
        AccessCondition::AllowAll,
    );
    let mut request = decrypt_request(&app_repo(), "default", "alice.near", "bob.near");
    let err = strict.client().decrypt(&request).await.unwrap_err();
    assert_eq!(code(&err), "attestation_refused");
    assert!(
        err.to_string().contains("--accept-attestation-none"),
        "{err}"
    );

    request.attestation = Attestation {
        kind: "tdx".into(),
        evidence: Some("quote".into()),
    };
    let err = strict.client().decrypt(&request).await.unwrap_err();
    assert_eq!(code(&err), "attestation_refused");
    assert!(
        err.to_string()
            .contains("unsupported attestation type \"tdx\""),
        "{err}"
    );

    let dev = Harness::dev().await;
    dev.store(
        &app_repo(),
        "default",
        "alice.near",
        r#"{"K":"v"}"#,
        AccessCondition::AllowAll,
    );
    let err = dev.client().decrypt(&request).await.unwrap_err();
    assert_eq!(code(&err), "attestation_refused", "only none is registered");
}

#[tokio::test]
async fn decrypts_for_the_stored_accessor_only() {
    let h = Harness::dev().await;
    let plaintext = r#"{"API_KEY":"sk-1","DB":"postgres://x"}"#;
    h.store(
        &app_repo(),
        "default",
        "alice.near",
        plaintext,
        AccessCondition::AllowAll,
    );
    let client = h.client();

    // Any spelling of the repository finds and opens the record.
    let spelled = Accessor::Repo {
        repo: "git@github.com:Alice/app.git".into(),
        branch: None,
    };
    let response = client
        .decrypt(&decrypt_request(
            &spelled,
            "default",
            "alice.near",
            "bob.near",
        ))
        .await
        .unwrap();
    assert_eq!(response.secrets["API_KEY"], "sk-1");
    assert_eq!(response.secrets.len(), 2);

    // Other profile, owner, branch or repository: no such record.
    let branch = Accessor::Repo {
        repo: "github.com/alice/app".into(),
        branch: Some("dev".into()),
    };
    for (accessor, profile, owner) in [
        (app_repo(), "other", "alice.near"),
        (app_repo(), "default", "bob.near"),
        (branch, "default", "alice.near"),
    ] {
        let err = client
            .decrypt(&decrypt_request(&accessor, profile, owner, "bob.near"))
            .await
            .unwrap_err();
        assert_eq!(code(&err), "not_found", "{accessor:?} {profile} {owner}");
    }
}

#[tokio::test]
async fn blobs_sealed_for_another_key_or_altered_are_bad_ciphertext() {
    let h = Harness::dev().await;
    // A record whose blob was sealed for the `main` branch, filed under no branch.
    let main = Accessor::Repo {
        repo: "github.com/alice/app".into(),
        branch: Some("main".into()),
    };
    let seed = main.normalized().unwrap().key_seed(&account("alice.near"));
    let key = AccessorKey::derive(&h.master, &seed);
    let blob = outlayer_keystore::crypto::encrypt(key.public(), br#"{"K":"v"}"#);
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(&blob);
    h.store_blob(
        &app_repo(),
        "wrong-branch",
        "alice.near",
        &b64,
        AccessCondition::AllowAll,
    );
    // The right key, one bit flipped.
    let own = AccessorKey::derive(&h.master, "repo:github.com/alice/app:alice.near");
    let mut tampered = outlayer_keystore::crypto::encrypt(own.public(), br#"{"K":"v"}"#);
    tampered[50] ^= 1;
    let tampered = base64::engine::general_purpose::STANDARD.encode(&tampered);
    h.store_blob(
        &app_repo(),
        "tampered",
        "alice.near",
        &tampered,
        AccessCondition::AllowAll,
    );
    h.store_blob(
        &app_repo(),
        "garbage",
        "alice.near",
        "not base64!",
        AccessCondition::AllowAll,
    );
    // Decrypts, but to a reserved name: refused after decryption too.
    h.store(
        &app_repo(),
        "reserved",
        "alice.near",
        r#"{"NEAR_SENDER_ID":"x"}"#,
        AccessCondition::AllowAll,
    );

    for profile in ["wrong-branch", "tampered", "garbage", "reserved"] {
        let err = h
            .client()
            .decrypt(&decrypt_request(
                &app_repo(),
                profile,
                "alice.near",
                "bob.near",
            ))
            .await
            .unwrap_err();
        assert_eq!(code(&err), "bad_ciphertext", "{profile}: {err}");
        assert!(matches!(err, ClientError::Refused { status: 422, .. }));
    }
}

#[tokio::test]
async fn malformed_and_oversized_bodies_are_refused() {
    let h = Harness::dev().await;
    let post = |body: Vec<u8>| {
        reqwest::Client::new()
            .post(format!("{}/decrypt", h.url))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let response = post(b"{\"accessor\":".to_vec()).await.unwrap();
    assert_eq!(response.status(), 400);
    let body: outlayer_types::KeystoreErrorBody =
        serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(body.error, "bad_request");

    let mut unknown =
        serde_json::to_value(decrypt_request(&app_repo(), "p", "alice.near", "bob.near")).unwrap();
    unknown["extra"] = json!(1);
    let response = post(serde_json::to_vec(&unknown).unwrap()).await.unwrap();
    assert_eq!(response.status(), 400);

    let response = post(vec![b' '; 300 * 1024]).await.unwrap();
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn contract_refusals_and_a_wrong_contract_are_not_mistaken_for_outages() {
    let h = Harness::dev().await;
    let request = decrypt_request(&app_repo(), "p", "alice.near", "bob.near");
    h.chain.set_view(CONTRACT, "get_secrets", |_| {
        outlayer_near_client::fake::ViewOutcome::Panic("invalid profile name".into())
    });
    let err = h.client().decrypt(&request).await.unwrap_err();
    assert_eq!(code(&err), "bad_request");
    assert!(err.to_string().contains("invalid profile name"), "{err}");

    h.chain.set_view(CONTRACT, "get_secrets", |_| {
        outlayer_near_client::fake::ViewOutcome::json(&json!({"not": "a record"}))
    });
    let err = h.client().decrypt(&request).await.unwrap_err();
    assert_eq!(code(&err), "internal");
    assert!(matches!(err, ClientError::Refused { status: 500, .. }));
}
