//! Helpers shared by ordergraph's benchmarks: timing and memory readings.

use std::time::Instant;

/// Peak resident memory of this process so far, in MiB (Linux `VmHWM`).
pub fn peak_rss_mib() -> Option<f64> {
    status_mib("/proc/self/status", "VmHWM:")
}

/// Peak resident memory of process `pid` so far, in MiB.
pub fn peak_rss_mib_of(pid: u32) -> Option<f64> {
    status_mib(&format!("/proc/{pid}/status"), "VmHWM:")
}

fn status_mib(path: &str, key: &str) -> Option<f64> {
    let status = std::fs::read_to_string(path).ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Current resident memory, in MiB (Linux `VmRSS`).
pub fn rss_mib() -> Option<f64> {
    status_mib("/proc/self/status", "VmRSS:")
}

/// The value at quantile `q` (0..=1) of `sorted`, nearest rank.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Runs `f` and returns its result with the seconds it took.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let started = Instant::now();
    let out = f();
    (out, started.elapsed().as_secs_f64())
}
