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

/// CPU time and page faults of this process so far, all threads.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuUse {
    /// Seconds running the program's own code.
    pub user_s: f64,
    /// Seconds in the kernel on its behalf: mostly clearing fresh pages.
    pub system_s: f64,
    /// Page faults served without I/O: first touches of fresh memory.
    pub minor_faults: u64,
}

impl CpuUse {
    /// This process's use so far (Linux `/proc/self/stat`; zero elsewhere).
    pub fn now() -> Self {
        std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|stat| Self::parse(&stat))
            .unwrap_or_default()
    }

    /// Reads fields 10 (minflt), 14 (utime) and 15 (stime) of a
    /// `/proc/PID/stat` line, counted after the command name, which may
    /// hold spaces but ends at the last `)`.
    fn parse(stat: &str) -> Option<Self> {
        let fields: Vec<&str> = stat.get(stat.rfind(')')? + 2..)?.split(' ').collect();
        // Field 3 (state) is the first after the name.
        let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
        // /proc counts in USER_HZ ticks, 100 a second on mainstream Linux
        // architectures (part of the kernel's ABI there).
        let ticks = 100.0;
        Some(CpuUse {
            user_s: field(14)? as f64 / ticks,
            system_s: field(15)? as f64 / ticks,
            minor_faults: field(10)?,
        })
    }

    /// Use between `earlier` and `self`.
    pub fn since(self, earlier: CpuUse) -> CpuUse {
        CpuUse {
            user_s: self.user_s - earlier.user_s,
            system_s: self.system_s - earlier.system_s,
            minor_faults: self.minor_faults.saturating_sub(earlier.minor_faults),
        }
    }
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

/// The machine's random-access memory speed, to read the latency-bound
/// timings (the identity graph's increments) against: nanoseconds per load
/// over a 256 MiB table when each load needs the one before (latency), and
/// when eight independent chains run at once (what prefetching can reach).
/// A shared host's figures vary by several times from hour to hour.
pub fn memory_latency_ns() -> (f64, f64) {
    const BITS: u32 = 25;
    let mask = (1u64 << BITS) - 1;
    // A full-period linear congruential step (odd increment, multiplier
    // 1 mod 4) visits every slot in an order no prefetcher follows.
    let step = |x: u64| {
        x.wrapping_mul(0x5851_f42d_4c95_7f2d)
            .wrapping_add(0x1405_7b7e_f767_814f)
            & mask
    };
    let table: Vec<u64> = (0..=mask).map(step).collect();
    let loads = 1_000_000;
    let (one, one_s) = timed(|| {
        let mut x = 0;
        for _ in 0..loads {
            x = table[x as usize];
        }
        x
    });
    let (eight, eight_s) = timed(|| {
        let mut xs: [u64; 8] = std::array::from_fn(|k| (k as u64) << (BITS - 3));
        for _ in 0..loads / 8 {
            for x in &mut xs {
                *x = table[*x as usize];
            }
        }
        xs.iter().sum::<u64>()
    });
    // Keep the chases from being optimized away.
    std::hint::black_box((one, eight));
    (one_s * 1e9 / loads as f64, eight_s * 1e9 / loads as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cpu_use_after_a_name_with_spaces() {
        let stat = "42 (a b) c) R 1 42 42 0 -1 4194560 1234 0 0 0 250 37 0 0 20 0 3 0";
        let u = CpuUse::parse(stat).unwrap();
        assert_eq!(u.minor_faults, 1234);
        assert_eq!((u.user_s, u.system_s), (2.5, 0.37));
        if cfg!(target_os = "linux") {
            assert!(
                CpuUse::now().minor_faults > 0,
                "a running process has touched memory"
            );
        }
    }
}
