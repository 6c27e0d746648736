// The plaintext inside a blob (docs/keystore-crypto.md §4), checked as the
// keystore checks it (crates/keystore/src/plaintext.rs, outlayer_types::env)
// with the same messages, before anything is encrypted.

import { byteLength, debugString } from './accessor';
import { BLOB_OVERHEAD, parsePublicKey, seal, toBase64 } from './ecies';

export const MAX_SECRETS = 64;
export const MAX_VALUE_BYTES = 16 * 1024;
export const MAX_SECRET_NAME_LEN = 128;
/** outlayer_types::limits::MAX_SECRETS_BLOB_BASE64 */
export const MAX_SECRETS_BLOB_BASE64 = 32 * 1024;
/** outlayer_types::limits::MAX_SECRETS_PLAINTEXT_BYTES = 24,515 */
export const MAX_SECRETS_PLAINTEXT_BYTES = (MAX_SECRETS_BLOB_BASE64 / 4) * 3 - BLOB_OVERHEAD;

const FIXED_ENV = ['TZ', 'LANG'];
const CONTEXT_ENV_NAMES = [
  'NEAR_REQUEST_ID',
  'NEAR_SENDER_ID',
  'NEAR_PREDECESSOR_ID',
  'NEAR_CONTRACT_ID',
  'NEAR_BLOCK_HEIGHT',
  'NEAR_BLOCK_TIMESTAMP',
  'NEAR_TRANSACTION_HASH',
  'NEAR_MAX_INSTRUCTIONS',
  'NEAR_MAX_MEMORY_MB',
  'NEAR_MAX_EXECUTION_SECONDS',
  'OUTLAYER_EXECUTION_TYPE',
];
const RESERVED_ENV_PREFIXES = ['NEAR_', 'OUTLAYER_'];

export function isReservedEnvName(name: string): boolean {
  return (
    RESERVED_ENV_PREFIXES.some((p) => name.startsWith(p)) || FIXED_ENV.includes(name) || CONTEXT_ENV_NAMES.includes(name)
  );
}

/** `check_secret_name`: null when `name` may carry a secret, else the message. */
export function secretNameError(name: string): string | null {
  const valid = name.length > 0 && byteLength(name) <= MAX_SECRET_NAME_LEN && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
  if (!valid) {
    return `${debugString(name)} is not a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*, at most ${MAX_SECRET_NAME_LEN} bytes)`;
  }
  if (isReservedEnvName(name)) {
    return `${debugString(name)} is reserved by the runtime (NEAR_*, OUTLAYER_*, TZ, LANG)`;
  }
  return null;
}

export class SecretsError extends Error {}

/** The canonical plaintext: compact JSON with keys sorted, as serde_json writes a BTreeMap. */
export function canonicalJson(entries: Record<string, string>): string {
  const sorted: Record<string, string> = {};
  for (const name of Object.keys(entries).sort()) sorted[name] = entries[name]!;
  return JSON.stringify(sorted);
}

/**
 * Checks name/value pairs as `SecretMap::from_value` does and returns the
 * plaintext bytes to seal. Duplicate names are refused here (a JSON object
 * would silently keep the last).
 */
export function secretsPlaintext(pairs: Array<[string, string]>): Uint8Array {
  const entries: Record<string, string> = {};
  for (const [name] of pairs) {
    if (Object.prototype.hasOwnProperty.call(entries, name)) {
      throw new SecretsError(`${debugString(name)} is given twice`);
    }
    entries[name] = '';
  }
  if (pairs.length > MAX_SECRETS) {
    throw new SecretsError(`at most ${MAX_SECRETS} secrets per profile (got ${pairs.length})`);
  }
  // In the keystore's order: names sorted, as serde_json's map iterates.
  const sorted = [...pairs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, value] of sorted) {
    const nameError = secretNameError(name);
    if (nameError) throw new SecretsError(nameError);
    if (byteLength(value) > MAX_VALUE_BYTES) {
      throw new SecretsError(`the value of ${debugString(name)} is longer than ${MAX_VALUE_BYTES} bytes`);
    }
    entries[name] = value;
  }
  const bytes = new TextEncoder().encode(canonicalJson(entries));
  if (bytes.length > MAX_SECRETS_PLAINTEXT_BYTES) {
    throw new SecretsError(
      `secrets are longer than ${MAX_SECRETS_PLAINTEXT_BYTES} bytes in all (as compact JSON): their encrypted form would not fit the contract's ${MAX_SECRETS_BLOB_BASE64} base64 characters`,
    );
  }
  return bytes;
}

/** Checks and seals the pairs for the keystore's public key (hex); returns the base64 blob. */
export function encryptSecrets(pubkeyHex: string, pairs: Array<[string, string]>): string {
  const plaintext = secretsPlaintext(pairs);
  const blob = seal(parsePublicKey(pubkeyHex), plaintext);
  plaintext.fill(0);
  return toBase64(blob);
}
