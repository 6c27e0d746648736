// Compute: the primes below N (the input, default 100000) by trial division,
// folded into a checksum; the same logic as examples/compute in Rust, so the
// two give the same output for the same input.
const limit = Number.parseInt(outlayer.input().trim(), 10) || 100000;
let count = 0;
let checksum = 0n;
const mask = (1n << 64n) - 1n;
for (let n = 2; n < limit; n++) {
  let prime = true;
  for (let d = 2; d * d <= n; d++) {
    if (n % d === 0) {
      prime = false;
      break;
    }
  }
  if (prime) {
    count++;
    checksum = (checksum * 31n + BigInt(n)) & mask;
  }
}
outlayer.output(`{"primes":${count},"checksum":${checksum}}`);
