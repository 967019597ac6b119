//! Numbers and places as the learner reads them in a check's message: a
//! duration in the unit it reads best in ("101.9 ms", "850 µs", "1.5 s"),
//! not Rust's `Debug` of it ("101.867456ms"); a panic's place, named as the
//! checks' own code when it is there, so that nobody goes looking in
//! `checks/` for a mistake of theirs; and the parts of a value's `Debug`
//! that only std's insides explain (`ExitStatus(unix_wait_status(1024))`,
//! `Os { code: 32, kind: BrokenPipe, message: "Broken pipe" }`) as their
//! meaning ("exit code 4", "Broken pipe (os error 32)").

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

/// `text` (a check's message, which may hold the learner's values printed
/// with `{:?}`) with std's inner forms of an exit status and of an
/// operating-system error replaced by what they mean:
/// `ExitStatus(unix_wait_status(1024))` reads "exit code 4",
/// `ExitStatus(unix_wait_status(9))` "killed by signal 9 (SIGKILL)", the
/// Windows form `ExitStatus(ExitStatus(3))` "exit code 3", and
/// `Os { code: 32, kind: BrokenPipe, message: "Broken pipe" }` "Broken pipe
/// (os error 32)", as `io::Error` displays itself.
pub fn debug_values(text: &str) -> String {
    let text = replace_each(text, "ExitStatus(unix_wait_status(", |rest| {
        let (digits, rest) = split_number(rest)?;
        let rest = rest.strip_prefix("))")?;
        let raw: i64 = digits.parse().ok()?;
        let (signal, code) = (raw & 0x7f, (raw >> 8) & 0xff);
        let meaning = if signal == 0 {
            format!("exit code {code}")
        } else {
            match signal_name(signal) {
                Some(name) => format!("killed by signal {signal} ({name})"),
                None => format!("killed by signal {signal}"),
            }
        };
        Some((meaning, rest))
    });
    let text = replace_each(&text, "ExitStatus(ExitStatus(", |rest| {
        let (digits, rest) = split_number(rest)?;
        Some((format!("exit code {digits}"), rest.strip_prefix("))")?))
    });
    replace_each(&text, "Os { code: ", |rest| {
        let (digits, rest) = split_number(rest)?;
        let rest = rest.strip_prefix(", kind: ")?;
        let rest = rest.trim_start_matches(|c: char| c.is_ascii_alphanumeric());
        let rest = rest.strip_prefix(", message: \"")?;
        let end = rest.find("\" }")?;
        Some((
            format!("{} (os error {digits})", &rest[..end]),
            &rest[end + 3..],
        ))
    })
}

/// `text` with every `start` whose rest `meaning` understands replaced by
/// what it says; the rest of the text is kept as it was.
fn replace_each(
    text: &str,
    start: &str,
    meaning: impl Fn(&str) -> Option<(String, &str)>,
) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(start) {
        out.push_str(&rest[..at]);
        let after = &rest[at + start.len()..];
        match meaning(after) {
            Some((said, left)) => {
                out.push_str(&said);
                rest = left;
            }
            None => {
                out.push_str(start);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The leading digits of `text` (an optional minus sign first) and the rest.
fn split_number(text: &str) -> Option<(&str, &str)> {
    let sign = usize::from(text.starts_with('-'));
    let len = sign
        + text[sign..]
            .chars()
            .take_while(char::is_ascii_digit)
            .count();
    (len > sign).then(|| text.split_at(len))
}

/// The name of the signals a worker dies of in this course.
fn signal_name(signal: i64) -> Option<&'static str> {
    Some(match signal {
        6 => "SIGABRT",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_values_reads_exit_statuses_and_os_errors() {
        assert_eq!(
            debug_values("WorkerDied { answered: 0, expected: 5, status: ExitStatus(unix_wait_status(1024)) }"),
            "WorkerDied { answered: 0, expected: 5, status: exit code 4 }"
        );
        assert_eq!(
            debug_values("Crashed(ExitStatus(unix_wait_status(9))) and Crashed(ExitStatus(unix_wait_status(134)))"),
            "Crashed(killed by signal 9 (SIGKILL)) and Crashed(killed by signal 6 (SIGABRT))"
        );
        assert_eq!(
            debug_values("Crashed(ExitStatus(ExitStatus(101)))"),
            "Crashed(exit code 101)"
        );
        assert_eq!(
            debug_values("Io(Os { code: 32, kind: BrokenPipe, message: \"Broken pipe\" }) then"),
            "Io(Broken pipe (os error 32)) then"
        );
        // What it does not understand stays as it was.
        for kept in [
            "ExitStatus(unix_wait_status(x))",
            "Os { code: 1, kind: Other }",
            "Custom { kind: InvalidData, error: \"bad\" }",
            "plain text",
        ] {
            assert_eq!(debug_values(kept), kept);
        }
    }

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
