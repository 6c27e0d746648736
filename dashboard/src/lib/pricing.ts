// What an execution costs: outlayer_types::Pricing's arithmetic in bigint,
// so the page can split the contract's estimate and charge into their parts.

import type { Pricing, ResourceLimits } from '../api/chain';
import type { ResourceMetrics } from '../api/coordinator';

/** NEAR's storage price: yoctoNEAR per byte (nearcore's `storage_amount_per_byte`). */
export const STORAGE_PRICE_PER_BYTE = 10n ** 19n;

export interface CostParts {
  base: bigint;
  instructions: bigint;
  execution: bigint;
  build: bigint;
  total: bigint;
}

/** `Pricing::cost_of`: base + instructions·per_million/10⁶ (rounded down) + ms·per_ms + build ms·per_compile_ms. */
export function costOf(pricing: Pricing, instructions: bigint, timeMs: bigint, compileMs: bigint): CostParts {
  const base = BigInt(pricing.base_fee);
  const instr = (instructions * BigInt(pricing.per_million_instructions)) / 1_000_000n;
  const execution = timeMs * BigInt(pricing.per_execution_ms);
  const build = compileMs * BigInt(pricing.per_compile_ms);
  return { base, instructions: instr, execution, build, total: base + instr + execution + build };
}

/** `Pricing::estimate`: every instruction, every second, a build to the timeout. */
export function estimateParts(pricing: Pricing, limits: ResourceLimits, maxCompileSeconds: number): CostParts {
  return costOf(pricing, BigInt(limits.max_instructions), BigInt(limits.max_execution_seconds) * 1000n, BigInt(maxCompileSeconds) * 1000n);
}

/** `Pricing::settle_success`: usage clamped to the limits, cost capped at the payment. */
export function successCharge(
  pricing: Pricing,
  limits: ResourceLimits,
  maxCompileSeconds: number,
  used: ResourceMetrics,
  payment: bigint,
): { parts: CostParts; charged: bigint; refunded: bigint } {
  const min = (a: bigint, b: bigint) => (a < b ? a : b);
  const parts = costOf(
    pricing,
    min(BigInt(used.instructions), BigInt(limits.max_instructions)),
    min(BigInt(used.time_ms), BigInt(limits.max_execution_seconds) * 1000n),
    min(BigInt(used.compile_time_ms ?? 0), BigInt(maxCompileSeconds) * 1000n),
  );
  const charged = min(parts.total, payment);
  return { parts, charged, refunded: payment - charged };
}

export function inputStorageCost(inputBytes: number): bigint {
  return BigInt(inputBytes) * STORAGE_PRICE_PER_BYTE;
}
