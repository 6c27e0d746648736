//! The cryptography against its committed known-answer vectors
//! (`docs/keystore-crypto-vectors.json`), plus the properties that matter:
//! a blob opens only for its accessor, owner and branch, and only untampered.
//!
//! Regenerate the vectors (only when the spec changes on purpose) with
//! `OUTLAYER_REGENERATE_VECTORS=1 cargo test -p outlayer-keystore --test crypto`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use outlayer_keystore::MasterSecret;
use outlayer_keystore::crypto::{
    self, AccessorKey, BLOB_INFO, CryptoError, KEY_INFO_PREFIX, blob_key, derive_secret_bytes,
    encrypt, encrypt_with,
};
use outlayer_types::{Accessor, AccountId};
use serde_json::{Value, json};
use x25519_dalek::{PublicKey, StaticSecret};

const VECTORS_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../docs/keystore-crypto-vectors.json"
);

fn owner(id: &str) -> AccountId {
    id.parse().unwrap()
}

fn seq(start: u8) -> [u8; 32] {
    std::array::from_fn(|i| start.wrapping_add(i as u8))
}

fn test_master() -> MasterSecret {
    MasterSecret::from_bytes(seq(0))
}

fn seed(accessor: Accessor, owner_id: &str) -> String {
    accessor.normalized().unwrap().key_seed(&owner(owner_id))
}

fn repo(repo: &str, branch: Option<&str>) -> Accessor {
    Accessor::Repo {
        repo: repo.into(),
        branch: branch.map(Into::into),
    }
}

fn wasm_hash() -> String {
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into()
}

/// Builds every vector from fixed inputs with the implementation under test.
fn compute_vectors() -> Value {
    let normalisation: Vec<Value> = [
        (repo("https://github.com/Alice/App.git", None), "alice.near"),
        (repo("git@github.com:alice/app", Some("main")), "alice.near"),
        (repo("alice/app", Some("  ")), "bob.testnet"),
        (repo("ssh://git@github.com:22/Alice/App", None), "alice.near"),
        (repo("https://user:p@ss@www.GitHub.com/alice/app.git/", None), "alice.near"),
        (repo("git@github.com:22/alice/app", None), "alice.near"),
        (repo("alice/app/extra", None), "alice.near"),
        (repo("https://gitlab.com/g/sub/p.git.git", None), "alice.near"),
        (repo("file:///tmp/Repos/app.git/", Some("dev")), "alice.near"),
        (
            Accessor::WasmHash {
                hash: wasm_hash().to_uppercase(),
            },
            "alice.near",
        ),
    ]
    .into_iter()
    .map(|(accessor, owner_id)| {
        json!({"accessor": accessor, "owner": owner_id, "seed": seed(accessor.clone(), owner_id)})
    })
    .collect();

    let seeds = [
        seed(repo("github.com/alice/app", None), "alice.near"),
        seed(repo("github.com/alice/app", Some("main")), "alice.near"),
        seed(Accessor::WasmHash { hash: wasm_hash() }, "alice.near"),
    ];
    let mut keys = Vec::new();
    for (master_name, master) in [
        ("test", test_master()),
        ("development", MasterSecret::development()),
    ] {
        for seed in &seeds {
            let secret = derive_secret_bytes(&master, seed);
            let public = PublicKey::from(&StaticSecret::from(*secret));
            keys.push(json!({
                "master": master_name,
                "seed": seed,
                "info": format!("{KEY_INFO_PREFIX}{seed}"),
                "secret_hex": hex::encode(*secret),
                "public_hex": hex::encode(public.as_bytes()),
            }));
        }
    }

    let plaintexts = [
        (&seeds[0], r#"{"API_KEY":"sk-test-123"}"#, 0x40u8, 0x60u8),
        (&seeds[2], "{}", 0x80, 0xa0),
        (
            &seeds[1],
            r#"{"DB_URL":"postgres://u:p@h/db","GREETING":"héllo ✓"}"#,
            0xc0,
            0xe0,
        ),
    ];
    let mut blobs = Vec::new();
    for (seed, plaintext, eph_start, nonce_start) in plaintexts {
        let recipient = AccessorKey::derive(&test_master(), seed);
        let eph = seq(eph_start);
        let nonce: [u8; 12] = seq(nonce_start)[..12].try_into().unwrap();
        let eph_public = PublicKey::from(&StaticSecret::from(eph));
        let shared = StaticSecret::from(eph).diffie_hellman(recipient.public());
        let key = blob_key(shared.as_bytes(), &eph_public, recipient.public());
        let blob = encrypt_with(recipient.public(), plaintext.as_bytes(), &eph, &nonce);
        blobs.push(json!({
            "master": "test",
            "seed": seed,
            "recipient_public_hex": recipient.public_hex(),
            "ephemeral_secret_hex": hex::encode(eph),
            "ephemeral_public_hex": hex::encode(eph_public.as_bytes()),
            "nonce_hex": hex::encode(nonce),
            "shared_secret_hex": hex::encode(shared.as_bytes()),
            "aead_key_hex": hex::encode(*key),
            "plaintext": plaintext,
            "blob_hex": hex::encode(&blob),
            "blob_base64": STANDARD.encode(&blob),
        }));
    }

    let good = hex::decode(blobs[0]["blob_hex"].as_str().unwrap()).unwrap();
    let mut tampered = good.clone();
    *tampered.last_mut().unwrap() ^= 0x01;
    let mut flipped_ciphertext = good.clone();
    flipped_ciphertext[45] ^= 0x80;
    let mut version_2 = good.clone();
    version_2[0] = 0x02;
    let invalid: Vec<Value> = [
        ("tag changed", &seeds[0], tampered),
        ("ciphertext changed", &seeds[0], flipped_ciphertext),
        ("unknown version byte", &seeds[0], version_2),
        ("truncated", &seeds[0], good[..60].to_vec()),
        ("opened for another branch", &seeds[1], good.clone()),
        ("opened for another accessor", &seeds[2], good.clone()),
    ]
    .into_iter()
    .map(|(what, seed, blob)| {
        json!({"description": what, "master": "test", "seed": seed, "blob_base64": STANDARD.encode(blob)})
    })
    .collect();

    json!({
        "spec": "docs/keystore-crypto.md",
        "masters": {
            "test": hex::encode(seq(0)),
            "development": "sha256(\"outlayer development master secret v1\")",
        },
        "key_info_prefix": KEY_INFO_PREFIX,
        "blob_info": std::str::from_utf8(BLOB_INFO).unwrap(),
        "normalisation": normalisation,
        "keys": keys,
        "blobs": blobs,
        "invalid_blobs": invalid,
    })
}

#[test]
fn known_answer_vectors_match_the_committed_file() {
    let computed = compute_vectors();
    if std::env::var_os("OUTLAYER_REGENERATE_VECTORS").is_some() {
        let text = serde_json::to_string_pretty(&computed).unwrap() + "\n";
        std::fs::write(VECTORS_PATH, text).unwrap();
    }
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(VECTORS_PATH).unwrap()).unwrap();
    assert_eq!(
        computed, committed,
        "the implementation no longer matches the spec's vectors"
    );
}

