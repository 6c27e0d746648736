//! `outlayer coordinator bench` end to end on SQLite: every phase runs, and
//! the steady phase keeps to its schedule.

use outlayer_coordinator::bench::{BenchOptions, run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_steady_phase_offers_its_rate_and_the_report_adds_up() {
    let mut options = BenchOptions::new(2, 200);
    options.rate = Some(500);
    let report = run(options).await.expect("bench runs");

    assert_eq!(report.store, "sqlite");
    assert_eq!((report.workers, report.slots, report.requests), (2, 8, 200));
    assert_eq!(report.steady_rate_per_s, 500.0);
    // The last batch (requests 192..200) is due at 192 / 500 s, so the
    // steady phase cannot end sooner; flat out it takes a fraction of that.
    let fastest = 200.0 / (192.0 / 500.0);
    assert!(
        report.steady_requests_per_s <= fastest,
        "steady {} jobs/s, schedule allows {fastest}",
        report.steady_requests_per_s
    );
    for (name, ms) in [
        ("claim p50", report.claim_p50_ms),
        ("claim p99", report.claim_p99_ms),
        ("steady claim p50", report.steady_claim_p50_ms),
        ("steady claim p99", report.steady_claim_p99_ms),
    ] {
        assert!(ms > 0.0, "{name} = {ms}");
    }
    assert!(report.claim_p50_ms <= report.claim_p99_ms);
    assert!(report.steady_claim_p50_ms <= report.steady_claim_p99_ms);
    assert!(report.http_floor_per_s > 0.0 && report.store_floor_per_s > 0.0);
}
