import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { x25519 } from '@noble/curves/ed25519.js';

import { InvalidAccessor, keySeed, normalizeAccessor, normalizeRepo, type Accessor } from './accessor';
import {
  bytesToHex,
  deriveAccessorKey,
  fromBase64,
  hexToBytes,
  open,
  parsePublicKey,
  seal,
  sealWithParts,
  toBase64,
} from './ecies';
import {
  MAX_SECRETS_BLOB_BASE64,
  MAX_SECRETS_PLAINTEXT_BYTES,
  SecretsError,
  canonicalJson,
  encryptSecrets,
  secretNameError,
  secretsPlaintext,
} from './secrets';

// The committed vectors, read from the repository (never copied here).
const vectorsPath = fileURLToPath(new URL('../../../docs/keystore-crypto-vectors.json', import.meta.url));
const vectors = JSON.parse(readFileSync(vectorsPath, 'utf8')) as {
  blob_info: string;
  key_info_prefix: string;
  masters: { test: string; development: string };
  normalisation: Array<{ accessor: Accessor; owner: string; seed: string }>;
  keys: Array<{ master: string; seed: string; info: string; secret_hex: string; public_hex: string }>;
  blobs: Array<{
    master: string;
    seed: string;
    plaintext: string;
    ephemeral_secret_hex: string;
    ephemeral_public_hex: string;
    nonce_hex: string;
    recipient_public_hex: string;
    shared_secret_hex: string;
    aead_key_hex: string;
    blob_hex: string;
    blob_base64: string;
  }>;
  invalid_blobs: Array<{ master: string; seed: string; blob_base64: string; description: string }>;
};

const utf8 = new TextEncoder();
const masters: Record<string, Uint8Array> = {
  test: hexToBytes(vectors.masters.test),
  development: sha256(utf8.encode('outlayer development master secret v1')),
};
function master(name: string): Uint8Array {
  const m = masters[name];
  if (!m) throw new Error(`unknown master ${name}`);
  return m;
}

describe('the committed vectors', () => {
  it('are the ones this test expects', () => {
    expect(vectors.blob_info).toBe('outlayer/secrets/v1');
    expect(vectors.key_info_prefix).toBe('outlayer/keystore/v1:');
    expect(vectors.normalisation.length).toBeGreaterThanOrEqual(10);
    expect(vectors.keys.length).toBeGreaterThanOrEqual(6);
    expect(vectors.blobs.length).toBeGreaterThanOrEqual(3);
    expect(vectors.invalid_blobs.length).toBeGreaterThanOrEqual(6);
  });

  it.each(vectors.normalisation.map((n) => [n.seed, n] as const))('normalise to seed %s', (_seed, n) => {
    expect(keySeed(normalizeAccessor(n.accessor), n.owner)).toBe(n.seed);
  });

  it.each(vectors.keys.map((k) => [k.seed, k] as const))('derive the key for %s', (_seed, k) => {
    expect(k.info).toBe(`outlayer/keystore/v1:${k.seed}`);
    const key = deriveAccessorKey(master(k.master), k.seed);
    expect(bytesToHex(key.secret)).toBe(k.secret_hex);
    expect(bytesToHex(key.public)).toBe(k.public_hex);
  });

  it.each(vectors.blobs.map((b) => [b.seed, b] as const))('seal byte for byte for %s', (_seed, b) => {
    const recipient = deriveAccessorKey(master(b.master), b.seed);
    expect(bytesToHex(recipient.public)).toBe(b.recipient_public_hex);
    const parts = sealWithParts(
      parsePublicKey(b.recipient_public_hex),
      utf8.encode(b.plaintext),
      hexToBytes(b.ephemeral_secret_hex),
      hexToBytes(b.nonce_hex),
    );
    expect(bytesToHex(parts.ephemeralPublic)).toBe(b.ephemeral_public_hex);
    expect(bytesToHex(parts.shared)).toBe(b.shared_secret_hex);
    expect(bytesToHex(parts.key)).toBe(b.aead_key_hex);
    expect(bytesToHex(parts.blob)).toBe(b.blob_hex);
    expect(toBase64(parts.blob)).toBe(b.blob_base64);
    expect(parts.blob.length).toBe(61 + utf8.encode(b.plaintext).length);
    expect(new TextDecoder().decode(open(recipient.secret, fromBase64(b.blob_base64)))).toBe(b.plaintext);
  });

  it.each(vectors.invalid_blobs.map((b) => [b.description, b] as const))('refuse to open: %s', (_d, b) => {
    const recipient = deriveAccessorKey(master(b.master), b.seed);
    expect(() => open(recipient.secret, fromBase64(b.blob_base64))).toThrow();
  });
});

