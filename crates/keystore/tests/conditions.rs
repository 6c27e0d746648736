//! Every access condition, true and false, evaluated by the keystore against
//! the local chain over HTTP (balances at genesis, token contracts answering
//! their views); chain failures deny.

mod common;

use std::time::{Duration, Instant};

use common::*;
use outlayer_devchain::testing::{Answer, Availability};
use outlayer_keystore::CheckLimits;
use outlayer_types::{AccessCondition, Attestation, ComparisonOperator, LogicOperator, U128};
use serde_json::json;

const NEAR: u128 = 10u128.pow(24);
const SECRETS: &str = r#"{"API_KEY":"sk-conditions"}"#;

/// alice: 20 NEAR, 150 FT, owns NFT "7"; bob: 1 NEAR, 5 FT, no NFT;
/// carol: 50 NEAR, no FT balance (balances from genesis, tokens stored in
/// the token contracts by transactions).
fn seed_chain(h: &Harness) {
    let chain = &h.chain;
    for (owner, balance) in [("alice.near", "150"), ("bob.near", "5")] {
        chain.answer(
            "ft.near",
            &json!({"account_id": owner}),
            &Answer::json(balance),
        );
    }
    chain.answer_default("ft.near", "ft_balance_of", &Answer::json("0"));
    chain.answer(
        "nft.near",
        &json!({"token_id": "7"}),
        &Answer::json(&json!({"token_id": "7", "owner_id": "alice.near", "metadata": null})),
    );
    // One token is enough to decide: only `limit: 1` is answered.
    chain.answer(
        "nft.near",
        &json!({"account_id": "alice.near", "from_index": "0", "limit": 1}),
        &Answer::json(&json!([{"token_id": "7", "owner_id": "alice.near"}])),
    );
    chain.answer_default(
        "nft.near",
        "nft_tokens_for_owner",
        &Answer::json(&json!([])),
    );
    chain.answer_default(
        "broken.near",
        "ft_balance_of",
        &Answer::Panic("storage error".into()),
    );
}

fn whitelist(ids: &[&str]) -> AccessCondition {
    AccessCondition::Whitelist {
        accounts: ids.iter().map(|id| account(id)).collect(),
    }
}

fn near_balance(op: ComparisonOperator, near: u128) -> AccessCondition {
    AccessCondition::NearBalance {
        operator: op,
        value: U128(near * NEAR),
    }
}

fn ft(contract: &str, op: ComparisonOperator, value: u128) -> AccessCondition {
    AccessCondition::FtBalance {
        contract: account(contract),
        operator: op,
        value: U128(value),
    }
}

fn nft(token: Option<&str>) -> AccessCondition {
    AccessCondition::NftOwned {
        contract: account("nft.near"),
        token_id: token.map(Into::into),
    }
}

fn logic(operator: LogicOperator, conditions: Vec<AccessCondition>) -> AccessCondition {
    AccessCondition::Logic {
        operator,
        conditions,
    }
}

fn not(condition: AccessCondition) -> AccessCondition {
    AccessCondition::Not {
        condition: Box::new(condition),
    }
}

/// Stores `condition` under `profile` and asks for it in a request signed by
/// `caller`: `Ok` when decrypted, else the error code and message.
async fn ask(
    h: &Harness,
    profile: &str,
    condition: AccessCondition,
    caller: &str,
) -> Result<(), (String, String)> {
    h.store(&app_repo(), profile, "owner.near", SECRETS, condition);
    let request_id = h.submit_app(profile, "owner.near", caller);
    match h
        .client()
        .decrypt_for_request(request_id, Attestation::none())
        .await
    {
        Ok(response) => {
            assert_eq!(response.secrets["API_KEY"], "sk-conditions");
            Ok(())
        }
        Err(e) => Err((e.code().unwrap_or("none").to_owned(), e.to_string())),
    }
}

