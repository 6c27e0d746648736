import { describe, expect, it } from 'vitest';

import type { JobInfo } from '../api/coordinator';
import { sourceMatches } from './Executions';
import { summarise } from './Overview';

describe('sourceMatches (the coordinator source filter, for requests only on chain)', () => {
  const pkg = { GitPackage: { repo: 'file:///work/main', commit: 'abc', path: 'examples/echo', build_target: 'wasm32-wasip1' } };
  it('searches repository, package path and URL, case-sensitively', () => {
    expect(sourceMatches(pkg, 'work/main')).toBe(true);
    expect(sourceMatches(pkg, 'examples/echo')).toBe(true);
    expect(sourceMatches(pkg, 'Examples')).toBe(false);
    expect(sourceMatches(pkg, 'abc')).toBe(false);
    expect(sourceMatches({ WasmUrl: { url: 'https://x.org/p.wasm', hash: 'ab' } }, 'p.wasm')).toBe(true);
    expect(sourceMatches({ WasmUrl: { url: 'https://x.org/p.wasm', hash: 'ab' } }, 'ab')).toBe(false);
    expect(sourceMatches(null, 'x')).toBe(false);
  });
});

describe('summarise (recent jobs)', () => {
  const job = (over: Partial<JobInfo>): JobInfo => ({
    job_id: 1,
    request_id: 1,
    job_type: 'execute',
    state: 'completed',
    attempt: 1,
    created_at_ms: 1_000,
    updated_at_ms: 1_900,
    claimed_at_ms: 1_100,
    finished_at_ms: 1_800,
    ...over,
  });
  it('measures queue wait on first attempts and run time from claim to finish', () => {
    const s = summarise([
      job({}),
      job({ job_id: 2, request_id: 2, attempt: 2, claimed_at_ms: 5_000, finished_at_ms: 5_050 }),
      job({ job_id: 3, request_id: 3, state: 'pending', claimed_at_ms: null, finished_at_ms: null }),
    ]);
    expect(s.waits).toEqual([100]);
    expect(s.runs).toEqual([700, 50]);
    // Request latency runs from the first job's creation to the last one's finish.
    expect(s.latencies).toEqual([800, 4_050]);
  });
  it('reads jobs from older coordinators without the times', () => {
    const s = summarise([job({ claimed_at_ms: undefined, finished_at_ms: undefined })]);
    expect(s).toEqual({ waits: [], runs: [], latencies: [900] });
  });
});

describe('Coordinator.request', () => {
  it('returns a request (whose own error field is null) and null for a 404', async () => {
    const { Coordinator } = await import('../api/coordinator');
    const answers: Record<string, [number, unknown]> = {
      'http://c/public/requests/1': [200, { request_id: 1, status: 'completed', error: null, jobs: [] }],
      'http://c/public/requests/2': [404, { error: 'not_found', message: 'request 2 not found' }],
      'http://c/public/requests/3': [400, { error: 'bad_request', message: 'no' }],
    };
    const original = globalThis.fetch;
    globalThis.fetch = (async (url: string) => {
      const [status, body] = answers[url]!;
      return new Response(JSON.stringify(body), { status });
    }) as typeof fetch;
    try {
      const c = new Coordinator('http://c');
      expect((await c.request(1))?.request_id).toBe(1);
      expect(await c.request(2)).toBeNull();
      await expect(c.request(3)).rejects.toThrow('no');
    } finally {
      globalThis.fetch = original;
    }
  });
});

describe('sourceMatches for inline JavaScript (the coordinator searches javascript:<sha256>)', () => {
  const js = { JavaScript: { code: 'outlayer.output(1)' } };
  it('finds it by kind and hash, never by its text', () => {
    expect(sourceMatches(js, 'javascript:')).toBe(true);
    expect(sourceMatches(js, 'javascript:8975f37e1fad')).toBe(true);
    expect(sourceMatches(js, '8975f37e1fad0365be6a5eb49d5c1e72f92721da7ec1b0b8f3559dc7fedaf037')).toBe(true);
    expect(sourceMatches(js, 'outlayer.output')).toBe(false);
    expect(sourceMatches(js, 'JavaScript')).toBe(false);
    expect(sourceMatches({ GitHub: { repo: 'github.com/a/b', commit: 'main' } }, 'javascript:')).toBe(false);
  });
});
