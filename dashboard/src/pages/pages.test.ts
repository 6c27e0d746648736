import { describe, expect, it } from 'vitest';

import type { JobInfo, RequestSummary } from '../api/coordinator';
import { displayStatus, settledTimes, sourceMatches, statusClass, statusQuery } from './Executions';
import { latencyBars, outcomeMix, requestsPerMinute, settlementLatencies, summarise } from './Overview';

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
  });
  it('reads jobs from older coordinators without the times', () => {
    const s = summarise([job({ claimed_at_ms: undefined, finished_at_ms: undefined })]);
    expect(s).toEqual({ waits: [], runs: [] });
  });
});

/** A request as GET /public/requests lists it; only the fields the overview reads matter. */
const request = (over: Partial<RequestSummary>): RequestSummary => ({
  request_id: 1,
  status: 'completed',
  sender_id: 'alice.near',
  payer_account_id: 'alice.near',
  code_source: null,
  artifact_checksum: 'c',
  resource_limits: { max_instructions: 1, max_memory_mb: 1, max_execution_seconds: 1 },
  response_format: 'Text',
  payment: '1',
  block_height: 1,
  block_timestamp: 1,
  created_at_ms: 10_000,
  updated_at_ms: 10_000,
  settled_success: null,
  settled_at_ms: null,
  ...over,
});

describe('request → settlement latency (the overview)', () => {
  it('runs from when the coordinator heard of a request to when it recorded the settlement', () => {
    const s = settlementLatencies([
      request({ settled_success: true, settled_at_ms: 13_500 }),
      request({ request_id: 2, status: 'failed', settled_success: false, settled_at_ms: 80_000 }),
      // Settled before coordinators recorded the time: counted as settled, no latency.
      request({ request_id: 3, settled_success: true, settled_at_ms: null }),
      request({ request_id: 4, status: 'executing' }),
      // Not yet settled, even though its jobs are done.
      request({ request_id: 5, status: 'completed' }),
      // Clocks never make a negative latency.
      request({ request_id: 6, settled_success: true, settled_at_ms: 9_000 }),
    ]);
    expect(s).toEqual({ values: [3_500, 70_000, 0], settled: 4 });
    // Coordinators before the settlement fields: nothing settled.
    const old = request({});
    delete old.settled_success;
    delete old.settled_at_ms;
    expect(settlementLatencies([old])).toEqual({ values: [], settled: 0 });
  });
  it('bands latencies (<1 s … >60 s), each counted once', () => {
    const bars = latencyBars([0, 999, 1_000, 4_999, 5_000, 15_000, 59_999, 60_000, 3_600_000]);
    expect(bars.map((b) => [b.label, b.value])).toEqual([
      ['<1 s', 2],
      ['1-5 s', 2],
      ['5-15 s', 1],
      ['15-30 s', 1],
      ['30-60 s', 1],
      ['>60 s', 2],
    ]);
  });
});

describe('requests per minute and outcome mix (the overview)', () => {
  it('counts requests by the minute the coordinator heard of them, oldest minute first', () => {
    const now = 1_000_000;
    const bars = requestsPerMinute(
      [
        { created_at_ms: now - 1 },
        { created_at_ms: now - 60_000 },
        { created_at_ms: now - 60_001 },
        { created_at_ms: now - 119_000 },
        { created_at_ms: now - 180_000 },
        { created_at_ms: now - 180_001 },
        // Ahead of this browser's clock: the last minute.
        { created_at_ms: now + 2_000 },
      ],
      3,
      now,
    );
    expect(bars.map((b) => [b.label, b.value])).toEqual([
      ['-2m', 1],
      ['-1m', 2],
      ['now', 3],
    ]);
    expect(bars[1]!.title).toBe('2 requests, 1-2 minutes ago');
  });
  it('sorts requests into settled (by verdict), finished but not settled, and in progress', () => {
    const bars = outcomeMix([
      request({ settled_success: true }),
      request({ settled_success: true, status: 'executing' }),
      request({ settled_success: false, status: 'failed' }),
      request({ status: 'completed' }),
      request({ status: 'failed' }),
      request({ status: 'failed' }),
      request({ status: 'compiling' }),
      request({ status: 'executing', settled_success: undefined }),
    ]);
    expect(bars.map((b) => [b.label, b.value])).toEqual([
      ['success', 2],
      ['failure', 1],
      ['completed', 1],
      ['failed', 2],
      ['running', 2],
    ]);
    expect(bars.map((b) => b.title)).toEqual([
      'settled: success',
      'settled: failure',
      'completed by the workers, not settled yet',
      'failed at the workers, not settled yet',
      'being built or run',
    ]);
  });
});

describe('settlement in a request\'s status (executions)', () => {
  it('shows a settled request as settled with its verdict, whatever its jobs say', () => {
    expect(displayStatus({ status: 'completed', settled_success: true })).toBe('settled (success)');
    expect(displayStatus({ status: 'failed', settled_success: false })).toBe('settled (failure)');
    // The chain settled before the worker's completion reached the coordinator.
    expect(displayStatus({ status: 'executing', settled_success: true })).toBe('settled (success)');
    expect(displayStatus({ status: 'completed', settled_success: null })).toBe('completed');
    expect(displayStatus({ status: 'failed' })).toBe('failed');
  });
  it('asks the coordinator for what the list shows under each status', () => {
    expect(statusQuery('settled (success)')).toEqual({ settled: 'success' });
    expect(statusQuery('settled (failure)')).toEqual({ settled: 'failure' });
    expect(statusQuery('completed')).toEqual({ status: 'completed', settled: 'false' });
    expect(statusQuery('failed')).toEqual({ status: 'failed', settled: 'false' });
    expect(statusQuery('executing')).toEqual({ status: 'executing', settled: 'false' });
  });
  it('gives each status a badge class', () => {
    expect(statusClass('settled (success)')).toBe('settled-success');
    expect(statusClass('settled (failure)')).toBe('settled-failure');
    expect(statusClass('completed')).toBe('completed');
  });
  it('times the settlement from the request when the coordinator recorded it', () => {
    expect(settledTimes({ created_at_ms: 1_700_000_000_000, settled_at_ms: 1_700_000_004_200 })).toBe(
      ' · recorded 2023-11-14 22:13:24 UTC, 4.2 s after the request',
    );
    expect(settledTimes({ created_at_ms: 1, settled_at_ms: null })).toBe('');
    expect(settledTimes({ created_at_ms: 1 })).toBe('');
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