describe('sealing in the browser', () => {
  const recipient = deriveAccessorKey(master('test'), 'repo:github.com/alice/app:alice.near');

  it('draws a fresh ephemeral key and nonce for every blob, and the keystore opens each', () => {
    const plaintext = utf8.encode('{"API_KEY":"x"}');
    const a = seal(recipient.public, plaintext);
    const b = seal(recipient.public, plaintext);
    expect(a.length).toBe(61 + plaintext.length);
    expect(a[0]).toBe(1);
    expect(bytesToHex(a.subarray(1, 45))).not.toBe(bytesToHex(b.subarray(1, 45)));
    expect(open(recipient.secret, a)).toEqual(plaintext);
    expect(open(recipient.secret, b)).toEqual(plaintext);
  });

  it('cannot be opened for another owner', () => {
    const other = deriveAccessorKey(master('test'), 'repo:github.com/alice/app:bob.near');
    const blob = seal(recipient.public, utf8.encode('{}'));
    expect(() => open(other.secret, blob)).toThrow();
  });

  it('refuses a low-order recipient key', () => {
    expect(() => seal(new Uint8Array(32), utf8.encode('{}'))).toThrow();
  });

  it('refuses a public key that is not 64 lower-case hex digits', () => {
    expect(() => parsePublicKey('AB'.repeat(32))).toThrow('64 lower-case hex digits');
    expect(() => parsePublicKey('ab'.repeat(31))).toThrow('64 lower-case hex digits');
    expect(bytesToHex(parsePublicKey('ab'.repeat(32)))).toBe('ab'.repeat(32));
  });

  it('encrypts checked secrets into base64 the keystore opens to compact sorted JSON', () => {
    const blob = encryptSecrets(bytesToHex(recipient.public), [
      ['B', 'two'],
      ['A_KEY', 'héllo ✓ "quoted"\n'],
    ]);
    const plaintext = new TextDecoder().decode(open(recipient.secret, fromBase64(blob)));
    expect(plaintext).toBe('{"A_KEY":"héllo ✓ \\"quoted\\"\\n","B":"two"}');
    // Equal to what x25519 ECDH gives on the keystore's side.
    expect(x25519.getPublicKey(recipient.secret)).toEqual(recipient.public);
  });
});

describe('accessor normalisation refuses as the contract does', () => {
  const cases: Array<[string, string]> = [
    ['', 'repository must not be empty'],
    [' \t\n\f\r', 'repository must not be empty'],
    ['a/' + 'b'.repeat(511), 'repository longer than 512 characters'],
    ['https://github.com:x/alice/app', 'repository "https://github.com:x/alice/app" has a port that is not a number'],
    ['https://github.com:/alice/app', 'repository "https://github.com:/alice/app" has a port that is not a number'],
    ['my.org/app', 'repository "my.org/app" is not of the form host/owner/name'],
    ['alice', 'repository "alice" is not of the form host/owner/name'],
    ['github.com/alice/../app', 'repository "github.com/alice/../app" is not of the form host/owner/name'],
    ['github.com/alice//app', 'repository "github.com/alice//app" is not of the form host/owner/name'],
    ['github.com/alice/ap p', 'repository "github.com/alice/ap p" is not of the form host/owner/name'],
    ['github.com/alice/äpp', 'repository "github.com/alice/äpp" is not of the form host/owner/name'],
  ];
  it.each(cases)('%j', (repo, message) => {
    expect(() => normalizeRepo(repo)).toThrow(InvalidAccessor);
    expect(() => normalizeRepo(repo)).toThrow(message);
  });

  it('accepts exactly 512 bytes and keeps the rules of each step', () => {
    const long = 'a/' + 'b'.repeat(510);
    expect(normalizeRepo(long)).toBe('github.com/' + long);
    expect(normalizeRepo('  HTTPS://GitHub.com/Alice/App.git/  ')).toBe('github.com/alice/app');
    expect(normalizeRepo('git+ssh://git@gitlab.com/g/p')).toBe('gitlab.com/g/p');
    // A vertical tab is not ASCII whitespace to Rust's trim_ascii.
    expect(() => normalizeRepo('\vgithub.com/a/b')).toThrow('is not of the form host/owner/name');
    expect(normalizeRepo('file:///Work/Main//')).toBe('file:///work/main');
    expect(normalizeRepo('https://www.example.org/a/b')).toBe('example.org/a/b');
  });

  it('branches: trimmed, empty is none, no whitespace or controls, at most 255 bytes', () => {
    const repo = (branch: string | null): Accessor => ({ Repo: { repo: 'alice/app', branch } });
    expect(normalizeAccessor(repo(' main '))).toEqual({ Repo: { repo: 'github.com/alice/app', branch: 'main' } });
    expect(normalizeAccessor(repo(''))).toEqual({ Repo: { repo: 'github.com/alice/app', branch: null } });
    expect(normalizeAccessor(repo('Feature/X'))).toEqual({ Repo: { repo: 'github.com/alice/app', branch: 'Feature/X' } });
    expect(normalizeAccessor(repo('b'.repeat(255)))).toBeTruthy();
    expect(() => normalizeAccessor(repo('b'.repeat(256)))).toThrow(`invalid branch name "${'b'.repeat(256)}"`);
    expect(() => normalizeAccessor(repo('a b'))).toThrow('invalid branch name "a b"');
    expect(() => normalizeAccessor(repo('a\u00a0b'))).toThrow('invalid branch name');
    expect(() => normalizeAccessor(repo('a\u0007b'))).toThrow('invalid branch name');
  });

  it('wasm hashes: 64 hex digits, trimmed and lower-cased', () => {
    expect(normalizeAccessor({ WasmHash: { hash: ` ${'AB'.repeat(32)}\n` } })).toEqual({ WasmHash: { hash: 'ab'.repeat(32) } });
    for (const bad of ['ab'.repeat(31), 'ab'.repeat(33), 'g'.repeat(64), '']) {
      expect(() => normalizeAccessor({ WasmHash: { hash: bad } })).toThrow('wasm hash must be 64 hex digits (SHA-256)');
    }
  });
});

