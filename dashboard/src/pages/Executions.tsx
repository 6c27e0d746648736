import { useState } from 'preact/hooks';

import { useServices } from '../app';
import type { RequestView, TxProgress } from '../api/chain';
import { txProgress } from '../api/chain';
import type { JobInfo } from '../api/coordinator';
import { ErrorBox, Loading, Show, useAsync } from '../components/common';
import { formatAgo, formatCount, formatMs, formatNear, formatTime } from '../lib/format';
import { findSent, sentRequests } from '../lib/sent';
import { describeSource } from '../lib/source';

type Status = 'pending' | 'compiling' | 'executing' | 'completed' | 'failed';
const STATUSES: Status[] = ['pending', 'compiling', 'executing', 'completed', 'failed'];
const PAGE = 100;

interface Row {
  requestId: number;
  status: Status;
  jobs: JobInfo[];
  pending: RequestView | undefined;
  sender: string | undefined;
  source: string | undefined;
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

export function Executions() {
  const { coordinator, chain } = useServices();
  const [offset, setOffset] = useState(0);
  const [status, setStatus] = useState<'' | Status>('');
  const [account, setAccount] = useState('');
  const [source, setSource] = useState('');
  const jobs = useAsync(() => coordinator.jobs({ limit: PAGE, offset }), [coordinator, offset], 5000);
  const pending = useAsync(() => chain.pending(0, 100), [chain], 5000);

  const mine = new Map(sentRequests().map((s) => [s.request_id, s]));
  const byId = new Map<number, Row>();
  for (const j of jobs.data?.jobs ?? []) {
    const row = byId.get(j.request_id) ?? {
      requestId: j.request_id,
      status: 'pending',
      jobs: [],
      pending: undefined,
      sender: mine.get(j.request_id)?.sender,
      source: mine.get(j.request_id)?.code_source ? describeSource(mine.get(j.request_id)!.code_source) : undefined,
      updated: 0,
    };
    row.jobs.push(j);
    row.updated = Math.max(row.updated, j.updated_at_ms);
    byId.set(j.request_id, row);
  }
  for (const p of pending.data ?? []) {
    const id = p.request.context.request_id;
    const row = byId.get(id) ?? {
      requestId: id,
      status: 'pending',
      jobs: [],
      pending: undefined,
      sender: undefined,
      source: undefined,
      updated: p.request.context.block_timestamp / 1e6,
    };
    row.pending = p;
    row.sender = p.request.context.sender_id;
    row.source = describeSource(p.request.code_source);
    byId.set(id, row);
  }
  let rows = [...byId.values()].map((r) => ({ ...r, jobs: [...r.jobs].sort((a, b) => a.job_id - b.job_id), status: statusOf(r.jobs) }));
  rows.sort((a, b) => b.requestId - a.requestId);
  if (status) rows = rows.filter((r) => r.status === status);
  if (account.trim()) rows = rows.filter((r) => r.sender?.includes(account.trim()));
  if (source.trim()) rows = rows.filter((r) => r.source?.includes(source.trim()));

  return (
    <>
      <h1>Executions</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter executions">
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value as Status | '')}>
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
          <input value={account} onInput={(e) => setAccount(e.currentTarget.value)} placeholder="alice.near" />
        </label>
        <label>
          Source
          <input value={source} onInput={(e) => setSource(e.currentTarget.value)} placeholder="github.com/…" />
        </label>
      </form>
      <p class="note">
        Account and source are known for pending requests (from the contract) and for requests sent from this browser; the
        coordinator's public jobs list does not carry them yet.
      </p>
      {pending.error !== undefined && <ErrorBox error={pending.error} retry={pending.reload} />}
      <Show value={jobs} what="executions">
        {(page) =>
          rows.length === 0 ? (
            <p class="empty">{page.jobs.length === 0 && offset === 0 ? 'No executions yet.' : 'No execution matches these filters.'}</p>
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
                      <th scope="col">Jobs</th>
                      <th scope="col">Error</th>
                      <th scope="col">Charged</th>
                      <th scope="col">Updated</th>
                    </tr>
                  </thead>
                  <tbody>
                    {rows.map((r) => {
                      const failed = r.jobs.find((j) => j.state === 'failed');
                      const cost = r.jobs.find((j) => j.actual_cost)?.actual_cost;
                      return (
                        <tr key={r.requestId} data-testid="execution-row">
                          <th scope="row">
                            <a href={`#/executions/${r.requestId}`}>#{r.requestId}</a>
                          </th>
                          <td>
                            <span class={`badge ${r.status}`}>{r.status}</span>
                          </td>
                          <td>{r.sender ?? '—'}</td>
                          <td class="mono">{r.source ?? '—'}</td>
                          <td>{r.jobs.map((j) => `${j.job_type} ${j.state}`).join(', ') || '—'}</td>
                          <td>{failed?.error_category ?? ''}</td>
                          <td>{cost ? formatNear(cost) : '—'}</td>
                          <td title={r.updated ? formatTime(r.updated) : ''}>{r.updated ? formatAgo(r.updated) : '—'}</td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
              <nav class="pager" aria-label="Pages of jobs">
                <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
                  Newer
                </button>
                <button type="button" disabled={!page.next_offset} onClick={() => page.next_offset && setOffset(page.next_offset)}>
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

export function ExecutionDetail({ id }: { id: number }) {
  const { coordinator, chain } = useServices();
  const jobs = useAsync(() => coordinator.jobs({ request_id: id, limit: 50 }), [coordinator, id], 3000);
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
  const list = [...(jobs.data?.jobs ?? [])].sort((a, b) => a.job_id - b.job_id);
  const compile = list.filter((j) => j.job_type === 'compile');
  const execute = list.filter((j) => j.job_type === 'execute');
  const request = onChain.data?.request;
  const done = settlement.data?.completed;
  const lastRun = execute.at(-1);
  const summary = list.find((j) => j.output_summary);
  const failedJob = list.find((j) => j.state === 'failed');
  const costJob = list.find((j) => j.actual_cost);

  return (
    <>
      <p>
        <a href="#/executions">← Executions</a>
      </p>
      <h1>Request #{id}</h1>
      {jobs.error !== undefined && <ErrorBox error={jobs.error} retry={jobs.reload} />}
      {onChain.error !== undefined && <ErrorBox error={onChain.error} retry={onChain.reload} />}
      {jobs.data === undefined && jobs.error === undefined && <Loading what="the request" />}
      <section aria-labelledby="timeline-h">
        <h2 id="timeline-h">Timeline</h2>
        <ol class="timeline">
          <li>
            Requested
            {request ? (
              <>
                {' '}
                in block {request.context.block_height} by {request.context.sender_id}
              </>
            ) : (
              settlement.data?.requestBlock != null && (
                <>
                  {' '}
                  in block {settlement.data.requestBlock}
                  {sent ? ` by ${sent.sender}` : ''}
                </>
              )
            )}
            {sent && (
              <>
                {' '}
                · transaction <code>{sent.tx_hash}</code>
              </>
            )}
          </li>
          {compile.map((j) => (
            <li key={j.job_id}>
              Build {j.state} (attempt {j.attempt}
              {j.worker_id ? `, ${j.worker_id}` : ''}) · {formatTime(j.created_at_ms)} → {formatTime(j.updated_at_ms)}
              {j.metrics?.compile_time_ms != null && ` · ${formatMs(j.metrics.compile_time_ms)}`}
              {j.error && <> · {j.error}</>}
            </li>
          ))}
          {compile.length === 0 && execute.length > 0 && <li>Build: none (the program was cached)</li>}
          {execute.map((j) => (
            <li key={j.job_id}>
              Run {j.state} (attempt {j.attempt}
              {j.worker_id ? `, ${j.worker_id}` : ''}) · {formatTime(j.created_at_ms)} → {formatTime(j.updated_at_ms)}
            </li>
          ))}
          {onChain.data?.resolved && <li>Resolved by the operator; waiting for the contract's callback</li>}
          {done ? (
            <li data-testid="settled">
              Settled{settlement.data?.settledInBlock && <> in block <code>{settlement.data.settledInBlock}</code></>}:{' '}
              {done.success ? 'success' : `failure: ${done.error ?? ''}`}
            </li>
          ) : onChain.data === null && jobs.data && list.length > 0 && !sent ? (
            <li>Settled (no longer pending on chain)</li>
          ) : null}
        </ol>
      </section>
      {request && (
        <section aria-labelledby="req-h">
          <h2 id="req-h">Request (pending on chain)</h2>
          <dl class="kv">
            <dt>Source</dt>
            <dd class="mono">{describeSource(request.code_source)}</dd>
            <dt>Limits</dt>
            <dd>
              {formatCount(request.resource_limits.max_instructions)} instructions, {request.resource_limits.max_memory_mb} MiB,{' '}
              {request.resource_limits.max_execution_seconds} s; build up to {request.max_compile_seconds ?? '?'} s
            </dd>
            <dt>Paid</dt>
            <dd>{formatNear(request.payment)}</dd>
            <dt>Secrets</dt>
            <dd>{request.secrets_ref ? `${request.secrets_ref.profile} of ${request.secrets_ref.account_id}` : 'none'}</dd>
          </dl>
        </section>
      )}
      {!request && sent?.code_source !== undefined && (
        <section aria-labelledby="asked-h">
          <h2 id="asked-h">Request (as sent from this browser)</h2>
          <dl class="kv">
            <dt>Account</dt>
            <dd>{sent.sender}</dd>
            <dt>Source</dt>
            <dd class="mono">{describeSource(sent.code_source)}</dd>
            {sent.resource_limits && (
              <>
                <dt>Limits</dt>
                <dd>
                  {formatCount(sent.resource_limits.max_instructions)} instructions, {sent.resource_limits.max_memory_mb} MiB,{' '}
                  {sent.resource_limits.max_execution_seconds} s
                </dd>
              </>
            )}
            {sent.deposit && (
              <>
                <dt>Paid</dt>
                <dd>{formatNear(sent.deposit)}</dd>
              </>
            )}
            <dt>Secrets</dt>
            <dd>{sent.secrets_ref ? `${sent.secrets_ref.profile} of ${sent.secrets_ref.account_id}` : 'none'}</dd>
          </dl>
        </section>
      )}
      {list.length > 0 && (
        <section aria-labelledby="jobs-h">
          <h2 id="jobs-h">Result</h2>
          <dl class="kv">
            {lastRun?.metrics && (
              <>
                <dt>Used</dt>
                <dd>
                  {formatCount(lastRun.metrics.instructions)} instructions, {formatMs(lastRun.metrics.time_ms)}
                  {lastRun.metrics.compile_time_ms != null && `, build ${formatMs(lastRun.metrics.compile_time_ms)}`}
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
            {costJob?.actual_cost && (
              <>
                <dt>Charged (worker's report)</dt>
                <dd>{formatNear(costJob.actual_cost)}</dd>
              </>
            )}
          </dl>
        </section>
      )}
      {done && (
        <section aria-labelledby="settle-h">
          <h2 id="settle-h">Settlement</h2>
          <dl class="kv">
            {done.success && (
              <>
                <dt>Output</dt>
                <dd>
                  <pre>{JSON.stringify(settlement.data?.value ?? null, null, 2)}</pre>
                </dd>
              </>
            )}
            <dt>Charged</dt>
            <dd>{formatNear(done.charged)}</dd>
            <dt>Refunded</dt>
            <dd>{formatNear(done.refunded)}</dd>
          </dl>
        </section>
      )}
    </>
  );
}
