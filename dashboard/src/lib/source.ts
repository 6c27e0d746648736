// Code sources as request_execution takes them (outlayer_types::CodeSource).

import { byteLength, debugString, normalizeRepo } from '../crypto/accessor';
import { hasLoneSurrogate, scriptBytes, scriptCodeError, scriptHash } from './script';

export type BuildTarget = 'wasm32-wasip1' | 'wasm32-wasip2';
export type CodeSource =
  | { GitHub: { repo: string; commit: string; build_target: BuildTarget } }
  | { GitPackage: { repo: string; commit: string; path: string; build_target: BuildTarget } }
  | { WasmUrl: { url: string; hash: string; build_target: BuildTarget } }
  | { JavaScript: { code: string } };

export function describeSource(source: unknown): string {
  if (typeof source !== 'object' || source === null) return String(source);
  const s = source as Record<string, Record<string, string>>;
  if (s.GitHub) return `${s.GitHub.repo} @ ${short(s.GitHub.commit ?? '')}`;
  if (s.GitPackage) return `${s.GitPackage.repo} @ ${short(s.GitPackage.commit ?? '')} : ${s.GitPackage.path}`;
  if (s.WasmUrl) return `${s.WasmUrl.url} (sha256 ${short(s.WasmUrl.hash ?? '')})`;
  if (s.JavaScript && typeof s.JavaScript.code === 'string') {
    return `JavaScript (inline), ${scriptBytes(s.JavaScript.code)} bytes, sha256 ${short(scriptHash(s.JavaScript.code))}`;
  }
  return JSON.stringify(source);
}

function short(commit: string): string {
  return /^[0-9a-f]{40,64}$/.test(commit) ? commit.slice(0, 12) : commit;
}

/** The repository a source is built from, for secrets bound to it. */
export function sourceRepo(source: unknown): string | null {
  const s = source as Record<string, { repo?: string }> | null;
  return s?.GitHub?.repo ?? s?.GitPackage?.repo ?? null;
}


export const MAX_COMMIT_LEN = 255;
export const MAX_URL_LEN = 2048;
export const MAX_PACKAGE_PATH_LEN = 255;
const BUILD_TARGETS = ['wasm32-wasip1', 'wasm32-wasip2'];

/** outlayer_types::check_commit_name, with its message. */
export function commitNameError(name: string): string | null {
  const valid =
    name.length > 0 &&
    byteLength(name) <= MAX_COMMIT_LEN &&
    !/^[-/.]/.test(name) &&
    !/[/.]$/.test(name) &&
    !name.endsWith('.lock') &&
    !name.includes('..') &&
    !name.includes('//') &&
    !name.includes('@{') &&
    /^[A-Za-z0-9\-_./+]+$/.test(name);
  return valid
    ? null
    : `commit ${debugString(name)} is neither a full commit hash nor a branch or tag name (1-${MAX_COMMIT_LEN} of A-Z a-z 0-9 - _ . / +, not starting with - / or .)`;
}

function packagePathError(path: string): string | null {
  const segmentOk = (s: string) => s !== '' && s !== '.' && s !== '..' && /^[A-Za-z0-9\-_.]+$/.test(s);
  if (path === '' || byteLength(path) > MAX_PACKAGE_PATH_LEN || !path.split('/').every(segmentOk)) {
    return `path must be a relative path inside the repository (1-${MAX_PACKAGE_PATH_LEN} characters, no \`..\`)`;
  }
  return null;
}

/**
 * What `request_execution` would refuse in `code_source`: its shape (serde)
 * first, then `CodeSource::validate`, as "invalid code_source: …".
 */
export function codeSourceError(source: unknown): string | null {
  if (typeof source !== 'object' || source === null || Array.isArray(source) || Object.keys(source).length !== 1) {
    return 'code_source must be one of {"GitHub": …}, {"GitPackage": …}, {"WasmUrl": …}, {"JavaScript": …}';
  }
  const [variant, body] = Object.entries(source)[0]!;
  if (variant === 'JavaScript') {
    if (typeof body !== 'object' || body === null) return 'code_source.JavaScript must be an object';
    const code = (body as Record<string, unknown>).code;
    if (typeof code !== 'string') return 'code_source.JavaScript.code must be a string';
    if (hasLoneSurrogate(code)) return 'code_source.JavaScript.code is not valid Unicode (it holds a lone surrogate)';
    const e = scriptCodeError(code);
    return e ? `invalid code_source: ${e}` : null;
  }
  const fields: Record<string, string[]> = {
    GitHub: ['repo', 'commit', 'build_target'],
    GitPackage: ['repo', 'commit', 'path', 'build_target'],
    WasmUrl: ['url', 'hash', 'build_target'],
  };
  const wanted = fields[variant];
  if (!wanted) return `code_source: unknown variant ${debugString(variant)}, expected GitHub, GitPackage, WasmUrl or JavaScript`;
  if (typeof body !== 'object' || body === null) return `code_source.${variant} must be an object`;
  const b = body as Record<string, unknown>;
  for (const f of wanted) {
    if (typeof b[f] !== 'string') return `code_source.${variant}.${f} must be a string`;
  }
  if (!BUILD_TARGETS.includes(b.build_target as string)) {
    return `code_source.${variant}.build_target must be "wasm32-wasip1" or "wasm32-wasip2"`;
  }
  const invalid = (m: string) => `invalid code_source: ${m}`;
  if (variant === 'WasmUrl') {
    const url = b.url as string;
    const hash = b.hash as string;
    const schemeOk = url.startsWith('https://') || url.startsWith('http://');
    if (!schemeOk || byteLength(url) > MAX_URL_LEN || /[\p{White_Space}\p{Cc}]/u.test(url)) {
      return invalid(`url must be an http(s) URL of at most ${MAX_URL_LEN} bytes`);
    }
    if (!/^[0-9a-fA-F]{64}$/.test(hash)) return invalid('hash must be 64 hex digits (SHA-256)');
    return null;
  }
  try {
    normalizeRepo(b.repo as string);
  } catch (e) {
    return invalid((e as Error).message);
  }
  const commit = commitNameError(b.commit as string);
  if (commit) return invalid(commit);
  if (variant === 'GitPackage') {
    const path = packagePathError(b.path as string);
    if (path) return invalid(path);
  }
  return null;
}
