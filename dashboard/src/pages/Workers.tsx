import { useServices } from '../app';
import { Show, useAsync } from '../components/common';
import { formatAgo, formatCount, formatTime } from '../lib/format';

export function Workers() {
  const { coordinator } = useServices();
  const workers = useAsync(() => coordinator.workers(), [coordinator], 5000);
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
                <caption>Workers seen recently; job counts are all time</caption>
                <thead>
                  <tr>
                    <th scope="col">Worker</th>
                    <th scope="col">Status</th>
                    <th scope="col">Last heartbeat</th>
                    <th scope="col">Completed</th>
                    <th scope="col">Failed</th>
                    <th scope="col">Working on</th>
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
                      <td data-testid="worker-completed">{formatCount(w.jobs_completed ?? 0)}</td>
                      <td data-testid="worker-failed">{formatCount(w.jobs_failed ?? 0)}</td>
                      <td>{w.current_job != null ? <a href={`#/executions/${w.current_job}`}>#{w.current_job}</a> : '—'}</td>
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
