//! Key derivation and the secrets blob. The normative description, with test
//! vectors, is `docs/keystore-crypto.md`; keep the two in step.
//!
//! - Accessor key: X25519 static secret = HKDF-SHA256(ikm = master, no salt,
//!   info = `"outlayer/keystore/v1:" + seed`), 32 bytes.
//! - Blob: `0x01 ‖ ephemeral public (32) ‖ nonce (12) ‖ ChaCha20-Poly1305
//!   ciphertext+tag`, key = HKDF-SHA256(ikm = X25519(eph, recipient),
//!   salt = eph_pub ‖ recipient_pub, info = `"outlayer/secrets/v1"`).

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use crate::MasterSecret;

pub const BLOB_VERSION: u8 = 0x01;
pub const KEY_INFO_PREFIX: &str = "outlayer/keystore/v1:";
pub const BLOB_INFO: &[u8] = b"outlayer/secrets/v1";
const HEADER_LEN: usize = 1 + 32 + 12;
const TAG_LEN: usize = 16;
/// Smallest valid blob: header and tag around an empty plaintext.
pub const MIN_BLOB_LEN: usize = HEADER_LEN + TAG_LEN;

/// Why a blob cannot be opened. Deliberately coarse: the caller learns that
/// the blob is unusable, not which byte was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("blob is {0} bytes, shorter than the minimum {MIN_BLOB_LEN}")]
    TooShort(usize),
    #[error("unknown blob version {0:#04x} (expected 0x01)")]
    UnknownVersion(u8),
    #[error("blob carries a degenerate ephemeral key")]
    WeakKey,
    #[error("blob does not authenticate for this accessor and owner")]
    Authentication,
}

/// One accessor's key pair. The secret half zeroizes itself on drop.
pub struct AccessorKey {
    secret: StaticSecret,
    public: PublicKey,
}

impl AccessorKey {
    /// Derives the key for `seed` (an accessor's [`key_seed`]).
    ///
    /// [`key_seed`]: outlayer_types::Accessor::key_seed
    pub fn derive(master: &MasterSecret, seed: &str) -> Self {
        let secret = StaticSecret::from(*derive_secret_bytes(master, seed));
        let public = PublicKey::from(&secret);
        Self { secret, public }
    }

    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    pub fn public_hex(&self) -> String {
        hex::encode(self.public.as_bytes())
    }

    /// Opens a blob sealed to this key.
    pub fn decrypt(&self, blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if blob.len() < MIN_BLOB_LEN {
            return Err(CryptoError::TooShort(blob.len()));
        }
        if blob[0] != BLOB_VERSION {
            return Err(CryptoError::UnknownVersion(blob[0]));
        }
        let eph: [u8; 32] = blob[1..33].try_into().expect("length checked");
        let eph = PublicKey::from(eph);
        let nonce = Nonce::from_slice(&blob[33..HEADER_LEN]);
        let shared = self.secret.diffie_hellman(&eph);
        // A low-order ephemeral point gives an all-zero shared secret that
        // anyone can compute; refuse it rather than "decrypt" with it.
        if !shared.was_contributory() {
            return Err(CryptoError::WeakKey);
        }
        let cipher = blob_cipher(shared.as_bytes(), &eph, &self.public);
        cipher
            .decrypt(nonce, &blob[HEADER_LEN..])
            .map(Zeroizing::new)
            .map_err(|_| CryptoError::Authentication)
    }
}

/// The X25519 private key bytes for `seed` (clamped when used, per RFC 7748).
pub fn derive_secret_bytes(master: &MasterSecret, seed: &str) -> Zeroizing<[u8; 32]> {
    let info = format!("{KEY_INFO_PREFIX}{seed}");
    let mut okm = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(None, master.expose())
        .expand(info.as_bytes(), okm.as_mut_slice())
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    okm
}

/// The ChaCha20-Poly1305 key for a blob: HKDF-SHA256 of the X25519 shared
/// secret, salted with both public keys so the key is bound to this pair.
pub fn blob_key(shared: &[u8; 32], eph: &PublicKey, recipient: &PublicKey) -> Zeroizing<[u8; 32]> {
    let mut salt = [0u8; 64];
    salt[..32].copy_from_slice(eph.as_bytes());
    salt[32..].copy_from_slice(recipient.as_bytes());
    let mut key = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(Some(&salt), shared)
        .expand(BLOB_INFO, key.as_mut_slice())
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    key
}

/// Seals `plaintext` to `recipient` with a fresh ephemeral key and nonce.
pub fn encrypt(recipient: &PublicKey, plaintext: &[u8]) -> Vec<u8> {
    let mut eph = Zeroizing::new([0u8; 32]);
    let mut nonce = [0u8; 12];
    getrandom::fill(eph.as_mut_slice()).expect("the OS random source is available");
    getrandom::fill(&mut nonce).expect("the OS random source is available");
    encrypt_with(recipient, plaintext, &eph, &nonce)
}

/// Deterministic sealing from a given ephemeral secret and nonce: only for
/// known-answer tests. Reusing either in production breaks the scheme.
pub fn encrypt_with(
    recipient: &PublicKey,
    plaintext: &[u8],
    ephemeral_secret: &[u8; 32],
    nonce: &[u8; 12],
) -> Vec<u8> {
    let eph_secret = StaticSecret::from(*ephemeral_secret);
    let eph_public = PublicKey::from(&eph_secret);
    let shared = eph_secret.diffie_hellman(recipient);
    let cipher = blob_cipher(shared.as_bytes(), &eph_public, recipient);
    let ciphertext = cipher
        .encrypt(Nonce::from_slice(nonce), plaintext)
        .expect("ChaCha20-Poly1305 encrypts any plaintext under 256 GiB");
    let mut blob = Vec::with_capacity(HEADER_LEN + ciphertext.len());
    blob.push(BLOB_VERSION);
    blob.extend_from_slice(eph_public.as_bytes());
    blob.extend_from_slice(nonce);
    blob.extend_from_slice(&ciphertext);
    blob
}

/// Parses a 64-hex-digit X25519 public key.
pub fn parse_public_key(text: &str) -> Option<PublicKey> {
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut bytes).ok()?;
    Some(PublicKey::from(bytes))
}

fn blob_cipher(shared: &[u8; 32], eph: &PublicKey, recipient: &PublicKey) -> ChaCha20Poly1305 {
    ChaCha20Poly1305::new(Key::from_slice(blob_key(shared, eph, recipient).as_slice()))
}
