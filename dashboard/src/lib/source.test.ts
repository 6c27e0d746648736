import { describe, expect, it } from 'vitest';
import { codeSourceError, commitNameError } from './source';

const gh = (repo: string, commit: string) => ({ GitHub: { repo, commit, build_target: 'wasm32-wasip1' } });

describe('CodeSource::validate, as request_execution refuses', () => {
  it('accepts hashes and ref names (the Rust test list)', () => {
    for (const good of ['main', 'v1.2.3', 'feature/x', 'release+1', 'a'.repeat(40), 'a'.repeat(255)]) {
      expect(commitNameError(good)).toBeNull();
      expect(codeSourceError(gh('github.com/alice/app', good))).toBeNull();
    }
  });

  it('refuses what git could read as an option, and the rest of the Rust test list', () => {
    for (const bad of ['', '-x', '--upload-pack=evil', '.hidden', '/abs', 'a..b', 'a//b', 'x@{1}', 'x.lock', 'x/', 'x.', 'has space', 'tab\t', 'ünï', 'a'.repeat(256)]) {
      expect(codeSourceError(gh('github.com/alice/app', bad))).toBe(
        `invalid code_source: commit ${bad === 'tab\t' ? '"tab\\t"' : JSON.stringify(bad)} is neither a full commit hash nor a branch or tag name (1-255 of A-Z a-z 0-9 - _ . / +, not starting with - / or .)`,
      );
    }
  });

  it('refuses repositories the accessor rules refuse, with their message', () => {
    expect(codeSourceError(gh('my.org/app', 'main'))).toBe('invalid code_source: repository "my.org/app" is not of the form host/owner/name');
    expect(codeSourceError(gh('file:///work/main', 'main'))).toBeNull();
  });

  it('GitPackage paths are relative, without . or .. segments, 1-255 bytes', () => {
    const pkg = (path: string) => ({ GitPackage: { repo: 'a/b', commit: 'main', path, build_target: 'wasm32-wasip1' } });
    const message = 'invalid code_source: path must be a relative path inside the repository (1-255 characters, no `..`)';
    expect(codeSourceError(pkg('examples/echo'))).toBeNull();
    expect(codeSourceError(pkg('a'.repeat(255)))).toBeNull();
    for (const bad of ['', '/abs', 'a/../b', './a', 'a//b', 'a/', 'a b', 'a'.repeat(256)]) expect(codeSourceError(pkg(bad))).toBe(message);
  });

  it('WasmUrl: http(s), at most 2048 bytes, no whitespace; 64 hex digits of hash in either case', () => {
    const wasm = (url: string, hash = 'A'.repeat(64)) => ({ WasmUrl: { url, hash, build_target: 'wasm32-wasip2' } });
    expect(codeSourceError(wasm('https://example.org/a.wasm'))).toBeNull();
    expect(codeSourceError(wasm('http://' + 'a'.repeat(2041)))).toBeNull();
    const urlMessage = 'invalid code_source: url must be an http(s) URL of at most 2048 bytes';
    for (const bad of ['ftp://x', 'http://' + 'a'.repeat(2042), 'https://x/a b', 'https://x/\u00a0']) expect(codeSourceError(wasm(bad))).toBe(urlMessage);
    expect(codeSourceError(wasm('https://x', 'a'.repeat(63)))).toBe('invalid code_source: hash must be 64 hex digits (SHA-256)');
  });

  it('refuses shapes serde would not read', () => {
    expect(codeSourceError('x')).toBe('code_source must be one of {"GitHub": …}, {"GitPackage": …}, {"WasmUrl": …}, {"JavaScript": …}, {"GitScript": …}');
    expect(codeSourceError({ Git: {} })).toBe('code_source: unknown variant "Git", expected GitHub, GitPackage, WasmUrl, JavaScript or GitScript');
    expect(codeSourceError({ GitHub: { repo: 'a/b', commit: 'main' } })).toBe('code_source.GitHub.build_target must be a string');
    expect(codeSourceError({ GitHub: { repo: 'a/b', commit: 'main', build_target: 'wasm32' } })).toBe(
      'code_source.GitHub.build_target must be "wasm32-wasip1" or "wasm32-wasip2"',
    );
  });
});
