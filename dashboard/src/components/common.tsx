import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

import { ServiceError, errorText } from '../api/coordinator';

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` now, again when `deps` change, and every `everyMs` if given. Keeps the last data while reloading. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[], everyMs?: number): Async<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const generation = useRef(0);
  const run = useCallback(() => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => mine === generation.current && setState({ data, error: undefined, loading: false }),
      (error: unknown) => mine === generation.current && setState((s) => ({ data: s.data, error, loading: false })),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(() => {
    run();
    if (!everyMs) return;
    const timer = setInterval(run, everyMs);
    return () => clearInterval(timer);
  }, [run, everyMs]);
  return { ...state, reload: run };
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function ErrorBox({ error, retry }: { error: unknown; retry?: () => void }) {
  const service = error instanceof ServiceError ? error.service : null;
  const title =
    error instanceof ServiceError && error.kind === 'unreachable'
      ? service === 'coordinator'
        ? 'Coordinator unreachable'
        : 'Chain unreachable'
      : 'Something went wrong';
  return (
    <div class="error" role="alert" data-testid={service ? `error-${service}` : 'error'}>
      <strong>{title}</strong>
      <p>{errorText(error)}</p>
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

/** Shows loading, error or the content of an async value. */
export function Show<T>({ value, what, children }: { value: Async<T>; what: string; children: (data: T) => ComponentChildren }) {
  if (value.data === undefined && value.error !== undefined) return <ErrorBox error={value.error} retry={value.reload} />;
  if (value.data === undefined) return <Loading what={what} />;
  return (
    <>
      {value.error !== undefined && <ErrorBox error={value.error} retry={value.reload} />}
      {children(value.data)}
    </>
  );
}

export interface Bar {
  label: string;
  value: number;
  title?: string;
}

/** A small bar chart in SVG, with the numbers in a table for screen readers. */
export function BarChart({ bars, caption, unit = '' }: { bars: Bar[]; caption: string; unit?: string }) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const width = 560;
  const height = 140;
  const gap = 4;
  const w = bars.length ? (width - gap * (bars.length - 1)) / bars.length : width;
  return (
    <figure class="chart">
      <figcaption>{caption}</figcaption>
      <svg viewBox={`0 0 ${width} ${height + 18}`} role="img" aria-label={caption}>
        {bars.map((b, i) => {
          const h = (b.value / max) * height;
          return (
            <g key={b.label}>
              <rect x={i * (w + gap)} y={height - h} width={w} height={h} class="bar">
                <title>{b.title ?? `${b.label}: ${b.value}${unit}`}</title>
              </rect>
              {bars.length <= 12 && (
                <text x={i * (w + gap) + w / 2} y={height + 14} text-anchor="middle" class="bar-label">
                  {b.label}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <table class="visually-hidden">
        <caption>{caption}</caption>
        <tbody>
          {bars.map((b) => (
            <tr key={b.label}>
              <th scope="row">{b.label}</th>
              <td>
                {b.value}
                {unit}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

export function Stat({ label, value, testid }: { label: string; value: ComponentChildren; testid?: string }) {
  return (
    <div class="stat">
      <dt>{label}</dt>
      <dd data-testid={testid}>{value}</dd>
    </div>
  );
}
