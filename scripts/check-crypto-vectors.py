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


ASCII_WHITESPACE = " \t\n\x0c\r"


def normalise_repo(text: str) -> str:
    """docs/keystore-crypto.md §1, the repo steps 1-10, read literally."""
    raw = text.strip(ASCII_WHITESPACE)
    if not raw or len(raw) > 512:
        raise ValueError("empty or too long")
    lower = "".join(c.lower() if "A" <= c <= "Z" else c for c in raw)
    if lower.startswith("file://"):
        path = lower.rstrip("/")
        return path[: -len(".git")] if path.endswith(".git") else path
    had_scheme = False
    for scheme in ("https://", "http://", "ssh://", "git://", "git+ssh://"):
        if lower.startswith(scheme):
            lower, had_scheme = lower[len(scheme):], True
            break
    authority, _, path = lower.partition("/")
    if "@" in authority:
        authority = authority.rsplit("@", 1)[1]
    if ":" in authority:
        host, x = authority.split(":", 1)
        if had_scheme:
            if not x.isdigit() or not x.isascii():
                raise ValueError("port is not a number")
            joined = f"{host}/{path}"
        else:
            joined = f"{host}/{x}/{path}"
    else:
        joined = f"{authority}/{path}"
    joined = joined.rstrip("/")
    if joined.endswith(".git"):
        joined = joined[: -len(".git")]
    joined = joined.rstrip("/")
    if joined.startswith("www."):
        joined = joined[len("www."):]
    if "." not in joined.split("/")[0]:
        joined = "github.com/" + joined
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789._-")
    segments = joined.split("/")
    if len(segments) < 3 or any(s in ("", ".", "..") or not set(s) <= allowed for s in segments):
        raise ValueError("not host/owner/name")
    return joined


def seed_of(accessor: dict, owner: str) -> str:
    """The seed table of §1, after normalising the accessor."""
    if "Repo" in accessor:
        repo = normalise_repo(accessor["Repo"]["repo"])
        branch = (accessor["Repo"].get("branch") or "").strip(ASCII_WHITESPACE)
        return f"repo:{repo}:{owner}" + (f":{branch}" if branch else "")
    return f"wasm:{accessor['WasmHash']['hash'].strip(ASCII_WHITESPACE).lower()}:{owner}"


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

    for n in vectors["normalisation"]:
        expect(f"seed of {n['accessor']}", seed_of(n["accessor"], n["owner"]) == n["seed"])

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
