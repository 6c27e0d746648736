import { describe, expect, it } from 'vitest';
import type { ComponentChildren, VNode } from 'preact';

import { SourceDetail, sourceMatches } from '../pages/Executions';
import { storageBytes } from './script';
import { codeSourceError, describeSource, exampleScriptSource, secretsAccessors, sourceRepo, sourceView } from './source';

const REPO = 'file:///work/main';
const HASH = 'ab'.repeat(20);
const gs = (path: string, commit = 'main', repo = REPO) => ({ GitScript: { repo, commit, path } });

/** The text a rendered node shows, and its elements' text by data-testid (no DOM: function components are called). */
function render(node: ComponentChildren): { text: string; byTestId: Record<string, string> } {
  const byTestId: Record<string, string> = {};
  const walk = (n: ComponentChildren): string => {
    if (n === null || n === undefined || typeof n === 'boolean') return '';
    if (typeof n === 'string' || typeof n === 'number' || typeof n === 'bigint') return String(n);
    if (Array.isArray(n)) return n.map(walk).join('');
    const v = n as VNode<Record<string, unknown>>;
    if (typeof v.type === 'function') return walk((v.type as (p: unknown) => ComponentChildren)(v.props));
    const text = walk(v.props.children as ComponentChildren);
    const id = v.props['data-testid'];
    if (typeof id === 'string') byTestId[id] = text;
    return v.type === 'dt' || v.type === 'dd' ? `${text}\n` : text;
  };
  return { text: walk(node), byTestId };
}

describe('GitScript: CodeSource::validate, as request_execution refuses', () => {
  it('accepts a .js or .mjs file at a relative path, at a branch, tag or commit, with no build_target', () => {
    for (const path of ['examples/js/hello.js', 'hello.js', 'src/main.mjs', 'a/.js']) expect(codeSourceError(gs(path))).toBeNull();
    expect(codeSourceError(gs('examples/js/hello.js', HASH))).toBeNull();
    expect(codeSourceError(gs('examples/js/hello.js', 'v1.2.3', 'github.com/alice/scripts'))).toBeNull();
  });

  it('refuses any other file with the contract message', () => {
    for (const path of ['src/main.rs', 'hello.JS', 'hello.jsx', 'hello.ts', 'js', 'hello.js.txt']) {
      expect(codeSourceError(gs(path))).toBe('invalid code_source: path must name a .js or .mjs file');
    }
  });

  it('checks the path as a package path first, with its message', () => {
    const message = 'invalid code_source: path must be a relative path inside the repository (1-255 characters, no `..`)';
    for (const path of ['../x.js', '/abs/x.js', './x.js', 'a//x.js', 'a b.js', '', `${'a'.repeat(253)}.js`]) expect(codeSourceError(gs(path))).toBe(message);
    expect(codeSourceError(gs(`${'a'.repeat(252)}.js`))).toBeNull();
  });

  it('checks the repository and the commit first, as for GitHub sources', () => {
    expect(codeSourceError(gs('x.rs', 'main', 'my.org/app'))).toBe('invalid code_source: repository "my.org/app" is not of the form host/owner/name');
    expect(codeSourceError(gs('../x.rs', '-x'))).toBe(
      'invalid code_source: commit "-x" is neither a full commit hash nor a branch or tag name (1-255 of A-Z a-z 0-9 - _ . / +, not starting with - / or .)',
    );
  });

  it('refuses shapes serde would not read', () => {
    expect(codeSourceError({ GitScript: { repo: REPO, commit: 'main' } })).toBe('code_source.GitScript.path must be a string');
    expect(codeSourceError({ GitScript: 'x' })).toBe('code_source.GitScript must be an object');
  });
});

