#!/usr/bin/env python3
"""Independent check of docs/keystore-crypto-vectors.json.

Recomputes every key and blob from the spec (docs/keystore-crypto.md) with
the Python `cryptography` package, not with our Rust code, so a mistake in
the Rust implementation cannot also hide in its own check. Exit 0 when every
vector matches byte for byte.
"""
import base64
import hashlib
import json
import sys
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw


def hkdf(ikm: bytes, salt, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


def public_of(secret: bytes) -> bytes:
    return X25519PrivateKey.from_private_bytes(secret).public_key().public_bytes(*RAW)


def accessor_secret(master: bytes, seed: str) -> bytes:
    return hkdf(master, None, ("outlayer/keystore/v1:" + seed).encode())


def seal(recipient_pub: bytes, plaintext: bytes, eph_secret: bytes, nonce: bytes) -> bytes:
    eph = X25519PrivateKey.from_private_bytes(eph_secret)
    eph_pub = eph.public_key().public_bytes(*RAW)
    shared = eph.exchange(X25519PublicKey.from_public_bytes(recipient_pub))
    key = hkdf(shared, eph_pub + recipient_pub, b"outlayer/secrets/v1")
    return b"\x01" + eph_pub + nonce + ChaCha20Poly1305(key).encrypt(nonce, plaintext, None)


def open_blob(secret: bytes, blob: bytes) -> bytes:
    if len(blob) < 61 or blob[0] != 1:
        raise ValueError("malformed blob")
    eph_pub, nonce, body = blob[1:33], blob[33:45], blob[45:]
    recipient = X25519PrivateKey.from_private_bytes(secret)
    recipient_pub = recipient.public_key().public_bytes(*RAW)
    shared = recipient.exchange(X25519PublicKey.from_public_bytes(eph_pub))
    key = hkdf(shared, eph_pub + recipient_pub, b"outlayer/secrets/v1")
    return ChaCha20Poly1305(key).decrypt(nonce, body, None)


def main() -> int:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent.parent / "docs/keystore-crypto-vectors.json")
    vectors = json.loads(path.read_text())
    masters = {
        "test": bytes.fromhex(vectors["masters"]["test"]),
        "development": hashlib.sha256(b"outlayer development master secret v1").digest(),
    }
    checked = failed = 0

    def expect(what: str, ok: bool) -> None:
        nonlocal checked, failed
        checked += 1
        if not ok:
            failed += 1
            print(f"MISMATCH: {what}", file=sys.stderr)

    for k in vectors["keys"]:
        secret = accessor_secret(masters[k["master"]], k["seed"])
        expect(f"secret for {k['seed']}", secret.hex() == k["secret_hex"])
        expect(f"public key for {k['seed']}", public_of(secret).hex() == k["public_hex"])

    for b in vectors["blobs"]:
        secret = accessor_secret(masters[b["master"]], b["seed"])
        recipient_pub = public_of(secret)
        expect(f"recipient of blob for {b['seed']}", recipient_pub.hex() == b["recipient_public_hex"])
        eph_secret = bytes.fromhex(b["ephemeral_secret_hex"])
        expect("ephemeral public key", public_of(eph_secret).hex() == b["ephemeral_public_hex"])
        blob = seal(recipient_pub, b["plaintext"].encode(), eph_secret, bytes.fromhex(b["nonce_hex"]))
        expect(f"blob hex for {b['seed']}", blob.hex() == b["blob_hex"])
        expect(f"blob base64 for {b['seed']}", base64.b64encode(blob).decode() == b["blob_base64"])
        expect(f"blob opens for {b['seed']}", open_blob(secret, blob) == b["plaintext"].encode())

    for bad in vectors["invalid_blobs"]:
        secret = accessor_secret(masters[bad["master"]], bad["seed"])
        try:
            open_blob(secret, base64.b64decode(bad["blob_base64"]))
            expect(f"invalid blob refused: {bad['description']}", False)
        except (InvalidTag, ValueError):
            expect(f"invalid blob refused: {bad['description']}", True)

    print(f"crypto vectors: {checked} checks, {failed} mismatches")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
