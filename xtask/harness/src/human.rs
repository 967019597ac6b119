//! Numbers and places as the learner reads them in a check's message: a
//! duration in the unit it reads best in ("101.9 ms", "850 µs", "1.5 s"),
//! not Rust's `Debug` of it ("101.867456ms"); a panic's place, named as the
//! checks' own code when it is there, so that nobody goes looking in
//! `checks/` for a mistake of theirs.

use std::time::Duration;

/// `d` for people: whole µs under 1 ms ("850 µs"), ms with one decimal
/// under 1 s ("101.9 ms"), seconds with one decimal from there ("1.5 s");
/// a decimal that is 0 is left out ("40 ms", "5 s"); nothing is "0 ms".
pub fn duration(d: Duration) -> String {
    let micros = d.as_micros();
    if d.is_zero() {
        return "0 ms".to_string();
    }
    if micros < 1000 {
        return format!("{micros} µs");
    }
    let (value, unit) = if micros < 1_000_000 {
        (micros as f64 / 1e3, "ms")
    } else {
        (micros as f64 / 1e6, "s")
    };
    let text = format!("{value:.1}");
    // "1000.0 ms" after rounding reads better as "1 s".
    if unit == "ms" && text == "1000.0" {
        return "1 s".to_string();
    }
    let text = text.strip_suffix(".0").unwrap_or(&text);
    format!("{text} {unit}")
}

/// Whether `file` (a panic's location, as rustc records it: relative to the
/// workspace for the course's own crates) is in the checks' code: a checks
/// crate or the harness, none of the learner's.
pub fn in_checks(file: &str) -> bool {
    let file = file.replace('\\', "/");
    ["checks/", "xtask/harness/"]
        .iter()
        .any(|dir| file.starts_with(dir) || file.contains(&format!("/{dir}")))
}

/// Where a panic happened, for a message: "at src/lib.rs:12" in the
/// learner's code (or a library's), and "in the check's worker (not your
/// code)" in the checks' own code, whose path would send the learner
/// into `checks/`. `worker` says which part of the checks to name.
pub fn panic_place(file: &str, line: u32, worker: &str) -> String {
    if in_checks(file) {
        format!("in {worker} (not your code)")
    } else {
        format!("at {file}:{line}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_their_unit() {
        let d = duration;
        assert_eq!(d(Duration::from_nanos(101_867_456)), "101.9 ms");
        assert_eq!(d(Duration::from_micros(850)), "850 µs");
        assert_eq!(d(Duration::from_nanos(999_999)), "999 µs");
        assert_eq!(d(Duration::from_millis(1)), "1 ms");
        assert_eq!(d(Duration::from_millis(40)), "40 ms");
        assert_eq!(d(Duration::from_micros(1_050)), "1.1 ms");
        assert_eq!(d(Duration::from_micros(999_960)), "1 s");
        assert_eq!(d(Duration::from_secs(5)), "5 s");
        assert_eq!(d(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(d(Duration::ZERO), "0 ms");
        assert_eq!(d(Duration::from_nanos(400)), "0 µs");
    }

    #[test]
    fn a_panic_in_the_checks_is_not_the_learners() {
        let worker = "the check's worker";
        assert_eq!(
            panic_place("checks/step6-isolation/src/main.rs", 69, worker),
            "in the check's worker (not your code)"
        );
        assert!(in_checks("/tmp/course/checks/step6-isolation/src/main.rs"));
        assert!(in_checks("xtask\\harness\\src\\lib.rs"));
        assert_eq!(
            panic_place("exercises/step6-isolation/src/lib.rs", 12, worker),
            "at exercises/step6-isolation/src/lib.rs:12"
        );
        assert!(!in_checks("src/checks.rs"));
    }
}
