//! The step-3 benchmark (not a test): the reference solution's
//! `count_scoped` on 1 thread and on 2 threads, best of 15 runs each.
//!
//! `cargo run --release -p step3-shared-atomics-solution --example speedup`
//!
//! On a machine busy with other work, two threads cannot get two cores, so
//! the benchmark also measures a control: plain arithmetic split over two
//! threads, which shows the best speed-up the machine allows right now. On
//! Linux it also prints the CPU time the runs used: when two threads use no
//! more CPU time in total than one, nothing is lost to sharing, and free
//! cores turn that straight into speed.

use std::time::{Duration, Instant};

use step3_shared_atomics_solution::{count_scoped, histogram_single};

/// Runs of each kind, alternating.
const ROUNDS: usize = 15;

/// Best time of `f(1)` and of `f(2)`, alternating so that a burst of other
/// work on the machine hits both alike; also the CPU time each kind used
/// in total (Linux only).
fn one_vs_two(f: impl Fn(usize)) -> [(Duration, Option<Duration>); 2] {
    let mut best = [Duration::MAX; 2];
    let mut cpu = [Some(Duration::ZERO); 2];
    for _ in 0..ROUNDS {
        for (i, threads) in [1, 2].into_iter().enumerate() {
            let cpu_before = process_cpu_time();
            let start = Instant::now();
            f(threads);
            best[i] = best[i].min(start.elapsed());
            cpu[i] = match (cpu[i], cpu_before, process_cpu_time()) {
                (Some(sum), Some(before), Some(after)) => Some(sum + after.saturating_sub(before)),
                _ => None,
            };
        }
    }
    [(best[0], cpu[0]), (best[1], cpu[1])]
}

/// User + system CPU time of this process so far, all threads.
#[cfg(target_os = "linux")]
fn process_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses): utime is the
    // 12th, stime the 13th, in clock ticks (100 per second on Linux).
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

#[cfg(not(target_os = "linux"))]
fn process_cpu_time() -> Option<Duration> {
    None
}

fn spin(n: u64) -> u64 {
    let mut x = 1u64;
    for i in 0..n {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i);
    }
    x
}

fn report(name: &str, [(one, cpu_one), (two, cpu_two)]: [(Duration, Option<Duration>); 2]) {
    print!(
        "{name:<30} 1 thread {:>6.1} ms   2 threads {:>6.1} ms   speed-up {:.2}x",
        one.as_secs_f64() * 1e3,
        two.as_secs_f64() * 1e3,
        one.as_secs_f64() / two.as_secs_f64()
    );
    if let (Some(a), Some(b)) = (cpu_one, cpu_two) {
        print!(
            "   CPU time 2 threads / 1 thread: {:.2}",
            b.as_secs_f64() / a.as_secs_f64().max(1e-9)
        );
    }
    println!();
}

fn main() {
    // 128 MiB of pseudo-random bytes (xorshift), the same on every run.
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    let data: Vec<u8> = (0..128 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 56) as u8
        })
        .collect();
    let expected = histogram_single(&data);
    println!(
        "{} cores available, best of {ROUNDS} runs each",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    report(
        "count_scoped, 128 MiB",
        one_vs_two(|threads| assert_eq!(count_scoped(&data, threads, |_| {}), expected)),
    );
    const SPIN: u64 = 150_000_000;
    report(
        "control: plain arithmetic",
        one_vs_two(|threads| {
            std::thread::scope(|s| {
                for _ in 0..threads {
                    s.spawn(|| {
                        std::hint::black_box(spin(std::hint::black_box(SPIN / threads as u64)))
                    });
                }
            })
        }),
    );
}
