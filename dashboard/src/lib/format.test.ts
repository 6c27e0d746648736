import { describe, expect, it } from 'vitest';
import { formatAgo, formatNear, parseNear } from './format';

describe('money', () => {
  it('formats yoctoNEAR exactly', () => {
    expect(formatNear(20_000_000_000_000_000_000_000n)).toBe('0.02 NEAR');
    expect(formatNear('1')).toBe('0.000000000000000000000001 NEAR');
    expect(formatNear(0n)).toBe('0 NEAR');
    expect(formatNear(10n ** 24n * 3n + 5n * 10n ** 23n)).toBe('3.5 NEAR');
    expect(formatNear('340282366920938463463374607431768211455')).toBe('340282366920938.463463374607431768211455 NEAR');
  });
  it('parses NEAR to yoctoNEAR exactly, at most 24 places', () => {
    expect(parseNear('1.5')).toBe(1_500_000_000_000_000_000_000_000n);
    expect(parseNear('0.000000000000000000000001')).toBe(1n);
    expect(parseNear('0.0000000000000000000000001')).toBeNull();
    expect(parseNear('2')).toBe(2n * 10n ** 24n);
    expect(parseNear('-1')).toBeNull();
    expect(parseNear('1e3')).toBeNull();
  });
  it('says how long ago', () => {
    expect(formatAgo(1000, 1500)).toBe('just now');
    expect(formatAgo(0, 12_000)).toBe('12 s ago');
    expect(formatAgo(0, 180_000)).toBe('3 min ago');
  });
});
