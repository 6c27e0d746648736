import { useServices } from '../app';
import type { JobInfo, RequestSummary } from '../api/coordinator';
import { BarChart, ErrorBox, Loading, Stat, useAsync, type Bar } from '../components/common';
import { formatCount, formatMs, formatNear } from '../lib/format';

const RECENT = 500;
/** Requests the overview reads: the coordinator's largest page. */
const RECENT_REQUESTS = 200;

export function Overview() {
  const { coordinator, chain } = useServices();
  const stats = useAsync(() => coordinator.stats(), [coordinator], 5000);
  const chainStats = useAsync(() => chain.stats(), [chain], 5000);
  const jobs = useAsync(() => coordinator.jobs({ limit: RECENT }), [coordinator], 5000);
  const requests = useAsync(() => coordinator.requests({ limit: RECENT_REQUESTS }), [coordinator], 5000);

  return (
    <>
      <h1>Overview</h1>
      <section aria-labelledby="coord-h">
        <h2 id="coord-h">Coordinator</h2>
        {stats.data === undefined && stats.error !== undefined ? (
          <ErrorBox error={stats.error} retry={stats.reload} />
        ) : stats.data === undefined ? (
          <Loading what="the coordinator's numbers" />
        ) : (
          <>
            {stats.error !== undefined && <ErrorBox error={stats.error} retry={stats.reload} />}
            <dl class="stats">
              <Stat label="Requests" value={formatCount(stats.data.requests_total)} testid="requests-total" />
              <Stat label="Completed" value={formatCount(stats.data.requests_completed)} testid="requests-completed" />
              <Stat label="Failed" value={formatCount(stats.data.requests_failed)} testid="requests-failed" />
              <Stat label="Active workers" value={formatCount(stats.data.workers_active)} testid="workers-active" />
              <Stat label="Jobs pending / running" value={`${stats.data.jobs.pending} / ${stats.data.jobs.claimed}`} />
              <Stat label="Cached programs" value={`${stats.data.artifacts} (${formatBytes(stats.data.artifact_bytes)})`} />
              <Stat label="Instructions used" value={formatCount(stats.data.instructions_total ?? 0)} testid="instructions-used" />
              <Stat label="Run time" value={formatMs(stats.data.execution_ms_total ?? 0)} testid="execution-ms" />
              <Stat label="Build time" value={formatMs(stats.data.compile_ms_total ?? 0)} testid="compile-ms" />
            </dl>
            {stats.data.failures_by_category && (
              <BarChart
                caption="Failed requests by category (all time)"
                bars={Object.entries(stats.data.failures_by_category).map(([label, value]) => ({ label: label.replace('_', ' '), value }))}
              />
            )}
          </>
        )}
      </section>
      <section aria-labelledby="chain-h">
        <h2 id="chain-h">Contract</h2>
        {chainStats.data === undefined && chainStats.error !== undefined ? (
          <ErrorBox error={chainStats.error} retry={chainStats.reload} />
        ) : chainStats.data === undefined ? (
          <Loading what="the contract's numbers" />
        ) : (
          <>
            {chainStats.error !== undefined && <ErrorBox error={chainStats.error} retry={chainStats.reload} />}
            <dl class="stats">
              <Stat label="Requests" value={formatCount(chainStats.data.total_requests)} testid="chain-total" />
              <Stat label="Pending" value={formatCount(chainStats.data.pending_requests)} />
              <Stat label="Succeeded" value={formatCount(chainStats.data.succeeded)} testid="chain-succeeded" />
              <Stat label="Failed" value={formatCount(chainStats.data.failed)} />
              <Stat label="Timed out" value={formatCount(chainStats.data.timed_out)} />
              <Stat label="Cancelled" value={formatCount(chainStats.data.cancelled)} />
              <Stat label="Charged" value={formatNear(chainStats.data.total_charged)} />
              <Stat label="Refunded" value={formatNear(chainStats.data.total_refunded)} />
            </dl>
            <BarChart
              caption="Outcomes (contract, since deployment)"
              bars={[
                { label: 'succeeded', value: chainStats.data.succeeded },
                { label: 'failed', value: chainStats.data.failed },
                { label: 'timed out', value: chainStats.data.timed_out },
                { label: 'cancelled', value: chainStats.data.cancelled },
              ]}
            />
          </>
        )}
      </section>
      <section aria-labelledby="requests-h">
        <h2 id="requests-h">Recent requests (last {RECENT_REQUESTS})</h2>
        {requests.data === undefined && requests.error !== undefined ? (
          <ErrorBox error={requests.error} retry={requests.reload} />
        ) : requests.data === undefined ? (
          <Loading what="recent requests" />
        ) : (
          <RecentRequests requests={requests.data.requests} />
        )}
      </section>
      <section aria-labelledby="recent-h">
        <h2 id="recent-h">Recent jobs (last {RECENT})</h2>
        {jobs.data === undefined && jobs.error !== undefined ? (
          <ErrorBox error={jobs.error} retry={jobs.reload} />
        ) : jobs.data === undefined ? (
          <Loading what="recent jobs" />
        ) : (
          <RecentJobs jobs={jobs.data.jobs} />
        )}
      </section>
    </>
  );
}

