// Accessor normalisation and key seeds, docs/keystore-crypto.md §1, step by
// step as outlayer_types::normalize_repo / Accessor::normalized do it (the
// contract refuses what these refuse, with the same messages).

export type Accessor =
  | { Repo: { repo: string; branch: string | null } }
  | { WasmHash: { hash: string } };

export class InvalidAccessor extends Error {}

/** Rust's `str::trim_ascii`: space, tab, line feed, form feed, carriage return. */
export function trimAscii(text: string): string {
  return text.replace(/^[ \t\n\f\r]+/, '').replace(/[ \t\n\f\r]+$/, '');
}

const utf8 = new TextEncoder();
export function byteLength(text: string): number {
  return utf8.encode(text).length;
}

/** Rust's `{:?}` of a string, for the common cases (quotes, escapes). */
export function debugString(text: string): string {
  let out = '"';
  for (const c of text) {
    const code = c.codePointAt(0)!;
    if (c === '"') out += '\\"';
    else if (c === '\\') out += '\\\\';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\u{${code.toString(16)}}`;
    else out += c;
  }
  return out + '"';
}

function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

function stripTrailingSlashes(text: string): string {
  return text.replace(/\/+$/, '');
}

function stripSuffix(text: string, suffix: string): string {
  return text.endsWith(suffix) ? text.slice(0, -suffix.length) : text;
}

const SCHEMES = ['https://', 'http://', 'ssh://', 'git://', 'git+ssh://'];

/** `host/owner/name` (or `file://path`), or throws InvalidAccessor. */
export function normalizeRepo(input: string): string {
  // 1. Trim ASCII whitespace; 1-512 characters (bytes, as Rust counts).
  const raw = trimAscii(input);
  if (raw.length === 0) throw new InvalidAccessor('repository must not be empty');
  if (byteLength(raw) > 512) throw new InvalidAccessor('repository longer than 512 characters');
  // 2. ASCII lower case.
  const lower = asciiLower(raw);
  // 3. Local repositories keep their scheme.
  if (lower.startsWith('file://')) {
    return stripSuffix(stripTrailingSlashes(lower), '.git');
  }
  // 4. One scheme.
  let rest = lower;
  let hadScheme = false;
  for (const scheme of SCHEMES) {
    if (rest.startsWith(scheme)) {
      rest = rest.slice(scheme.length);
      hadScheme = true;
      break;
    }
  }
  // 5. Authority up to the first `/`; credentials up to its last `@`.
  const slash = rest.indexOf('/');
  let authority = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash + 1);
  const at = authority.lastIndexOf('@');
  if (at >= 0) authority = authority.slice(at + 1);
  // 6. A port after a scheme, or the scp form.
  let joined: string;
  const colon = authority.indexOf(':');
  if (colon >= 0) {
    const host = authority.slice(0, colon);
    const x = authority.slice(colon + 1);
    if (hadScheme) {
      if (!/^[0-9]+$/.test(x)) {
        throw new InvalidAccessor(`repository ${debugString(raw)} has a port that is not a number`);
      }
      joined = `${host}/${path}`;
    } else {
      joined = `${host}/${x}/${path}`;
    }
  } else {
    joined = `${authority}/${path}`;
  }
  // 7. Trailing slashes, one `.git`, trailing slashes again.
  let trimmed = stripTrailingSlashes(stripSuffix(stripTrailingSlashes(joined), '.git'));
  // 8. One leading `www.`.
  if (trimmed.startsWith('www.')) trimmed = trimmed.slice(4);
  // 9. No host means GitHub.
  const first = trimmed.split('/')[0] ?? '';
  const repo = first.includes('.') ? trimmed : `github.com/${trimmed}`;
  // 10. host/owner/name, segments of [a-z0-9._-], not `.` or `..`.
  const segments = repo.split('/');
  const valid = (s: string) => s !== '' && s !== '.' && s !== '..' && /^[a-z0-9._-]+$/.test(s);
  if (segments.length < 3 || !segments.every(valid)) {
    throw new InvalidAccessor(`repository ${debugString(raw)} is not of the form host/owner/name`);
  }
  return repo;
}

const WHITESPACE_OR_CONTROL = /[\p{White_Space}\p{Cc}]/u;

/** The canonical accessor (`Accessor::normalized`), or throws InvalidAccessor. */
export function normalizeAccessor(accessor: Accessor): Accessor {
  if ('Repo' in accessor) {
    const trimmedBranch = accessor.Repo.branch === null ? '' : trimAscii(accessor.Repo.branch);
    const branch = trimmedBranch === '' ? null : trimmedBranch;
    if (branch !== null && (byteLength(branch) > 255 || WHITESPACE_OR_CONTROL.test(branch))) {
      throw new InvalidAccessor(`invalid branch name ${debugString(branch)}`);
    }
    return { Repo: { repo: normalizeRepo(accessor.Repo.repo), branch } };
  }
  const hash = asciiLower(trimAscii(accessor.WasmHash.hash));
  if (!/^[0-9a-f]{64}$/.test(hash)) {
    throw new InvalidAccessor('wasm hash must be 64 hex digits (SHA-256)');
  }
  return { WasmHash: { hash } };
}

/** The seed the keystore derives this accessor's key from (call on a normalised accessor). */
export function keySeed(accessor: Accessor, owner: string): string {
  if ('Repo' in accessor) {
    const { repo, branch } = accessor.Repo;
    return branch === null ? `repo:${repo}:${owner}` : `repo:${repo}:${owner}:${branch}`;
  }
  return `wasm:${accessor.WasmHash.hash}:${owner}`;
}

/** A short label for people: `github.com/a/b @ main`, `wasm 9f86d0…`. */
export function describeAccessor(accessor: Accessor): string {
  if ('Repo' in accessor) {
    return accessor.Repo.branch ? `${accessor.Repo.repo} @ ${accessor.Repo.branch}` : accessor.Repo.repo;
  }
  return `wasm ${accessor.WasmHash.hash}`;
}