#[tokio::test]
async fn every_condition_true_and_false() {
    let h = Harness::dev().await;
    seed_chain(&h);
    use ComparisonOperator::*;
    use LogicOperator::*;
    // (condition, caller that meets it, caller that does not, expected failing part)
    let cases: Vec<(AccessCondition, &str, &str, &str)> = vec![
        (AccessCondition::AllowAll, "bob.near", "", ""),
        (
            whitelist(&["alice.near", "x.near"]),
            "alice.near",
            "bob.near",
            "Whitelist",
        ),
        (
            AccessCondition::AccountPattern {
                pattern: r"[a-z]+\.near".into(),
            },
            "alice.near",
            "app.alice.near",
            "AccountPattern",
        ),
        // Anchored: a pattern matching part of the id is not a match.
        (
            AccessCondition::AccountPattern {
                pattern: "alice".into(),
            },
            "alice",
            "alice.near",
            "AccountPattern",
        ),
        (
            near_balance(Gte, 10),
            "alice.near",
            "bob.near",
            "NearBalance Gte",
        ),
        (
            near_balance(Lt, 10),
            "bob.near",
            "alice.near",
            "NearBalance Lt",
        ),
        (
            near_balance(Eq, 20),
            "alice.near",
            "carol.near",
            "NearBalance Eq",
        ),
        (
            ft("ft.near", Gt, 100),
            "alice.near",
            "bob.near",
            "FtBalance ft.near Gt 100",
        ),
        (
            ft("ft.near", Lte, 5),
            "bob.near",
            "alice.near",
            "FtBalance ft.near Lte 5",
        ),
        (
            nft(Some("7")),
            "alice.near",
            "bob.near",
            "NftOwned nft.near token \"7\"",
        ),
        (
            nft(Some("8")),
            "",
            "alice.near",
            "NftOwned nft.near token \"8\"",
        ),
        (
            nft(None),
            "alice.near",
            "bob.near",
            "NftOwned nft.near (any token)",
        ),
        (
            logic(
                And,
                vec![
                    whitelist(&["alice.near", "bob.near"]),
                    near_balance(Gte, 10),
                ],
            ),
            "alice.near",
            "bob.near",
            "NearBalance Gte",
        ),
        (
            logic(Or, vec![whitelist(&["bob.near"]), ft("ft.near", Gte, 100)]),
            "alice.near",
            "carol.near",
            "none of Or[Whitelist (1 accounts), FtBalance",
        ),
        (
            not(whitelist(&["bob.near"])),
            "alice.near",
            "bob.near",
            "Not[Whitelist (1 accounts)]",
        ),
        (
            logic(And, vec![nft(None), not(near_balance(Gt, 100))]),
            "alice.near",
            "bob.near",
            "NftOwned nft.near (any token)",
        ),
    ];
    for (i, (condition, yes, no, failing)) in cases.into_iter().enumerate() {
        if !yes.is_empty() {
            let result = ask(&h, &format!("yes-{i}"), condition.clone(), yes).await;
            assert_eq!(result, Ok(()), "case {i}: {condition:?} for {yes}");
        }
        if !no.is_empty() {
            let (code, message) = ask(&h, &format!("no-{i}"), condition.clone(), no)
                .await
                .expect_err(&format!("case {i}: {condition:?} must deny {no}"));
            assert_eq!(code, "access_denied", "case {i}: {message}");
            assert!(
                message.contains(failing),
                "case {i}: {message:?} should name {failing:?}"
            );
            assert!(message.contains(no), "case {i}: {message}");
        }
    }
}

#[tokio::test]
async fn unanswerable_conditions_deny_even_under_not() {
    let h = Harness::dev().await;
    seed_chain(&h);
    // The token contract panics: the condition cannot be decided.
    let broken = ft("broken.near", ComparisonOperator::Gte, 0);
    let (code, message) = ask(&h, "broken", broken.clone(), "alice.near")
        .await
        .unwrap_err();
    assert_eq!(code, "access_denied");
    assert!(
        message.contains("could not be checked") && message.contains("storage error"),
        "{message}"
    );
    let (code, _) = ask(&h, "not-broken", not(broken.clone()), "alice.near")
        .await
        .unwrap_err();
    assert_eq!(
        code, "access_denied",
        "an error under Not is still a denial"
    );
    // Even when another alternative would allow: errors are never skipped.
    let or = logic(LogicOperator::Or, vec![broken, AccessCondition::AllowAll]);
    assert!(ask(&h, "or-broken", or, "alice.near").await.is_err());
    // A caller account that does not exist has no balance to compare.
    let (code, message) = ask(
        &h,
        "ghost",
        not(near_balance(ComparisonOperator::Gte, 1)),
        "ghost.near",
    )
    .await
    .unwrap_err();
    assert_eq!(code, "access_denied");
    assert!(message.contains("does not exist"), "{message}");
    // A contract that is not deployed.
    let (code, _) = ask(
        &h,
        "nocode",
        ft("nobody.near", ComparisonOperator::Gte, 0),
        "alice.near",
    )
    .await
    .unwrap_err();
    assert_eq!(code, "access_denied");
}

