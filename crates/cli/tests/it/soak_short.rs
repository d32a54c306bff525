//! The short variant of the load and soak run, as a normal test: the real binary under mixed
//! valid / expired / forged / missing credentials from 16 workers for 8 s, with the JWKS endpoint
//! down for the middle third. Zero wrong decisions, zero unexpected 5xx, zero
//! transport errors, no panic, RSS growth within 64 MiB. The long run is
//! `cargo run --release -p mastra-cli --example soak -- --duration 300 --outage` (SECURITY.md).

#[path = "../../examples/soak.rs"]
mod soak;

use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_soak_makes_no_wrong_decision() {
    let opts = soak::Options {
        bin: env!("CARGO_BIN_EXE_mastra").into(),
        duration: Duration::from_secs(8),
        workers: 16,
        warmup: Duration::from_secs(2),
        outage: true,
        max_rss_growth: 64 * 1024 * 1024,
    };
    let report = soak::run(&opts).await;
    eprintln!("{}", report.summary());
    if let Err(e) = report.check(&opts) {
        panic!("{e}\n{}", report.summary());
    }
    // Every kind of request was exercised.
    assert!(report.by_kind.len() >= 19, "{:?}", report.by_kind.keys());
    assert!(report.requests > 500, "{}", report.requests);
    assert!(report.jwks_fetches >= 1);
}
