// Code sources as request_execution takes them (outlayer_types::CodeSource).

import { type Accessor, byteLength, debugString, normalizeRepo } from '../crypto/accessor';
import { hasLoneSurrogate, scriptBytes, scriptCodeError, scriptHash } from './script';

export type BuildTarget = 'wasm32-wasip1' | 'wasm32-wasip2';
export type CodeSource =
  | { GitHub: { repo: string; commit: string; build_target: BuildTarget } }
  | { GitPackage: { repo: string; commit: string; path: string; build_target: BuildTarget } }
  | { WasmUrl: { url: string; hash: string; build_target: BuildTarget } }
  | { JavaScript: { code: string } }
  | { GitScript: { repo: string; commit: string; path: string } };

/** One field of a source as people read it; `key` names it for tests and pages. */
export interface SourceField {
  key: 'repo' | 'commit' | 'path' | 'build_target' | 'url' | 'hash' | 'size' | 'sha256';
  label: string;
  value: string;
}

/**
 * A source as the pages show it. `variant` is null for anything this
 * dashboard does not know (a future variant, or a shape no contract sends):
 * shown as "unknown source kind" with its raw JSON, never a crash.
 */
export interface SourceView {
  variant: 'GitHub' | 'GitPackage' | 'WasmUrl' | 'JavaScript' | 'GitScript' | null;
  kind: string;
  fields: SourceField[];
  /** The source as JSON, as it came. */
  raw: string;
}

export const UNKNOWN_SOURCE_KIND = 'unknown source kind';

function rawJson(source: unknown): string {
  try {
    return JSON.stringify(source) ?? String(source);
  } catch {
    return String(source);
  }
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined ? '?' : rawJson(value);
}

export function sourceView(source: unknown): SourceView {
  const raw = rawJson(source);
  const unknown: SourceView = { variant: null, kind: UNKNOWN_SOURCE_KIND, fields: [], raw };
  if (typeof source !== 'object' || source === null || Array.isArray(source)) return unknown;
  const entries = Object.entries(source);
  if (entries.length !== 1) return unknown;
  const [variant, body] = entries[0]!;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return unknown;
  const b = body as Record<string, unknown>;
  const f = (key: SourceField['key'], label: string, value: unknown): SourceField => ({ key, label, value: text(value) });
  const git = [f('repo', 'Repository', b.repo), f('commit', 'Commit', b.commit)];
  switch (variant) {
    case 'GitHub':
      return { variant, kind: 'Repository (built)', fields: [...git, f('build_target', 'Target', b.build_target)], raw };
    case 'GitPackage':
      return { variant, kind: 'Package in a repository (built)', fields: [...git, f('path', 'Path', b.path), f('build_target', 'Target', b.build_target)], raw };
    case 'WasmUrl':
      return { variant, kind: 'WebAssembly from a URL', fields: [f('url', 'URL', b.url), f('hash', 'SHA-256', b.hash), f('build_target', 'Target', b.build_target)], raw };
    case 'GitScript':
      return { variant, kind: 'JavaScript file', fields: [...git, f('path', 'Path', b.path)], raw };
    case 'JavaScript':
      if (typeof b.code !== 'string') return unknown;
      return {
        variant,
        kind: 'JavaScript (inline)',
        fields: [f('size', 'Size', `${scriptBytes(b.code)} bytes`), f('sha256', 'SHA-256', scriptHash(b.code))],
        raw,
      };
    default:
      return unknown;
  }
}

/** A source on one line (the executions list, the playground's summary). */
export function describeSource(source: unknown): string {
  const v = sourceView(source);
  const get = (key: SourceField['key']) => v.fields.find((x) => x.key === key)?.value ?? '?';
  switch (v.variant) {
    case 'GitHub':
      return `${get('repo')} @ ${short(get('commit'))}`;
    case 'GitPackage':
      return `${get('repo')} @ ${short(get('commit'))} : ${get('path')}`;
    case 'WasmUrl':
      return `${get('url')} (sha256 ${short(get('hash'))})`;
    case 'GitScript':
      return `JavaScript file ${get('repo')} @ ${short(get('commit'))} : ${get('path')}`;
    case 'JavaScript':
      return `JavaScript (inline), ${get('size')}, sha256 ${short(get('sha256'))}`;
    case null:
      return `${UNKNOWN_SOURCE_KIND} ${v.raw}`;
  }
}

function short(commit: string): string {
  return /^[0-9a-f]{40,64}$/.test(commit) ? commit.slice(0, 12) : commit;
}

