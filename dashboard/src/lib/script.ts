// Inline JavaScript (`CodeSource::JavaScript { code }`): the contract's size
// rule, the deposit's extra bytes and the content hash secrets are bound to.

import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

import type { Accessor } from '../crypto/accessor';

import hello from '../../../examples/js/hello.js?raw';
import compute from '../../../examples/js/compute.js?raw';

/** outlayer_types::limits::MAX_INLINE_SCRIPT_BYTES: the code as a JSON string. */
export const MAX_INLINE_SCRIPT_BYTES = 4096;

/** This checkout's examples/js, bundled into the build. */
export const SCRIPT_EXAMPLES: ReadonlyArray<{ name: string; code: string }> = [
  { name: 'examples/js/hello.js', code: hello },
  { name: 'examples/js/compute.js', code: compute },
];

const utf8 = new TextEncoder();

/**
 * outlayer_types::limits::json_string_len: bytes `text` takes as a JSON
 * string as serde_json writes it: the two quotes, two bytes for `"` `\` and
 * \b \t \n \f \r, six (`\u00XX`) for the other control characters, every
 * other UTF-8 byte as is.
 */
export function jsonStringLength(text: string): number {
  let n = 2;
  for (const b of utf8.encode(text)) {
    if (b === 0x22 || b === 0x5c || b === 0x08 || b === 0x09 || b === 0x0a || b === 0x0c || b === 0x0d) n += 2;
    else if (b < 0x20) n += 6;
    else n += 1;
  }
  return n;
}

/** A UTF-16 half without its other half: JSON can carry it, the contract's parser cannot. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * What `CodeSource::validate` says of inline code (without the
 * "invalid code_source: " the contract puts before it), or null. Rust's
 * `str::trim` strips Unicode White_Space, which is not quite JavaScript's
 * `trim` (U+0085 is White_Space, U+FEFF is not).
 */
export function scriptCodeError(code: string): string | null {
  if (/^\p{White_Space}*$/u.test(code)) return 'code must not be empty';
  const size = jsonStringLength(code);
  if (size > MAX_INLINE_SCRIPT_BYTES) {
    return `code takes ${size} bytes as a JSON string, above the cap ${MAX_INLINE_SCRIPT_BYTES}; put larger scripts in a repository`;
  }
  return null;
}

/** Whether `code` holds a lone surrogate (text no UTF-8 can carry). */
export function hasLoneSurrogate(code: string): boolean {
  return LONE_SURROGATE.test(code);
}

/** SHA-256 (lower-case hex) of the code's UTF-8 bytes: its `WasmHash` accessor and the coordinator's checksum. */
export function scriptHash(code: string): string {
  return bytesToHex(sha256(utf8.encode(code)));
}

/** The accessor whose secrets a request carrying this code may read (`CodeSource::secrets_accessors`). */
export function scriptAccessor(code: string): Accessor {
  return { WasmHash: { hash: scriptHash(code) } };
}

/** The code's length in UTF-8 bytes: what the contract keeps with the request and charges storage for. */
export function scriptBytes(code: string): number {
  return utf8.encode(code).length;
}

/** The inline code of a source, if it is one. */
export function inlineCode(source: unknown): string | null {
  const s = source as { JavaScript?: { code?: unknown } } | null;
  return typeof s === 'object' && s !== null && typeof s.JavaScript?.code === 'string' ? s.JavaScript.code : null;
}

/** `CodeSource::inline_code_bytes`: added to `input_bytes` for `estimate_execution_cost`. */
export function inlineCodeBytes(source: unknown): number {
  const code = inlineCode(source);
  return code === null ? 0 : scriptBytes(code);
}

/**
 * `input_bytes` for `estimate_execution_cost`: what request_execution keeps
 * in state with the request (the input and any inline code), in UTF-8 bytes.
 */
export function storageBytes(input: string, source: unknown): number {
  return scriptBytes(input) + inlineCodeBytes(source);
}

/** The coordinator's `source` text for inline code (what its filter searches). */
export function scriptSourceText(code: string): string {
  return `javascript:${scriptHash(code)}`;
}
