import { useServices } from '../app';
import { Show, useAsync } from '../components/common';
import { formatAgo, formatTime } from '../lib/format';

export function Workers() {
  const { coordinator } = useServices();
  const workers = useAsync(() => coordinator.workers(), [coordinator], 5000);
  const jobs = useAsync(() => coordinator.jobs({ limit: 500 }), [coordinator], 5000);
  const counts = new Map<string, { completed: number; failed: number }>();
  for (const j of jobs.data?.jobs ?? []) {
    if (!j.worker_id) continue;
    const c = counts.get(j.worker_id) ?? { completed: 0, failed: 0 };
    if (j.state === 'completed') c.completed++;
    if (j.state === 'failed') c.failed++;
    counts.set(j.worker_id, c);
  }
  return (
    <>
      <h1>Workers</h1>
      <Show value={workers} what="workers">
        {(list) =>
          list.length === 0 ? (
            <p class="empty">No worker has sent a heartbeat within the coordinator's liveness window.</p>
          ) : (
            <div class="table-wrap">
              <table>
                <caption>Workers seen recently; job counts over the last 500 jobs</caption>
                <thead>
                  <tr>
                    <th scope="col">Worker</th>
                    <th scope="col">Status</th>
                    <th scope="col">Last heartbeat</th>
                    <th scope="col">Completed</th>
                    <th scope="col">Failed</th>
                    <th scope="col">Capabilities</th>
                    <th scope="col">Version</th>
                    <th scope="col">Token</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((w) => (
                    <tr key={w.worker_id} data-testid="worker-row">
                      <th scope="row">{w.worker_id}</th>
                      <td>
                        <span class={`badge ${w.active ? w.status : 'inactive'}`}>{w.active ? w.status : 'inactive'}</span>
                      </td>
                      <td title={formatTime(w.last_seen_ms)}>{formatAgo(w.last_seen_ms)}</td>
                      <td>{counts.get(w.worker_id)?.completed ?? 0}</td>
                      <td>{counts.get(w.worker_id)?.failed ?? 0}</td>
                      <td>{w.capabilities.join(', ')}</td>
                      <td>{w.version ?? '—'}</td>
                      <td>{w.token_name}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Show>
    </>
  );
}