function gitBody(source: unknown): { repo?: unknown; commit?: unknown; path?: unknown } | null {
  if (typeof source !== 'object' || source === null) return null;
  const s = source as Record<string, unknown>;
  const body = s.GitHub ?? s.GitPackage ?? s.GitScript;
  return typeof body === 'object' && body !== null ? (body as { repo?: unknown }) : null;
}

/** The repository a source is read from, for secrets bound to it. */
export function sourceRepo(source: unknown): string | null {
  const repo = gitBody(source)?.repo;
  return typeof repo === 'string' ? repo : null;
}

/** A full commit id (40 or 64 hex digits), as opposed to a branch or tag name. */
export function isCommitHash(commit: string): boolean {
  return (commit.length === 40 || commit.length === 64) && /^[0-9a-fA-F]+$/.test(commit);
}

/**
 * `CodeSource::secrets_accessors`: the accessors whose secrets a request for
 * this (valid) source may read, most specific first. A repository named at a
 * branch: that branch, then the repository; a binary: its hash; inline code:
 * its SHA-256.
 */
export function secretsAccessors(source: unknown): Accessor[] {
  const v = sourceView(source);
  const get = (key: SourceField['key']) => v.fields.find((x) => x.key === key)?.value ?? '';
  switch (v.variant) {
    case 'GitHub':
    case 'GitPackage':
    case 'GitScript': {
      const repo = get('repo');
      const commit = get('commit');
      const whole: Accessor = { Repo: { repo, branch: null } };
      return isCommitHash(commit) ? [whole] : [{ Repo: { repo, branch: commit } }, whole];
    }
    case 'WasmUrl':
      return [{ WasmHash: { hash: get('hash') } }];
    case 'JavaScript':
      return [{ WasmHash: { hash: get('sha256') } }];
    case null:
      return [];
  }
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

/** What the contract says of a GitScript path that names no script. */
export const GIT_SCRIPT_PATH_MESSAGE = 'path must name a .js or .mjs file';

/** Where `outlayer dev`'s repository keeps the example script a GitScript source is prefilled with. */
export const GIT_SCRIPT_EXAMPLE_PATH = 'examples/js/hello.js';

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
    return 'code_source must be one of {"GitHub": …}, {"GitPackage": …}, {"WasmUrl": …}, {"JavaScript": …}, {"GitScript": …}';
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
    // Run on the workers' QuickJS engine: nothing is built, no build_target.
    GitScript: ['repo', 'commit', 'path'],
  };
  const wanted = fields[variant];
  if (!wanted) return `code_source: unknown variant ${debugString(variant)}, expected GitHub, GitPackage, WasmUrl, JavaScript or GitScript`;
  if (typeof body !== 'object' || body === null) return `code_source.${variant} must be an object`;
  const b = body as Record<string, unknown>;
  for (const f of wanted) {
    if (typeof b[f] !== 'string') return `code_source.${variant}.${f} must be a string`;
  }
  if (wanted.includes('build_target') && !BUILD_TARGETS.includes(b.build_target as string)) {
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
  if (variant === 'GitPackage' || variant === 'GitScript') {
    const path = packagePathError(b.path as string);
    if (path) return invalid(path);
  }
  if (variant === 'GitScript') {
    const path = b.path as string;
    if (!(path.endsWith('.js') || path.endsWith('.mjs'))) return invalid(GIT_SCRIPT_PATH_MESSAGE);
  }
  return null;
}

/**
 * The GitScript source the playground offers first: `examples/js/hello.js`
 * from the local example repository, when the config offers it (`outlayer
 * dev` and `tools/serve.mjs --project` list this checkout's examples as
 * GitPackage sources from `file://…` under `examples/`, at its HEAD); else
 * null.
 */
export function exampleScriptSource(examples: ReadonlyArray<{ source: unknown }>): CodeSource | null {
  for (const { source } of examples) {
    const pkg = (source as { GitPackage?: { repo?: unknown; commit?: unknown; path?: unknown } } | null)?.GitPackage;
    if (typeof pkg?.repo === 'string' && typeof pkg.commit === 'string' && typeof pkg.path === 'string' && pkg.repo.startsWith('file://') && pkg.path.startsWith('examples/')) {
      return { GitScript: { repo: pkg.repo, commit: pkg.commit, path: GIT_SCRIPT_EXAMPLE_PATH } };
    }
  }
  return null;
}
