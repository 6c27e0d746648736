import { Fragment } from 'preact';
import { useState } from 'preact/hooks';

import { useServices } from '../app';
import type { RequestView, TxProgress } from '../api/chain';
import { txProgress } from '../api/chain';
import type { JobInfo, RequestStatus, RequestSummary, RequestsPage, RequestsQuery } from '../api/coordinator';
import { accountIdError } from '../conditions/condition';
import { ErrorBox, Loading, Show, useAsync } from '../components/common';
import { formatAgo, formatCount, formatMs, formatNear, formatTime } from '../lib/format';
import { findSent } from '../lib/sent';
import { inlineCode, scriptBytes, scriptHash, scriptSourceText } from '../lib/script';
import { describeSource, sourceView } from '../lib/source';

/**
 * What the list shows: "pending" (on chain, not yet known to the
 * coordinator), the coordinator's RequestStatus (its jobs' progress), or
 * once a monitor reported the contract's settlement "settled (success)" /
 * "settled (failure)". The coordinator keeps its status as the jobs left it
 * and reports the settlement beside it (settled_success, settled_at_ms).
 */
export type Status = 'pending' | RequestStatus | 'settled (success)' | 'settled (failure)';
const STATUSES: Status[] = ['pending', 'compiling', 'executing', 'completed', 'failed', 'settled (success)', 'settled (failure)'];
const PAGE = 100;

/** A request's status as shown: its settlement once recorded, else the coordinator's status. */
export function displayStatus(r: Pick<RequestSummary, 'status' | 'settled_success'>): Status {
  if (r.settled_success === true) return 'settled (success)';
  if (r.settled_success === false) return 'settled (failure)';
  return r.status;
}

/**
 * The coordinator's filters for a status as shown: a settled one by its
 * verdict, the others by the coordinator's status and not settled (a
 * settled request shows as settled, whatever its jobs say).
 */
export function statusQuery(status: Exclude<Status, 'pending'>): Pick<RequestsQuery, 'status' | 'settled'> {
  if (status === 'settled (success)') return { settled: 'success' };
  if (status === 'settled (failure)') return { settled: 'failure' };
  return { status, settled: 'false' };
}

/** The badge's class for a status: `completed`, `settled-success`… */
export function statusClass(status: Status): string {
  return status.replace(/[^a-z]+/g, '-').replace(/-+$/, '');
}

interface Row {
  requestId: number;
  status: Status;
  sender: string;
  source: string;
  used: string;
  error: string;
  cost: string | null | undefined;
  updated: number;
}

/** A request's progress from its jobs (as the coordinator derives RequestStatus). */
export function statusOf(jobs: JobInfo[]): Status {
  if (jobs.some((j) => j.state === 'failed')) return 'failed';
  const execute = jobs.find((j) => j.job_type === 'execute');
  if (execute?.state === 'completed') return 'completed';
  if (execute) return 'executing';
  if (jobs.some((j) => j.job_type === 'compile')) return 'compiling';
  return 'pending';
}

/**
 * What the coordinator's `source` filter searches: the repository or URL, a
 * package's or a JavaScript file's path, and `javascript:<sha256>` for
 * inline code (never its text).
 */
export function sourceMatches(source: unknown, query: string): boolean {
  const s = source as Record<string, { repo?: string; url?: string; path?: string }> | null;
  const code = inlineCode(source);
  const parts = [
    s?.GitHub?.repo,
    s?.GitPackage?.repo,
    s?.GitPackage?.path,
    s?.GitScript?.repo,
    s?.GitScript?.path,
    s?.WasmUrl?.url,
    code === null ? undefined : scriptSourceText(code),
  ];
  return parts.some((p) => typeof p === 'string' && p.includes(query));
}

function summaryRow(r: RequestSummary): Row {
  return {
    requestId: r.request_id,
    status: displayStatus(r),
    sender: r.sender_id,
    source: describeSource(r.code_source),
    used: r.metrics ? `${formatCount(r.metrics.instructions)} instr., ${formatMs(r.metrics.time_ms)}` : '—',
    error: r.error_category ?? '',
    cost: r.actual_cost,
    updated: r.updated_at_ms,
  };
}

