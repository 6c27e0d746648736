// The keystore's ECIES blob, version 1 (docs/keystore-crypto.md §2-3):
// X25519, HKDF-SHA256, ChaCha20-Poly1305. The browser only seals; the
// key derivation and `open` are here so the tests can check every vector
// the way the keystore would.

import { x25519 } from '@noble/curves/ed25519.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';

export const VERSION = 0x01;
export const KEY_INFO_PREFIX = 'outlayer/keystore/v1:';
export const BLOB_INFO = 'outlayer/secrets/v1';
/** Version byte, ephemeral key, nonce, tag. */
export const BLOB_OVERHEAD = 1 + 32 + 12 + 16;

const utf8 = new TextEncoder();

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function hexToBytes(hex: string): Uint8Array {
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new Error('not hex');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bytesToHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Standard base64 with padding (RFC 4648 §4). */
export function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** A recipient public key as the keystore hands it out: 64 hex digits. */
export function parsePublicKey(hex: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error('the keystore public key must be 64 lower-case hex digits');
  return hexToBytes(hex);
}

function aeadKey(shared: Uint8Array, ephemeralPublic: Uint8Array, recipientPublic: Uint8Array): Uint8Array {
  return hkdf(sha256, shared, concat(ephemeralPublic, recipientPublic), utf8.encode(BLOB_INFO), 32);
}

function isAllZero(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}

export interface SealParts {
  ephemeralPublic: Uint8Array;
  shared: Uint8Array;
  key: Uint8Array;
  blob: Uint8Array;
}

/**
 * Seals `plaintext` for `recipientPublic`. `ephemeralSecret` and `nonce` are
 * for the known-answer tests only: leave them out and fresh random ones are
 * drawn from the platform's CSPRNG.
 */
export function sealWithParts(
  recipientPublic: Uint8Array,
  plaintext: Uint8Array,
  ephemeralSecret: Uint8Array = randomBytes(32),
  nonce: Uint8Array = randomBytes(12),
): SealParts {
  if (recipientPublic.length !== 32) throw new Error('recipient public key must be 32 bytes');
  if (ephemeralSecret.length !== 32 || nonce.length !== 12) throw new Error('bad ephemeral key or nonce');
  const ephemeralPublic = x25519.getPublicKey(ephemeralSecret);
  const shared = x25519.getSharedSecret(ephemeralSecret, recipientPublic);
  if (isAllZero(shared)) throw new Error('the recipient public key is of low order');
  const key = aeadKey(shared, ephemeralPublic, recipientPublic);
  const sealed = chacha20poly1305(key, nonce).encrypt(plaintext);
  const blob = concat(Uint8Array.of(VERSION), ephemeralPublic, nonce, sealed);
  return { ephemeralPublic, shared, key, blob };
}

export function seal(recipientPublic: Uint8Array, plaintext: Uint8Array): Uint8Array {
  return sealWithParts(recipientPublic, plaintext).blob;
}

/** The accessor's key pair from the keystore's master (§2). Keystore side; tests only. */
export function deriveAccessorKey(master: Uint8Array, seed: string): { secret: Uint8Array; public: Uint8Array } {
  const secret = hkdf(sha256, master, undefined, utf8.encode(KEY_INFO_PREFIX + seed), 32);
  return { secret, public: x25519.getPublicKey(secret) };
}

/** Opens a blob with the accessor's secret (§3). Keystore side; tests only. */
export function open(secret: Uint8Array, blob: Uint8Array): Uint8Array {
  if (blob.length < 61 || blob[0] !== VERSION) throw new Error('malformed blob');
  const ephemeralPublic = blob.subarray(1, 33);
  const nonce = blob.subarray(33, 45);
  let shared: Uint8Array;
  try {
    shared = x25519.getSharedSecret(secret, ephemeralPublic);
  } catch {
    throw new Error('low-order ephemeral key');
  }
  if (isAllZero(shared)) throw new Error('low-order ephemeral key');
  const key = aeadKey(shared, ephemeralPublic, x25519.getPublicKey(secret));
  return chacha20poly1305(key, nonce).decrypt(blob.subarray(45));
}