function RecentRequests({ requests }: { requests: RequestSummary[] }) {
  if (requests.length === 0) return <p class="empty">No requests yet: they appear here once the coordinator hears of them.</p>;
  const latencies = settlementLatencies(requests);
  return (
    <>
      <dl class="stats">
        <Stat label="Settled" value={`${formatCount(latencies.settled)} of ${formatCount(requests.length)}`} testid="recent-settled" />
        <Stat
          label="Median request → settled"
          value={latencies.values.length ? formatMs(median(latencies.values)) : '—'}
          testid="median-settlement"
        />
      </dl>
      <div class="charts">
        <BarChart caption="Requests per minute (last 30 minutes)" bars={requestsPerMinute(requests, 30, Date.now())} />
        <BarChart caption={OUTCOME_MIX} bars={outcomeMix(requests)} />
        <BarChart caption="Latency from request to settlement" bars={latencyBars(latencies.values)} unit=" requests" />
      </div>
    </>
  );
}

/**
 * Request → settlement latency of settled requests: from when the
 * coordinator heard of the request to when it recorded the contract's
 * settlement (one clock at both ends). `settled` counts every settled
 * request, also those settled before coordinators recorded the time.
 */
export function settlementLatencies(requests: RequestSummary[]): { values: number[]; settled: number } {
  const values: number[] = [];
  let settled = 0;
  for (const r of requests) {
    if (r.settled_success == null) continue;
    settled++;
    if (r.settled_at_ms != null) values.push(Math.max(0, r.settled_at_ms - r.created_at_ms));
  }
  return { values, settled };
}

/** Requests the coordinator heard of in each of the last `minutes` minutes before `now`, oldest first. */
export function requestsPerMinute(requests: Pick<RequestSummary, 'created_at_ms'>[], minutes: number, now: number): Bar[] {
  const bars: Bar[] = [];
  for (let i = minutes - 1; i >= 0; i--) {
    const from = now - (i + 1) * 60_000;
    const to = now - i * 60_000;
    // The last minute also takes what the coordinator's clock puts after ours.
    const value = requests.filter((r) => r.created_at_ms >= from && (i === 0 || r.created_at_ms < to)).length;
    bars.push({ label: i === 0 ? 'now' : `-${i}m`, value, title: `${value} requests, ${i}-${i + 1} minutes ago` });
  }
  return bars;
}

export const OUTCOME_MIX = 'Outcome mix: settled (success, failure), not settled yet (completed, failed, running)';

/**
 * Where the requests stand: settled by the contract (success, failure),
 * finished by the workers and waiting for the contract's settlement
 * (completed, failed), or still being built or run.
 */
export function outcomeMix(requests: Pick<RequestSummary, 'status' | 'settled_success'>[]): Bar[] {
  const count = (f: (r: Pick<RequestSummary, 'status' | 'settled_success'>) => boolean) => requests.filter(f).length;
  const unsettled = (r: Pick<RequestSummary, 'settled_success'>) => r.settled_success == null;
  return [
    { label: 'success', value: count((r) => r.settled_success === true), title: 'settled: success' },
    { label: 'failure', value: count((r) => r.settled_success === false), title: 'settled: failure' },
    { label: 'completed', value: count((r) => unsettled(r) && r.status === 'completed'), title: 'completed by the workers, not settled yet' },
    { label: 'failed', value: count((r) => unsettled(r) && r.status === 'failed'), title: 'failed at the workers, not settled yet' },
    { label: 'running', value: count((r) => unsettled(r) && (r.status === 'compiling' || r.status === 'executing')), title: 'being built or run' },
  ];
}

function RecentJobs({ jobs }: { jobs: JobInfo[] }) {
  if (jobs.length === 0) return <p class="empty">No jobs yet: requests appear here once a worker picks them up.</p>;
  const usage = summarise(jobs);
  return (
    <>
      <dl class="stats">
        <Stat label="Median queue wait" value={usage.waits.length ? formatMs(median(usage.waits)) : '—'} testid="median-wait" />
        <Stat label="Median run time" value={usage.runs.length ? formatMs(median(usage.runs)) : '—'} testid="median-run" />
      </dl>
      <div class="charts">
        <BarChart caption="Queue wait per job (created → claimed)" bars={latencyBars(usage.waits)} unit=" jobs" />
        <BarChart caption="Run time per job (claimed → finished)" bars={latencyBars(usage.runs)} unit=" jobs" />
      </div>
    </>
  );
}

/** Per-job queue wait and run time over recent jobs. */
export function summarise(jobs: JobInfo[]) {
  const waits: number[] = [];
  const runs: number[] = [];
  for (const j of jobs) {
    // Queue wait only for first attempts: a re-claim's wait includes the lost lease.
    if (j.claimed_at_ms != null && j.attempt === 1) waits.push(Math.max(0, j.claimed_at_ms - j.created_at_ms));
    if (j.claimed_at_ms != null && j.finished_at_ms != null) runs.push(Math.max(0, j.finished_at_ms - j.claimed_at_ms));
  }
  return { waits, runs };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** How many latencies fall in each band (<1 s, 1-5 s, … >60 s). */
export function latencyBars(latencies: number[]): Bar[] {
  const edges = [1000, 5000, 15_000, 30_000, 60_000, Infinity];
  const labels = ['<1 s', '1-5 s', '5-15 s', '15-30 s', '30-60 s', '>60 s'];
  return edges.map((edge, i) => ({
    label: labels[i]!,
    value: latencies.filter((l) => l < edge && (i === 0 || l >= edges[i - 1]!)).length,
  }));
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
