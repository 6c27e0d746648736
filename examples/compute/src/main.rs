//! Compute: counts the primes below N (the input, default 100000) by trial
//! division, then folds them into a checksum. Pure CPU, no allocation in the
//! loop: a steady workload for measuring fuel and metering overhead.

fn main() {
    let limit: u32 = outlayer_sdk::input_string()
        .trim()
        .parse()
        .unwrap_or(100_000);
    let mut count = 0u32;
    let mut checksum = 0u64;
    for n in 2..limit {
        let mut prime = true;
        let mut d = 2;
        while d * d <= n {
            if n % d == 0 {
                prime = false;
                break;
            }
            d += 1;
        }
        if prime {
            count += 1;
            checksum = checksum.wrapping_mul(31).wrapping_add(u64::from(n));
        }
    }
    outlayer_sdk::output(format!("{{\"primes\":{count},\"checksum\":{checksum}}}").as_bytes());
}