#[test]
fn committed_blobs_open_and_invalid_ones_do_not() {
    let vectors: Value =
        serde_json::from_str(&std::fs::read_to_string(VECTORS_PATH).unwrap()).unwrap();
    for blob in vectors["blobs"].as_array().unwrap() {
        let key = AccessorKey::derive(&test_master(), blob["seed"].as_str().unwrap());
        let bytes = STANDARD
            .decode(blob["blob_base64"].as_str().unwrap())
            .unwrap();
        let plaintext = key.decrypt(&bytes).unwrap();
        assert_eq!(&*plaintext, blob["plaintext"].as_str().unwrap().as_bytes());
    }
    for invalid in vectors["invalid_blobs"].as_array().unwrap() {
        let key = AccessorKey::derive(&test_master(), invalid["seed"].as_str().unwrap());
        let bytes = STANDARD
            .decode(invalid["blob_base64"].as_str().unwrap())
            .unwrap();
        assert!(key.decrypt(&bytes).is_err(), "{}", invalid["description"]);
    }
}

#[test]
fn round_trip_binds_accessor_owner_and_branch() {
    let master = test_master();
    let app = repo("https://github.com/alice/app", None);
    let key = AccessorKey::derive(&master, &seed(app.clone(), "alice.near"));
    let plaintext = br#"{"API_KEY":"sk-live"}"#;
    let blob = encrypt(key.public(), plaintext);
    assert_eq!(&*key.decrypt(&blob).unwrap(), plaintext);
    // Fresh randomness each time.
    assert_ne!(blob, encrypt(key.public(), plaintext));
    // Another spelling of the same repository is the same key.
    let same = AccessorKey::derive(
        &master,
        &seed(repo("git@github.com:Alice/app.git", None), "alice.near"),
    );
    assert_eq!(&*same.decrypt(&blob).unwrap(), plaintext);

    let others = [
        seed(repo("github.com/alice/other", None), "alice.near"),
        seed(app.clone(), "bob.near"),
        seed(repo("github.com/alice/app", Some("main")), "alice.near"),
        seed(Accessor::WasmHash { hash: wasm_hash() }, "alice.near"),
    ];
    for other in others {
        let err = AccessorKey::derive(&master, &other)
            .decrypt(&blob)
            .unwrap_err();
        assert_eq!(err, CryptoError::Authentication, "{other}");
    }
    let other_master = MasterSecret::from_bytes(seq(1));
    let err = AccessorKey::derive(&other_master, &seed(app, "alice.near"))
        .decrypt(&blob)
        .unwrap_err();
    assert_eq!(err, CryptoError::Authentication);
}

#[test]
fn malformed_blobs_are_refused_by_kind() {
    let key = AccessorKey::derive(&test_master(), "wasm:00:alice.near");
    let blob = encrypt(key.public(), b"{}");
    assert_eq!(
        key.decrypt(&blob[..crypto::MIN_BLOB_LEN - 1]),
        Err(CryptoError::TooShort(60))
    );
    let mut v2 = blob.clone();
    v2[0] = 2;
    assert_eq!(key.decrypt(&v2), Err(CryptoError::UnknownVersion(2)));
    for i in [1, 33, 45, blob.len() - 1] {
        let mut tampered = blob.clone();
        tampered[i] ^= 0x10;
        assert!(key.decrypt(&tampered).is_err(), "byte {i}");
    }
    // An all-zero (low-order) ephemeral key gives a predictable shared
    // secret; it is refused before decryption.
    let mut zero_eph = blob.clone();
    zero_eph[1..33].fill(0);
    assert_eq!(key.decrypt(&zero_eph), Err(CryptoError::WeakKey));
}
