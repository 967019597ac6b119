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

/// The environment variable that asks a demo to record its figures: the path
/// of a file to append them to. `cargo xtask bench --demos` sets it when it
/// records the runs the book shows (book/src/measure/demos.json).
pub const FIGURES_ENV: &str = "COURSE_DEMO_FIGURES";

/// Records one measured figure of this run, so that a sentence in the book
/// can quote it (`{{#course-bench demos:debug.<demo>.<name>}}`) instead of
/// retyping it. Without [`FIGURES_ENV`] this does nothing.
///
/// `name` is a dotted path of lowercase words (`tiny.thread_per_task_us`); its
/// last word's ending gives the unit, as in the bench report: `_us`, `_ms`,
/// `_speedup` (×), `_kib`; anything else is a bare number.
pub fn figure(name: &str, value: f64) {
    let Some(path) = std::env::var_os(FIGURES_ENV) else {
        return;
    };
    assert!(
        !name.is_empty()
            && name.split('.').all(|w| !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')),
        "figure name `{name}`: dotted lowercase words"
    );
    assert!(value.is_finite(), "figure `{name}` is {value}");
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.to_string_lossy()));
    writeln!(file, "{name} {value}")
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.to_string_lossy()));
}

/// Records the median, the lowest and the highest of `values` (one per
/// round) as `NAME.median`, `NAME.min` and `NAME.max`.
pub fn figure_spread(name: &str, values: &[f64]) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (Some(&min), Some(&max)) = (sorted.first(), sorted.last()) else {
        panic!("figure `{name}`: no values");
    };
    figure(&format!("{name}.median"), sorted[sorted.len() / 2]);
    figure(&format!("{name}.min"), min);
    figure(&format!("{name}.max"), max);
}

/// Records a duration as a figure in milliseconds (`name` ends in `_ms`).
pub fn figure_ms(name: &str, d: Duration) {
    debug_assert!(name.ends_with("_ms"));
    figure(name, d.as_secs_f64() * 1000.0);
}

/// Records a duration as a figure in microseconds (`name` ends in `_us`).
pub fn figure_us(name: &str, d: Duration) {
    debug_assert!(name.ends_with("_us"));
    figure(name, d.as_secs_f64() * 1_000_000.0);
}