export function Executions() {
  const { coordinator, chain } = useServices();
  const [offset, setOffset] = useState(0);
  const [status, setStatus] = useState<'' | Status>('');
  const [account, setAccount] = useState('');
  const [source, setSource] = useState('');
  const acct = account.trim();
  const src = source.trim();
  const accountError = acct ? accountIdError(acct) : null;
  const filter = (set: (v: string) => void) => (v: string) => {
    set(v);
    setOffset(0);
  };
  // Requests the coordinator knows, filtered and paged by it; requests still
  // only on chain (no monitor has reported them yet) are the "pending" ones.
  // Each answer carries the filters it was for: while a new filter loads,
  // the rows of the previous one are not shown as if they matched.
  const key = JSON.stringify([offset, status, acct, src, accountError]);
  const loaded = useAsync<RequestsPage & { key: string }>(
    async () => ({
      key,
      ...(accountError || status === 'pending'
        ? { requests: [], next_offset: null }
        : await coordinator.requests({ account: acct || undefined, ...(status ? statusQuery(status) : {}), source: src || undefined, limit: PAGE, offset })),
    }),
    [coordinator, key],
    5000,
  );
  const page = { ...loaded, data: loaded.data?.key === key ? loaded.data : undefined };
  const pending = useAsync(() => chain.pending(0, 100), [chain], 5000);

  let rows = (page.data?.requests ?? []).map(summaryRow);
  if (offset === 0 && !accountError && (status === '' || status === 'pending')) {
    const known = new Set(rows.map((r) => r.requestId));
    const onlyOnChain = (pending.data ?? [])
      .filter((p) => !known.has(p.request.context.request_id))
      .filter((p) => !acct || p.request.context.sender_id === acct || p.request.payer_account_id === acct)
      .filter((p) => !src || sourceMatches(p.request.code_source, src))
      .map<Row>((p) => ({
        requestId: p.request.context.request_id,
        status: 'pending',
        sender: p.request.context.sender_id,
        source: describeSource(p.request.code_source),
        used: '—',
        error: '',
        cost: null,
        updated: p.request.context.block_timestamp / 1e6,
      }));
    rows = [...onlyOnChain, ...rows].sort((a, b) => b.requestId - a.requestId);
  }
  const filtered = status !== '' || acct !== '' || src !== '';

  return (
    <>
      <h1>Executions</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter executions">
        <label>
          Status
          <select
            value={status}
            onChange={(e) => {
              setStatus(e.currentTarget.value as Status | '');
              setOffset(0);
            }}
          >
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Account
          <input value={account} onInput={(e) => filter(setAccount)(e.currentTarget.value)} placeholder="alice.near" />
        </label>
        <label>
          Source
          <input value={source} onInput={(e) => filter(setSource)(e.currentTarget.value)} placeholder="github.com/… or javascript:" />
        </label>
      </form>
      <p class="note">
        Account is the sender or the payer, exactly; source is part of the repository, URL, package or JavaScript file path, or of{' '}
        <code>javascript:&lt;sha256&gt;</code> for inline JavaScript (<code>javascript:</code> finds them all). "pending" requests are on
        chain but not yet picked up by the coordinator; "settled" ones were settled by the contract (its execution_completed), with
        its verdict.
      </p>
      {accountError && (
        <p class="error" role="alert" data-testid="account-filter-error">
          Account: {accountError}
        </p>
      )}
      {pending.error !== undefined && <ErrorBox error={pending.error} retry={pending.reload} />}
      <Show value={page} what="executions">
        {(data) =>
          rows.length === 0 ? (
            <p class="empty">{!filtered && offset === 0 ? 'No executions yet.' : 'No execution matches these filters.'}</p>
          ) : (
            <>
              <div class="table-wrap">
                <table>
                  <caption>Requests, newest first</caption>
                  <thead>
                    <tr>
                      <th scope="col">Request</th>
                      <th scope="col">Status</th>
                      <th scope="col">Account</th>
                      <th scope="col">Source</th>
                      <th scope="col">Used</th>
                      <th scope="col">Error</th>
                      <th scope="col">Charged</th>
                      <th scope="col">Updated</th>
                    </tr>
                  </thead>
                  <tbody>
                    {rows.map((r) => (
                      <tr key={r.requestId} data-testid="execution-row">
                        <th scope="row">
                          <a href={`#/executions/${r.requestId}`}>#{r.requestId}</a>
                        </th>
                        <td>
                          <span class={`badge ${statusClass(r.status)}`} data-testid="execution-status">
                            {r.status}
                          </span>
                        </td>
                        <td>{r.sender}</td>
                        <td class="mono">{r.source}</td>
                        <td>{r.used}</td>
                        <td>{r.error}</td>
                        <td>{r.cost ? formatNear(r.cost) : '—'}</td>
                        <td title={r.updated ? formatTime(r.updated) : ''}>{r.updated ? formatAgo(r.updated) : '—'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <nav class="pager" aria-label="Pages of requests">
                <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
                  Newer
                </button>
                <button type="button" disabled={!data.next_offset} onClick={() => data.next_offset && setOffset(data.next_offset)}>
                  Older
                </button>
              </nav>
            </>
          )
        }
      </Show>
    </>
  );
}

/** " · recorded T, X after the request" once the coordinator recorded the settlement's time. */
export function settledTimes(r: Pick<RequestSummary, 'created_at_ms' | 'settled_at_ms'>): string {
  if (r.settled_at_ms == null) return '';
  return ` · recorded ${formatTime(r.settled_at_ms)}, ${formatMs(Math.max(0, r.settled_at_ms - r.created_at_ms))} after the request`;
}

/** "claimed → finished · waited X, took Y" for one step. */
function stepTimes(createdMs: number | undefined, claimed?: number | null, finished?: number | null): string {
  const parts: string[] = [];
  if (claimed != null) parts.push(`${formatTime(claimed)} → ${finished != null ? formatTime(finished) : '…'}`);
  if (claimed != null && createdMs !== undefined) parts.push(`waited ${formatMs(Math.max(0, claimed - createdMs))}`);
  if (claimed != null && finished != null) parts.push(`took ${formatMs(Math.max(0, finished - claimed))}`);
  return parts.length ? ` · ${parts.join(', ')}` : '';
}

export function ExecutionDetail({ id }: { id: number }) {
  const { coordinator, chain } = useServices();
  const detail = useAsync(() => coordinator.request(id), [coordinator, id], 3000);
  const onChain = useAsync(() => chain.request(id), [chain, id], 3000);
  const sent = findSent(id);
  const settlement = useAsync<TxProgress | null>(
    async () => {
      if (!sent) return null;
      const outcome = await chain.txStatus(sent.tx_hash, sent.sender, 'INCLUDED_FINAL');
      return outcome ? txProgress(outcome, outcome.final_execution_status === 'FINAL') : null;
    },
    [chain, id],
    3000,
  );
  const d = detail.data ?? undefined;
  const list = [...(d?.jobs ?? [])].sort((a, b) => a.job_id - b.job_id);
  const compile = list.find((j) => j.job_type === 'compile');
  const execute = list.find((j) => j.job_type === 'execute');
  const timeline = d?.timeline;
  const pendingRequest = onChain.data?.request;
  const done = settlement.data?.completed;
  const settled = timeline?.settled;
  const summary = list.find((j) => j.output_summary);
  const failedJob = list.find((j) => j.state === 'failed');
  const txHash = timeline?.requested.transaction_hash ?? sent?.tx_hash;
  const sender = d?.sender_id ?? pendingRequest?.context.sender_id ?? sent?.sender;
  const block = timeline?.requested.block_height ?? pendingRequest?.context.block_height ?? settlement.data?.requestBlock;
  // What was asked: the coordinator's copy, else the chain's while pending, else this browser's.
  const asked = d
    ? { title: 'Request', sender: d.sender_id, payer: d.payer_account_id, source: d.code_source, limits: d.resource_limits, build: d.max_compile_seconds, paid: d.payment, secrets: d.secrets_ref }
    : pendingRequest
      ? {
          title: 'Request (pending on chain)',
          sender: pendingRequest.context.sender_id,
          payer: pendingRequest.payer_account_id,
          source: pendingRequest.code_source,
          limits: pendingRequest.resource_limits,
          build: pendingRequest.max_compile_seconds,
          paid: pendingRequest.payment,
          secrets: pendingRequest.secrets_ref,
        }
      : sent?.code_source !== undefined
        ? {
            title: 'Request (as sent from this browser)',
            sender: sent.sender,
            payer: undefined,
            source: sent.code_source,
            limits: sent.resource_limits,
            build: undefined,
            paid: sent.deposit,
            secrets: sent.secrets_ref,
          }
        : undefined;

  return (
    <>
      <p>
        <a href="#/executions">← Executions</a>
      </p>
      <h1>Request #{id}</h1>
      {d && (
        <p>
          Status:{' '}
          <span class={`badge ${statusClass(displayStatus(d))}`} data-testid="request-status">
            {displayStatus(d)}
          </span>
          {d.settled_success != null && <> (coordinator: {d.status})</>}
        </p>
      )}
      {detail.error !== undefined && <ErrorBox error={detail.error} retry={detail.reload} />}
      {onChain.error !== undefined && <ErrorBox error={onChain.error} retry={onChain.reload} />}
      {detail.data === undefined && detail.error === undefined && <Loading what="the request" />}
      {detail.data === null && !pendingRequest && !sent && <p class="empty">The coordinator does not know request #{id}.</p>}
      <section aria-labelledby="timeline-h">
        <h2 id="timeline-h">Timeline</h2>
        <ol class="timeline">
          <li>
            Requested
            {block != null && <> in block {block}</>}
            {sender && <> by {sender}</>}
            {txHash && (
              <>
                {' '}
                · transaction <code>{txHash}</code>
              </>
            )}
            {d && <> · reported to the coordinator {formatTime(d.created_at_ms)}</>}
          </li>
          {timeline?.build && timeline.build.state == null && <li>Build: none (the program was cached)</li>}
          {timeline?.build && timeline.build.state != null && (
            <li data-testid="build-step">
              Build {timeline.build.state} (attempt {compile?.attempt ?? '?'}
              {timeline.build.worker_id ? `, ${timeline.build.worker_id}` : ''})
              {stepTimes(compile?.created_at_ms, timeline.build.claimed_at_ms, timeline.build.finished_at_ms)}
              {timeline.build.cached === true && ' · cached, nothing built'}
              {compile?.metrics?.compile_time_ms != null && ` · built in ${formatMs(compile.metrics.compile_time_ms)}`}
            </li>
          )}
          {timeline?.run && (
            <li data-testid="run-step">
              Run {timeline.run.state} (attempt {execute?.attempt ?? '?'}
              {timeline.run.worker_id ? `, ${timeline.run.worker_id}` : ''})
              {stepTimes(execute?.created_at_ms, timeline.run.claimed_at_ms, timeline.run.finished_at_ms)}
            </li>
          )}
          {timeline?.resolve ? (
            <li data-testid="resolve-step">
              Resolved by the operator · transaction <code>{timeline.resolve.tx_hash}</code> · {formatTime(timeline.resolve.submitted_at_ms)}
            </li>
          ) : (
            onChain.data?.resolved && <li>Resolved by the operator; waiting for the contract's callback</li>
          )}
          {done ? (
            <li data-testid="settled">
              Settled{settlement.data?.settledInBlock && <> in block <code>{settlement.data.settledInBlock}</code></>}:{' '}
              {done.success ? 'success' : `failure: ${done.error ?? ''}`}
              {d && settledTimes(d)}
            </li>
          ) : settled ? (
            <li data-testid="settled">
              Settled in block {settled.block_height}: {settled.success ? 'success' : `failure: ${d?.error ?? ''}`}
              {d && settledTimes(d)}
            </li>
          ) : onChain.data === null && d && (d.status === 'completed' || d.status === 'failed') && !sent ? (
            <li>Settled (no longer pending on chain)</li>
          ) : null}
        </ol>
      </section>
      {asked && (
        <section aria-labelledby="req-h">
          <h2 id="req-h">{asked.title}</h2>
          <dl class="kv">
            <dt>Account</dt>
            <dd>
              {asked.sender}
              {asked.payer && asked.payer !== asked.sender && <> (refunds to {asked.payer})</>}
            </dd>
            <SourceDetail source={asked.source} />
            {asked.limits && (
              <>
                <dt>Limits</dt>
                <dd>
                  {formatCount(asked.limits.max_instructions)} instructions, {asked.limits.max_memory_mb} MiB, {asked.limits.max_execution_seconds} s
                  {asked.build != null && `; build up to ${asked.build} s`}
                </dd>
              </>
            )}
            {asked.paid && (
              <>
                <dt>Paid</dt>
                <dd>{formatNear(asked.paid)}</dd>
              </>
            )}
            <dt>Secrets</dt>
            <dd>{asked.secrets ? `${asked.secrets.profile} of ${asked.secrets.account_id}` : 'none'}</dd>
          </dl>
        </section>
      )}
      {d && list.length > 0 && (
        <section aria-labelledby="jobs-h">
          <h2 id="jobs-h">Result</h2>
          <dl class="kv">
            {d.metrics && (
              <>
                <dt>Used</dt>
                <dd>
                  {formatCount(d.metrics.instructions)} instructions, {formatMs(d.metrics.time_ms)}
                  {d.metrics.compile_time_ms != null && `, build ${formatMs(d.metrics.compile_time_ms)}`}
                </dd>
              </>
            )}
            {summary?.output_summary && (
              <>
                <dt>Output summary</dt>
                <dd class="mono">{summary.output_summary}</dd>
              </>
            )}
            {failedJob && (
              <>
                <dt>Error</dt>
                <dd data-testid="job-error">
                  <span class="badge failed">{failedJob.error_category}</span> {failedJob.error}
                </dd>
              </>
            )}
            {d.build_log_summary && (
              <>
                <dt>Build summary</dt>
                <dd class="mono" data-testid="build-summary">
                  {d.build_log_summary}
                </dd>
              </>
            )}
            {d.actual_cost && (
              <>
                <dt>Charged (worker's report)</dt>
                <dd>{formatNear(d.actual_cost)}</dd>
              </>
            )}
          </dl>
        </section>
      )}
      {(settled || done) && (
        <section aria-labelledby="settle-h">
          <h2 id="settle-h">Settlement</h2>
          <dl class="kv">
            {done?.success && (
              <>
                <dt>Output</dt>
                <dd>
                  <pre>{JSON.stringify(settlement.data?.value ?? null, null, 2)}</pre>
                </dd>
              </>
            )}
            <dt>Charged</dt>
            <dd data-testid="settled-charged">{formatNear((done?.charged ?? settled?.charged)!)}</dd>
            <dt>Refunded</dt>
            <dd>{formatNear((done?.refunded ?? settled?.refunded)!)}</dd>
          </dl>
        </section>
      )}
    </>
  );
}

/**
 * The source of a request: its kind and fields (repository, commit, path…),
 * for inline JavaScript also its code, and for a kind this dashboard does
 * not know "unknown source kind" with the raw JSON.
 */
export function SourceDetail({ source }: { source: unknown }) {
  const view = sourceView(source);
  const code = inlineCode(source);
  if (view.variant === null) {
    return (
      <>
        <dt>Source</dt>
        <dd data-testid="source-kind">{view.kind}</dd>
        <dt>As sent</dt>
        <dd>
          <pre class="mono" data-testid="source-raw">
            {view.raw}
          </pre>
        </dd>
      </>
    );
  }
  if (code === null) {
    return (
      <>
        <dt>Source</dt>
        <dd data-testid="source-kind">{view.kind}</dd>
        {view.fields.map((f) => (
          <Fragment key={f.key}>
            <dt>{f.label}</dt>
            <dd class="mono" data-testid={`source-${f.key}`}>
              {f.value}
            </dd>
          </Fragment>
        ))}
      </>
    );
  }
  return (
    <>
      <dt>Source</dt>
      <dd data-testid="source-kind">JavaScript (inline), {scriptBytes(code)} bytes</dd>
      <dt>SHA-256</dt>
      <dd class="mono" data-testid="source-hash">
        {scriptHash(code)}
      </dd>
      <dt>Code</dt>
      <dd>
        <pre class="code" data-testid="source-code" tabIndex={0} role="region" aria-label="JavaScript code of the request">
          {code}
        </pre>
      </dd>
    </>
  );
}