describe('GitScript: secrets, deposit, filter', () => {
  it('reads the secrets of the repository at its branch, then of the repository, as GitHub and GitPackage', () => {
    expect(secretsAccessors(gs('x.js', 'main'))).toEqual([{ Repo: { repo: REPO, branch: 'main' } }, { Repo: { repo: REPO, branch: null } }]);
    expect(secretsAccessors(gs('x.js', HASH))).toEqual([{ Repo: { repo: REPO, branch: null } }]);
    const pkg = { GitPackage: { repo: REPO, commit: 'main', path: 'examples/echo', build_target: 'wasm32-wasip1' } };
    expect(secretsAccessors(pkg)).toEqual(secretsAccessors(gs('x.js', 'main')));
    expect(sourceRepo(gs('x.js'))).toBe(REPO);
  });

  it('pays storage for the input only (no code travels with the request)', () => {
    expect(storageBytes('NEAR', gs('examples/js/hello.js'))).toBe(4);
    expect(storageBytes('', gs('examples/js/hello.js'))).toBe(0);
  });

  it('is found by the coordinator filter text "<repo>\\n<path>": its repository or its path', () => {
    expect(sourceMatches(gs('examples/js/hello.js'), 'work/main')).toBe(true);
    expect(sourceMatches(gs('examples/js/hello.js'), 'js/hello.js')).toBe(true);
    expect(sourceMatches(gs('examples/js/hello.js'), 'main:')).toBe(false);
    expect(sourceMatches(gs('examples/js/hello.js'), 'javascript:')).toBe(false);
  });

  it('is offered from the local example repository when the config offers it', () => {
    const pkg = { GitPackage: { repo: REPO, commit: HASH, path: 'examples/echo', build_target: 'wasm32-wasip1' } };
    expect(exampleScriptSource([{ source: pkg }])).toEqual(gs('examples/js/hello.js', HASH));
    expect(codeSourceError(exampleScriptSource([{ source: pkg }]))).toBeNull();
    expect(exampleScriptSource([])).toBeNull();
    expect(exampleScriptSource([{ source: { GitPackage: { ...pkg.GitPackage, repo: 'github.com/a/b' } } }])).toBeNull();
    expect(exampleScriptSource([{ source: null }, { source: 'x' }])).toBeNull();
  });
});

describe('rendering sources', () => {
  it('shows a GitScript source as a JavaScript file with its repository, commit and path', () => {
    const source = gs('examples/js/hello.js', HASH);
    expect(describeSource(source)).toBe(`JavaScript file ${REPO} @ ${HASH.slice(0, 12)} : examples/js/hello.js`);
    expect(sourceView(source)).toMatchObject({ variant: 'GitScript', kind: 'JavaScript file' });
    const { byTestId, text } = render(SourceDetail({ source }));
    expect(byTestId).toEqual({ 'source-kind': 'JavaScript file', 'source-repo': REPO, 'source-commit': HASH, 'source-path': 'examples/js/hello.js' });
    expect(text).toBe(`Source\nJavaScript file\nRepository\n${REPO}\nCommit\n${HASH}\nPath\nexamples/js/hello.js\n`);
  });

  it('shows an unknown variant as "unknown source kind" with its raw JSON, never crashing', () => {
    const future = { GitWasm: { repo: 'github.com/a/b', commit: 'main', artifact: 'x.wasm' } };
    const raw = JSON.stringify(future);
    expect(describeSource(future)).toBe(`unknown source kind ${raw}`);
    expect(sourceView(future)).toEqual({ variant: null, kind: 'unknown source kind', fields: [], raw });
    expect(render(SourceDetail({ source: future })).byTestId).toEqual({ 'source-kind': 'unknown source kind', 'source-raw': raw });
    // Shapes no contract sends are unknown too.
    for (const odd of [null, undefined, 'x', 5, [], {}, { GitHub: 'x' }, { GitScript: null }, { JavaScript: { code: 5 } }, { a: {}, b: {} }]) {
      expect(sourceView(odd).variant).toBeNull();
      expect(describeSource(odd)).toMatch(/^unknown source kind /);
      expect(render(SourceDetail({ source: odd })).byTestId['source-kind']).toBe('unknown source kind');
      expect(sourceMatches(odd, 'x')).toBe(false);
      expect(secretsAccessors(odd)).toEqual([]);
    }
  });

  it('keeps the other kinds as they were', () => {
    const pkg = { GitPackage: { repo: REPO, commit: HASH, path: 'examples/echo', build_target: 'wasm32-wasip1' } };
    expect(describeSource(pkg)).toBe(`${REPO} @ ${HASH.slice(0, 12)} : examples/echo`);
    expect(describeSource({ GitHub: { repo: 'github.com/a/b', commit: 'main', build_target: 'wasm32-wasip1' } })).toBe('github.com/a/b @ main');
    expect(describeSource({ WasmUrl: { url: 'https://x/p.wasm', hash: 'c'.repeat(64), build_target: 'wasm32-wasip2' } })).toBe(
      `https://x/p.wasm (sha256 ${'c'.repeat(12)})`,
    );
    expect(describeSource({ JavaScript: { code: 'outlayer.output(1)' } })).toBe('JavaScript (inline), 18 bytes, sha256 8975f37e1fad');
    const detail = render(SourceDetail({ source: pkg })).byTestId;
    expect(detail).toMatchObject({ 'source-kind': 'Package in a repository (built)', 'source-path': 'examples/echo', 'source-build_target': 'wasm32-wasip1' });
    const inline = render(SourceDetail({ source: { JavaScript: { code: 'outlayer.output(1)' } } })).byTestId;
    expect(inline['source-kind']).toBe('JavaScript (inline), 18 bytes');
    expect(inline['source-code']).toBe('outlayer.output(1)');
  });
});
