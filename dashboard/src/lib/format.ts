// Money and time for people. Amounts are yoctoNEAR as bigint: never floats.

const YOCTO_PER_NEAR = 10n ** 24n;

/** Exact NEAR from yoctoNEAR: `0.02`, `1.5`, `0.000000000000000000000001`. */
export function formatNear(yocto: bigint | string): string {
  const value = typeof yocto === 'string' ? BigInt(yocto) : yocto;
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const whole = abs / YOCTO_PER_NEAR;
  const fraction = (abs % YOCTO_PER_NEAR).toString().padStart(24, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? '.' + fraction : ''} NEAR`;
}

/** yoctoNEAR from a decimal NEAR amount (`1.5` → 1.5·10²⁴); null when not a plain decimal of at most 24 places. */
export function parseNear(text: string): bigint | null {
  const m = /^\s*(\d+)(?:\.(\d{0,24}))?\s*$/.exec(text);
  if (!m) return null;
  return BigInt(m[1]!) * YOCTO_PER_NEAR + BigInt((m[2] ?? '').padEnd(24, '0') || '0');
}

export function formatCount(n: number | bigint): string {
  return n.toLocaleString('en-US');
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/** `12 s ago`, `3 min ago` from a millisecond timestamp. */
export function formatAgo(ms: number, now = Date.now()): string {
  const d = Math.max(0, now - ms);
  if (d < 1000) return 'just now';
  if (d < 60_000) return `${Math.floor(d / 1000)} s ago`;
  if (d < 3_600_000) return `${Math.floor(d / 60_000)} min ago`;
  return `${Math.floor(d / 3_600_000)} h ago`;
}

export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}
