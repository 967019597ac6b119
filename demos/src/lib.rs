//! Shared helpers for the book's demonstrations. Each demo is a binary in
//! `src/bin/`, named after the chapter that shows it.

use std::time::{Duration, Instant};

/// Keeps the CPU busy for about `how_long`, the way a heavy handler would.
///
/// It spins instead of sleeping on purpose: a sleeping thread gives its core
/// away, a computing one does not, and the demos are about computing work.
pub fn burn_cpu(how_long: Duration) -> u64 {
    let start = Instant::now();
    let mut x: u64 = 1;
    while start.elapsed() < how_long {
        for _ in 0..1_000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
    }
    std::hint::black_box(x)
}

/// The argument a demo passes to its own executable to make it act as a child.
pub const ROLE_FLAG: &str = "--role";

/// Returns the role this process was started in (`--role <name>`), if any.
///
/// A demo that re-runs its own executable as a child process calls this first
/// thing in `main`: `None` means "I am the parent".
pub fn role() -> Option<String> {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == ROLE_FLAG {
            return args.next();
        }
    }
    None
}

/// Formats a duration in milliseconds with one decimal, for printed tables.
pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Formats a duration in microseconds with one decimal, for printed tables.
pub fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1_000_000.0)
}