describe('secrets plaintext is checked as the keystore checks it', () => {
  it('writes compact JSON with sorted keys', () => {
    expect(canonicalJson({ B: '2', A_KEY: '1' })).toBe('{"A_KEY":"1","B":"2"}');
    expect(new TextDecoder().decode(secretsPlaintext([['B', '2'], ['A_KEY', '1']]))).toBe('{"A_KEY":"1","B":"2"}');
  });

  it('refuses invalid and reserved names with the runtime messages', () => {
    expect(secretNameError('API_KEY')).toBeNull();
    expect(secretNameError('_x9')).toBeNull();
    expect(secretNameError('near_lower')).toBeNull();
    for (const bad of ['', '9A', 'A-B', 'A B', 'Ä', 'A'.repeat(129)]) {
      expect(secretNameError(bad)).toBe(
        `${JSON.stringify(bad)} is not a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*, at most 128 bytes)`,
      );
    }
    expect(secretNameError('A'.repeat(128))).toBeNull();
    for (const reserved of ['NEAR_SENDER_ID', 'NEAR_ANYTHING', 'OUTLAYER_X', 'TZ', 'LANG']) {
      expect(secretNameError(reserved)).toBe(`"${reserved}" is reserved by the runtime (NEAR_*, OUTLAYER_*, TZ, LANG)`);
    }
  });

  it('refuses more than 64 entries, values over 16 KiB and plaintext over 24,515 bytes', () => {
    const many = Array.from({ length: 65 }, (_, i): [string, string] => [`K${i}`, '']);
    expect(() => secretsPlaintext(many)).toThrow('at most 64 secrets per profile (got 65)');
    expect(secretsPlaintext(many.slice(0, 64)).length).toBeGreaterThan(0);
    expect(() => secretsPlaintext([['V', 'x'.repeat(16 * 1024 + 1)]])).toThrow('the value of "V" is longer than 16384 bytes');
    expect(() => secretsPlaintext([['V', 'é'.repeat(8 * 1024 + 1)]])).toThrow('longer than 16384 bytes');
    secretsPlaintext([['V', 'x'.repeat(16 * 1024)]]);
    expect(() => secretsPlaintext([['A', 'x']])).not.toThrow();
    expect(() => secretsPlaintext([['NEAR_X', 'x']])).toThrow(SecretsError);
    expect(() => secretsPlaintext([['A', '1'], ['A', '2']])).toThrow('"A" is given twice');
  });

  it('puts the plaintext limit exactly where the contract blob limit is', () => {
    expect(MAX_SECRETS_PLAINTEXT_BYTES).toBe(24_515);
    // {"A":"…","B":"…"} of exactly 24,515 bytes, then one more.
    const overhead = '{"A":"","B":""}'.length;
    const a = 16 * 1024;
    const exact: Array<[string, string]> = [['A', 'x'.repeat(a)], ['B', 'y'.repeat(24_515 - overhead - a)]];
    const plaintext = secretsPlaintext(exact);
    expect(plaintext.length).toBe(24_515);
    const recipient = deriveAccessorKey(master('test'), 's');
    expect(encryptSecrets(bytesToHex(recipient.public), exact).length).toBe(MAX_SECRETS_BLOB_BASE64);
    const over: Array<[string, string]> = [exact[0]!, ['B', exact[1]![1] + 'y']];
    expect(() => secretsPlaintext(over)).toThrow(
      "secrets are longer than 24515 bytes in all (as compact JSON): their encrypted form would not fit the contract's 32768 base64 characters",
    );
  });
});
