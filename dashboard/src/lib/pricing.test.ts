import { describe, expect, it } from 'vitest';
import { costOf, estimateParts, inputStorageCost, successCharge } from './pricing';

// Pricing::default()
const pricing = {
  base_fee: '1000000000000000000000',
  per_million_instructions: '1000000000000000000',
  per_execution_ms: '100000000000000000',
  per_compile_ms: '100000000000000000',
};
const limits = { max_instructions: 1_000_000_000, max_memory_mb: 128, max_execution_seconds: 60 };

describe('pricing, as outlayer_types::Pricing computes it', () => {
  it('the default limits with the default build timeout estimate to exactly 0.02 NEAR', () => {
    const parts = estimateParts(pricing, limits, 120);
    expect(parts.total).toBe(20_000_000_000_000_000_000_000n);
    expect(parts).toEqual({
      base: 1_000_000_000_000_000_000_000n,
      instructions: 1_000n * 1_000_000_000_000_000_000n,
      execution: 60_000n * 100_000_000_000_000_000n,
      build: 120_000n * 100_000_000_000_000_000n,
      total: 20_000_000_000_000_000_000_000n,
    });
  });

  it('rounds the instruction price down per million', () => {
    expect(costOf(pricing, 999_999n, 0n, 0n).instructions).toBe(999_999_000_000_000_000n);
    expect(costOf({ ...pricing, per_million_instructions: '3' }, 999_999n, 0n, 0n).instructions).toBe(2n);
  });

  it('a success is charged its clamped usage, at most the payment; the rest is refunded', () => {
    const payment = 20_000_000_000_000_000_000_000n;
    const s = successCharge(pricing, limits, 120, { instructions: 84_695, time_ms: 0, compile_time_ms: null }, payment);
    expect(s.charged).toBe(1_000_084_695_000_000_000_000n);
    expect(s.charged + s.refunded).toBe(payment);
    const over = successCharge(pricing, limits, 120, { instructions: 10 ** 12, time_ms: 10 ** 9, compile_time_ms: 10 ** 9 }, payment);
    expect(over.charged).toBe(payment);
    expect(over.refunded).toBe(0n);
    expect(successCharge(pricing, limits, 120, { instructions: 1, time_ms: 1, compile_time_ms: 1 }, 1n).charged).toBe(1n);
  });

  it('input storage costs 10^19 yoctoNEAR a byte', () => {
    expect(inputStorageCost(5)).toBe(50_000_000_000_000_000_000n);
  });
});
