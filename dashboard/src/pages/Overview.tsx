import { useServices } from '../app';
import type { JobInfo } from '../api/coordinator';
import { BarChart, ErrorBox, Loading, Stat, useAsync, type Bar } from '../components/common';
import { formatCount, formatMs, formatNear } from '../lib/format';

const RECENT = 500;

export function Overview() {
  const { coordinator, chain } = useServices();
  const stats = useAsync(() => coordinator.stats(), [coordinator], 5000);
  const chainStats = useAsync(() => chain.stats(), [chain], 5000);
  const jobs = useAsync(() => coordinator.jobs({ limit: RECENT }), [coordinator], 5000);

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

function RecentJobs({ jobs }: { jobs: JobInfo[] }) {
  if (jobs.length === 0) return <p class="empty">No jobs yet: requests appear here once a worker picks them up.</p>;
  const usage = summarise(jobs);
  return (
    <>
      <dl class="stats">
        <Stat label="Median request → done" value={usage.latencies.length ? formatMs(median(usage.latencies)) : '—'} />
        <Stat label="Median queue wait" value={usage.waits.length ? formatMs(median(usage.waits)) : '—'} testid="median-wait" />
        <Stat label="Median run time" value={usage.runs.length ? formatMs(median(usage.runs)) : '—'} testid="median-run" />
      </dl>
      <div class="charts">
        <BarChart caption="Jobs created per minute (last 30 minutes)" bars={perMinute(jobs, 30)} />
        <BarChart caption="Queue wait per job (created → claimed)" bars={latencyBars(usage.waits)} unit=" ms" />
        <BarChart caption="Time from first job to last job's end, per request" bars={latencyBars(usage.latencies)} unit=" ms" />
      </div>
    </>
  );
}

/** Per-request latency, and per-job queue wait and run time, over recent jobs. */
export function summarise(jobs: JobInfo[]) {
  const waits: number[] = [];
  const runs: number[] = [];
  const byRequest = new Map<number, { start: number; end: number; done: boolean }>();
  for (const j of jobs) {
    // Queue wait only for first attempts: a re-claim's wait includes the lost lease.
    if (j.claimed_at_ms != null && j.attempt === 1) waits.push(Math.max(0, j.claimed_at_ms - j.created_at_ms));
    if (j.claimed_at_ms != null && j.finished_at_ms != null) runs.push(Math.max(0, j.finished_at_ms - j.claimed_at_ms));
    const end = j.finished_at_ms ?? j.updated_at_ms;
    const r = byRequest.get(j.request_id) ?? { start: j.created_at_ms, end, done: false };
    r.start = Math.min(r.start, j.created_at_ms);
    r.end = Math.max(r.end, end);
    if (j.job_type === 'execute' && (j.state === 'completed' || j.state === 'failed')) r.done = true;
    if (j.state === 'failed') r.done = true;
    byRequest.set(j.request_id, r);
  }
  const latencies = [...byRequest.values()].filter((r) => r.done).map((r) => r.end - r.start);
  return { latencies, waits, runs };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function perMinute(jobs: JobInfo[], minutes: number): Bar[] {
  const now = Date.now();
  const bars: Bar[] = [];
  for (let i = minutes - 1; i >= 0; i--) {
    const from = now - (i + 1) * 60_000;
    const to = now - i * 60_000;
    const value = jobs.filter((j) => j.created_at_ms >= from && j.created_at_ms < to).length;
    bars.push({ label: i === 0 ? 'now' : `-${i}m`, value, title: `${value} jobs, ${i}-${i + 1} minutes ago` });
  }
  return bars;
}

function latencyBars(latencies: number[]): Bar[] {
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
