//! Shared helpers for the book's demonstrations. Each demo is a binary in
//! `src/bin/`, run with `cargo run -p demos --bin <name>`.
//!
//! Myth busters (book/src/myth-busters.md): `same-pid`, `child-memory`,
//! `threads-not-always-faster`, `threads-dont-unblock`, `safe-rust-races`,
//! `arc-mutex-not-enough`, `panicking-thread`.
//! Production patterns (book/src/production-patterns.md): `stopping-children`.
//! Common pitfalls (book/src/common-pitfalls.md): `pipe-deadlock`,
//! `zombie-children`.
//! Under the hood (book/src/under-the-hood.md): `pipe-capacity`, `fork-cost`.
//! The step chapters' demos are named after their step ids.

use std::time::Duration;

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
