//! The keystore service over HTTP: auth, attestation, pubkey, decrypt and
//! its refusals, against the local chain. A decrypt names a pending request by
//! id; who asks (its signer), whose secrets (its `secrets_ref`) and for
//! which code (its source) come from the request on chain.

mod common;

use common::*;
use outlayer_devchain::testing::Answer;
use outlayer_keystore::crypto::AccessorKey;
use outlayer_keystore::{CheckLimits, ClientError};
use outlayer_types::{AccessCondition, Accessor, Attestation, KeystoreErrorBody, PubkeyRequest};
use serde_json::json;

fn code(err: &ClientError) -> &str {
    err.code().unwrap_or("<no code>")
}

/// The HTTP status and error body of a refusal.
fn refusal(err: ClientError) -> (u16, KeystoreErrorBody) {
    match err {
        ClientError::Refused { status, body } => (status, body),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Asserts a refusal's status, code and exact message (and no condition).
fn assert_refused(err: ClientError, status: u16, error: &str, message: &str) {
    let (got_status, body) = refusal(err);
    assert_eq!(
        (got_status, body.error.as_str(), body.message.as_str()),
        (status, error, message)
    );
    assert_eq!(body.condition, None);
}

/// POSTs a raw JSON body to `/decrypt` with the right token.
async fn post_decrypt(h: &Harness, body: Vec<u8>) -> (u16, Option<KeystoreErrorBody>) {
    let response = reqwest::Client::new()
        .post(format!("{}/decrypt", h.url))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    (status, serde_json::from_slice(&bytes).ok())
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
    let request = decrypt_body(h.submit_app("default", "alice.near", "bob.near"));
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
    let mut request = decrypt_body(strict.submit_app("default", "alice.near", "bob.near"));
    let before = strict.chain.queries();
    let err = strict.client().decrypt(&request).await.unwrap_err();
    assert_eq!(code(&err), "attestation_refused");
    assert!(
        err.to_string().contains("--accept-attestation-none"),
        "{err}"
    );
    assert_eq!(
        strict.chain.queries(),
        before,
        "refused before the chain is read"
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
    request.request_id = dev.submit_app("default", "alice.near", "bob.near");
    let err = dev.client().decrypt(&request).await.unwrap_err();
    assert_eq!(code(&err), "attestation_refused", "only none is registered");
}

#[tokio::test]
async fn decrypts_the_secrets_the_pending_request_names() {
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

    // Any spelling of the repository in the request finds and opens the record.
    let spelled = outlayer_types::CodeSource::GitHub {
        repo: "git@github.com:Alice/app.git".into(),
        commit: COMMIT.into(),
        build_target: outlayer_types::BuildTarget::Wasip1,
    };
    let id = h.submit(&spelled, "default", "alice.near", "bob.near");
    let response = client
        .decrypt_for_request(id, Attestation::none())
        .await
        .unwrap();
    assert_eq!(response.secrets["API_KEY"], "sk-1");
    assert_eq!(response.secrets.len(), 2);

    // Other profile, owner or repository: no such record.
    let other_repo = outlayer_types::CodeSource::GitHub {
        repo: "github.com/alice/other".into(),
        commit: COMMIT.into(),
        build_target: outlayer_types::BuildTarget::Wasip1,
    };
    for (source, profile, owner) in [
        (app_source(), "other", "alice.near"),
        (app_source(), "default", "bob.near"),
        (other_repo, "default", "alice.near"),
    ] {
        let id = h.submit(&source, profile, owner, "bob.near");
        let err = client
            .decrypt_for_request(id, Attestation::none())
            .await
            .unwrap_err();
        assert_refused(
            err,
            404,
            "not_found",
            &format!("no secrets stored for profile {profile:?} of {owner} for this accessor"),
        );
    }
}

#[tokio::test]
async fn unknown_and_settled_requests_are_not_pending() {
    let h = Harness::dev().await;
    h.store(
        &app_repo(),
        "default",
        "alice.near",
        r#"{"K":"v"}"#,
        AccessCondition::AllowAll,
    );
    let client = h.client();
    let err = client
        .decrypt_for_request(999, Attestation::none())
        .await
        .unwrap_err();
    assert_refused(
        err,
        409,
        "request_not_pending",
        "request 999 is not pending: it is unknown or already settled",
    );

    let id = h.submit_app("default", "alice.near", "bob.near");
    client
        .decrypt_for_request(id, Attestation::none())
        .await
        .unwrap();
    h.settle(id);
    let before = h.chain.queries();
    let err = client
        .decrypt_for_request(id, Attestation::none())
        .await
        .unwrap_err();
    assert_refused(
        err,
        409,
        "request_not_pending",
        &format!("request {id} is not pending: it is unknown or already settled"),
    );
    assert_eq!(h.chain.queries() - before, 1, "only get_request is read");
}

#[tokio::test]
async fn resolved_requests_are_not_pending() {
    let h = Harness::dev().await;
    h.store(
        &app_repo(),
        "default",
        "alice.near",
        r#"{"K":"v"}"#,
        AccessCondition::AllowAll,
    );
    let id = h.submit_app("default", "alice.near", "bob.near");
    h.resolve(id);
    let before = h.chain.queries();
    let err = h
        .client()
        .decrypt_for_request(id, Attestation::none())
        .await
        .unwrap_err();
    assert_refused(
        err,
        409,
        "request_not_pending",
        &format!("request {id} is not pending: it was already answered"),
    );
    assert_eq!(h.chain.queries() - before, 1, "no secrets are read");
}

#[tokio::test]
async fn requests_without_secrets_are_bad_requests() {
    let h = Harness::dev().await;
    let id = h.next_request_id();
    h.put_request(request_view(id, &app_source(), None, "bob.near"));
    let err = h
        .client()
        .decrypt_for_request(id, Attestation::none())
        .await
        .unwrap_err();
    assert_refused(
        err,
        400,
        "bad_request",
        &format!("bad request: request {id} names no secrets"),
    );
}

#[tokio::test]
async fn a_branch_reads_its_own_secrets_before_the_repository_s() {
    let h = Harness::dev().await;
    h.store(
        &app_repo(),
        "default",
        "alice.near",
        r#"{"WHO":"repo"}"#,
        AccessCondition::AllowAll,
    );
    h.store(
        &app_branch("main"),
        "default",
        "alice.near",
        r#"{"WHO":"main"}"#,
        AccessCondition::AllowAll,
    );
    let client = h.client();
    for (commit, expected) in [
        // Both exist: the branch-bound record wins.
        ("main", "main"),
        // No record for this branch: the repository-wide one.
        ("dev", "repo"),
        // A commit hash is no branch: the repository-wide one.
        (COMMIT, "repo"),
    ] {
        let id = h.submit(&app_at(commit), "default", "alice.near", "bob.near");
        let response = client
            .decrypt_for_request(id, Attestation::none())
            .await
            .unwrap();
        assert_eq!(response.secrets["WHO"], expected, "at {commit}");
    }

    // Only a branch-bound record: other branches and commits do not see it.
    h.store(
        &app_branch("main"),
        "branch-only",
        "alice.near",
        r#"{"WHO":"main"}"#,
        AccessCondition::AllowAll,
    );
    for commit in ["dev", COMMIT] {
        let id = h.submit(&app_at(commit), "branch-only", "alice.near", "bob.near");
        let err = client
            .decrypt_for_request(id, Attestation::none())
            .await
            .unwrap_err();
        assert_refused(
            err,
            404,
            "not_found",
            "no secrets stored for profile \"branch-only\" of alice.near for this accessor",
        );
    }

    // The first record found decides: its condition is not bypassed by
    // falling back to a more permissive repository-wide record.
    h.store(
        &app_branch("main"),
        "guarded",
        "alice.near",
        r#"{"WHO":"main"}"#,
        AccessCondition::Whitelist {
            accounts: vec![account("carol.near")],
        },
    );
    h.store(
        &app_repo(),
        "guarded",
        "alice.near",
        r#"{"WHO":"repo"}"#,
        AccessCondition::AllowAll,
    );
    let id = h.submit(&app_at("main"), "guarded", "alice.near", "bob.near");
    let err = client
        .decrypt_for_request(id, Attestation::none())
        .await
        .unwrap_err();
    assert_eq!(code(&err), "access_denied", "{err}");
}

#[tokio::test]
async fn the_requests_signer_must_meet_the_condition() {
    let h = Harness::dev().await;
    h.store(
        &app_repo(),
        "private",
        "alice.near",
        r#"{"K":"v"}"#,
        AccessCondition::Whitelist {
            accounts: vec![account("carol.near")],
        },
    );
    let client = h.client();
    let id = h.submit_app("private", "alice.near", "bob.near");
    let (status, body) = refusal(
        client
            .decrypt_for_request(id, Attestation::none())
            .await
            .unwrap_err(),
    );
    assert_eq!(status, 403);
    assert_eq!(body.error, "access_denied");
    assert_eq!(
        body.message,
        "access denied for bob.near: Whitelist (1 accounts) does not hold"
    );
    assert_eq!(body.condition.as_deref(), Some("Whitelist (1 accounts)"));

    let id = h.submit_app("private", "alice.near", "carol.near");
    let response = client
        .decrypt_for_request(id, Attestation::none())
        .await
        .unwrap();
    assert_eq!(response.secrets["K"], "v");
}

#[tokio::test]
async fn who_asks_comes_from_the_chain_never_from_the_body() {
    let h = Harness::dev().await;
    h.store(
        &app_repo(),
        "default",
        "alice.near",
        r#"{"K":"alice"}"#,
        AccessCondition::Whitelist {
            accounts: vec![account("carol.near")],
        },
    );
    h.store(
        &app_repo(),
        "default",
        "mallory.near",
        r#"{"K":"mallory"}"#,
        AccessCondition::AllowAll,
    );
    // Bob's request names alice's secrets; a body that claims carol asks,
    // or names other secrets, is refused before anything is read.
    let id = h.submit_app("default", "alice.near", "bob.near");
    let before = h.chain.queries();
    for (field, value) in [
        ("caller", json!("carol.near")),
        ("owner", json!("mallory.near")),
        ("profile", json!("other")),
        (
            "accessor",
            json!({"Repo": {"repo": "github.com/x/y", "branch": null}}),
        ),
    ] {
        let mut body = json!({"request_id": id, "attestation": {"type": "none"}});
        body[field] = value;
        let (status, body) = post_decrypt(&h, serde_json::to_vec(&body).unwrap()).await;
        let body = body.expect("an error body");
        assert_eq!((status, body.error.as_str()), (400, "bad_request"));
        assert!(
            body.message.starts_with(&format!(
                "bad request: invalid request: unknown field `{field}`, expected `request_id` or `attestation`"
            )),
            "{field}: {}",
            body.message
        );
    }
    assert_eq!(h.chain.queries(), before);

    // What the request on chain says is what counts: bob asks for alice's.
    let (status, body) = refusal(
        h.client()
            .decrypt_for_request(id, Attestation::none())
            .await
            .unwrap_err(),
    );
    assert_eq!((status, body.error.as_str()), (403, "access_denied"));
    assert_eq!(
        body.message,
        "access denied for bob.near: Whitelist (1 accounts) does not hold"
    );
    // Carol's request for mallory's secrets gets mallory's, not alice's.
    let id = h.submit_app("default", "mallory.near", "carol.near");
    let response = h
        .client()
        .decrypt_for_request(id, Attestation::none())
        .await
        .unwrap();
    assert_eq!(response.secrets["K"], "mallory");
    let id = h.submit_app("default", "alice.near", "carol.near");
    let response = h
        .client()
        .decrypt_for_request(id, Attestation::none())
        .await
        .unwrap();
    assert_eq!(response.secrets["K"], "alice");
}

#[tokio::test]
async fn a_wasm_url_source_reads_its_hash_s_secrets() {
    let h = Harness::dev().await;
    let hash = "ab".repeat(32);
    h.store(
        &Accessor::WasmHash { hash: hash.clone() },
        "default",
        "alice.near",
        r#"{"WHO":"wasm"}"#,
        AccessCondition::AllowAll,
    );
    h.store(
        &app_repo(),
        "repo-only",
        "alice.near",
        r#"{"WHO":"repo"}"#,
        AccessCondition::AllowAll,
    );
    // Any case of the hash is the same binary.
    let id = h.submit(
        &wasm_source(&hash.to_uppercase()),
        "default",
        "alice.near",
        "bob.near",
    );
    let response = h
        .client()
        .decrypt_for_request(id, Attestation::none())
        .await
        .unwrap();
    assert_eq!(response.secrets["WHO"], "wasm");

    // Another binary: nothing, and never a repository's secrets.
    for profile in ["default", "repo-only"] {
        let id = h.submit(
            &wasm_source(&"cd".repeat(32)),
            profile,
            "alice.near",
            "bob.near",
        );
        let err = h
            .client()
            .decrypt_for_request(id, Attestation::none())
            .await
            .unwrap_err();
        assert_refused(
            err,
            404,
            "not_found",
            &format!("no secrets stored for profile {profile:?} of alice.near for this accessor"),
        );
    }
}

#[tokio::test]
async fn blobs_sealed_for_another_key_or_altered_are_bad_ciphertext() {
    let h = Harness::dev().await;
    // A record whose blob was sealed for the `main` branch, filed under no branch.
    let main = app_branch("main");
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
        let id = h.submit_app(profile, "alice.near", "bob.near");
        let err = h
            .client()
            .decrypt_for_request(id, Attestation::none())
            .await
            .unwrap_err();
        assert_eq!(code(&err), "bad_ciphertext", "{profile}: {err}");
        assert!(matches!(err, ClientError::Refused { status: 422, .. }));
    }
}

#[tokio::test]
async fn malformed_and_oversized_bodies_are_refused() {
    let h = Harness::dev().await;
    let (status, body) = post_decrypt(&h, b"{\"request_id\":".to_vec()).await;
    assert_eq!((status, body.unwrap().error.as_str()), (400, "bad_request"));

    // The old body shape is refused as a whole.
    let old = json!({"accessor": {"Repo": {"repo": "github.com/alice/app", "branch": null}},
                     "profile": "p", "owner": "alice.near", "caller": "bob.near",
                     "attestation": {"type": "none"}});
    let (status, body) = post_decrypt(&h, serde_json::to_vec(&old).unwrap()).await;
    assert_eq!((status, body.unwrap().error.as_str()), (400, "bad_request"));

    let (status, body) = post_decrypt(
        &h,
        br#"{"request_id": -1, "attestation": {"type": "none"}}"#.to_vec(),
    )
    .await;
    assert_eq!((status, body.unwrap().error.as_str()), (400, "bad_request"));

    let (status, body) = post_decrypt(&h, vec![b' '; 300 * 1024]).await;
    assert_eq!(
        (status, body.unwrap().error.as_str()),
        (413, "payload_too_large")
    );

    // Unknown routes and methods answer in the same shape.
    let http = reqwest::Client::new();
    for (method, path, expected, code) in [
        (reqwest::Method::GET, "/decrypt", 405, "method_not_allowed"),
        (reqwest::Method::GET, "/no/such/route", 404, "not_found"),
    ] {
        let response = http
            .request(method, format!("{}{path}", h.url))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), expected, "{path}");
        let body: KeystoreErrorBody =
            serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        assert_eq!(body.error, code, "{path}");
        assert!(!body.message.is_empty(), "{path}");
    }
}