#[tokio::test]
async fn malformed_conditions_deny() {
    let h = Harness::dev().await;
    seed_chain(&h);
    let bad_pattern = AccessCondition::AccountPattern {
        pattern: "(".into(),
    };
    let (code, message) = ask(&h, "bad-pattern", not(bad_pattern), "alice.near")
        .await
        .unwrap_err();
    assert_eq!(code, "access_denied");
    assert!(message.contains("invalid access condition"), "{message}");
    let empty = logic(LogicOperator::Or, vec![]);
    assert!(ask(&h, "empty", not(empty), "alice.near").await.is_err());
    let mut deep = AccessCondition::AllowAll;
    for _ in 0..20 {
        deep = not(not(deep));
    }
    let (_, message) = ask(&h, "deep", deep, "alice.near").await.unwrap_err();
    assert!(message.contains("nest deeper"), "{message}");
}

#[tokio::test]
async fn chain_unavailable_denies_with_a_clear_error() {
    let h = Harness::dev().await;
    seed_chain(&h);
    h.store(
        &app_repo(),
        "open",
        "owner.near",
        SECRETS,
        AccessCondition::AllowAll,
    );
    let request_id = h.submit_app("open", "owner.near", "alice.near");
    h.chain.set_availability(Availability::Unavailable);
    let err = h
        .client()
        .decrypt_for_request(request_id, Attestation::none())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("chain_unavailable"));
    assert!(
        err.to_string()
            .contains(&format!("reading request {request_id}: ")),
        "the request itself could not be read: {err}"
    );
    assert!(err.to_string().contains("HTTP 503"), "{err}");
    h.chain.set_availability(Availability::Up);
    h.client()
        .decrypt_for_request(request_id, Attestation::none())
        .await
        .unwrap();
}

#[tokio::test]
async fn chain_reads_are_bounded_in_time() {
    let limits = CheckLimits {
        max_reads: 16,
        deadline: Duration::from_millis(500),
    };
    let h = Harness::start(true, limits).await;
    seed_chain(&h);
    h.store(
        &app_repo(),
        "open",
        "owner.near",
        SECRETS,
        AccessCondition::AllowAll,
    );
    let request_id = h.submit_app("open", "owner.near", "alice.near");
    h.chain
        .set_availability(Availability::Slow(Duration::from_secs(30)));
    let started = Instant::now();
    let err = h
        .client()
        .decrypt_for_request(request_id, Attestation::none())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("chain_unavailable"), "{err}");
    assert!(err.to_string().contains("timed out"), "{err}");
    // Three tries (the client asks again on chain_unavailable), each cut
    // at the 500 ms deadline, and 600 ms of backoff.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn chain_reads_are_bounded_in_number() {
    let limits = CheckLimits {
        max_reads: 3,
        deadline: Duration::from_secs(10),
    };
    let h = Harness::start(true, limits).await;
    seed_chain(&h);
    // Ten balance checks: refused before any of them is read.
    let many = logic(
        LogicOperator::Or,
        (0..10)
            .map(|i| near_balance(ComparisonOperator::Gte, 100 + i))
            .collect(),
    );
    let before = h.chain.queries();
    let (code, message) = ask(&h, "many", many, "bob.near").await.unwrap_err();
    assert_eq!(code, "access_denied");
    assert!(
        message.contains("may need 10 chain reads; the keystore allows 3"),
        "{message}"
    );
    // Only the get_request and get_secrets reads.
    assert_eq!(h.chain.queries() - before, 2);
    // Within the budget, reads happen and are counted.
    let few = logic(
        LogicOperator::And,
        vec![
            near_balance(ComparisonOperator::Gte, 1),
            ft("ft.near", ComparisonOperator::Gte, 100),
            nft(None),
        ],
    );
    let before = h.chain.queries();
    ask(&h, "few", few, "alice.near").await.unwrap();
    assert_eq!(h.chain.queries() - before, 5);
}