#[tokio::test]
async fn contract_refusals_and_a_wrong_contract_are_not_mistaken_for_outages() {
    let h = Harness::dev().await;
    let id = h.submit_app("p", "alice.near", "bob.near");
    h.chain.answer_default(
        CONTRACT,
        "get_secrets",
        &Answer::Panic("invalid profile name".into()),
    );
    let err = h
        .client()
        .decrypt_for_request(id, Attestation::none())
        .await
        .unwrap_err();
    assert_eq!(code(&err), "bad_request");
    assert!(err.to_string().contains("invalid profile name"), "{err}");

    h.chain.answer_default(
        CONTRACT,
        "get_secrets",
        &Answer::json(&json!({"not": "a record"})),
    );
    let err = h
        .client()
        .decrypt_for_request(id, Attestation::none())
        .await
        .unwrap_err();
    assert_refused(err, 500, "internal", "internal error");
}

#[tokio::test]
async fn a_request_view_that_is_not_outlayer_s_is_internal() {
    let h = Harness::dev().await;
    h.store(
        &app_repo(),
        "p",
        "alice.near",
        r#"{"K":"v"}"#,
        AccessCondition::AllowAll,
    );
    let id = h.submit_app("p", "alice.near", "bob.near");
    let mut other_contract = request_view(id, &app_source(), Some(("p", "alice.near")), "bob.near");
    other_contract.request.context.contract_id = account("other.near");
    let other_id = request_view(id + 1, &app_source(), Some(("p", "alice.near")), "bob.near");
    let answers = [
        // Not a RequestView at all.
        Answer::json(&json!({"not": "a request"})),
        // Another contract's request, or another request.
        Answer::json(&other_contract),
        Answer::json(&other_id),
        // No such method: the configured account is not OutLayer (below).
        Answer::Panic("not reached".into()),
    ];
    for (i, answer) in answers.into_iter().enumerate() {
        let shown = format!("{answer:?}");
        if i < 3 {
            h.answer_request(id, &answer);
        } else {
            // A wasm module with nothing in it: get_request is not found.
            h.chain.deploy(CONTRACT, b"\0asm\x01\0\0\0".to_vec());
        }
        let err = h
            .client()
            .decrypt_for_request(id, Attestation::none())
            .await
            .unwrap_err();
        let (status, body) = refusal(err);
        assert_eq!(
            (status, body.error.as_str(), body.message.as_str()),
            (500, "internal", "internal error"),
            "{shown}"
        );
    }
}
