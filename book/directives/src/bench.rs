//! `{{#course-bench ...}}`: a figure from the recorded bench run
//! (`book/src/measure/bench.json`, written by `cargo xtask bench`), so that a
//! number in the prose is the number in the data and the two cannot disagree.
//!
//! - `{{#course-bench KEY}}`: one value with its unit, e.g.
//!   `{{#course-bench spawn.thread_us.median}}` becomes `47 µs`.
//! - `{{#course-bench KEY / KEY}}`: the ratio of two values, a bare number
//!   (`25`); the prose says "times" or puts a `×` after it.
//! - `{{#course-bench KEY range}}`: for a set of statistics (an object with
//!   `min` and `max`), the spread, e.g. `416–1142 MB/s`.
//! - A last word `digits=N` fixes the number of decimals (default: none from
//!   10 up, one below 10, two below 1).
//! - A last word `unit=U` converts before formatting: `ms` (from µs), `s`
//!   (from ms), `MiB` (from KiB), `GB/s` (from MB/s).
//!
//! A KEY is a path of object keys joined by dots. In an array, pick the
//! element by its fields: `communication.results[method=raw-pipe][message_bytes=65536]`;
//! exactly one element must match. The unit comes from the last key that is
//! not a statistic: `_us` is µs, `_ms` ms, `_s` s, `_kib` KiB, `bytes_per_s`
//! MB/s, `messages_per_s` million messages/s, `_speedup` ×; anything else
//! is a bare number.
//!
//! A KEY whose value is text (the `machine` description) renders as it is;
//! one ending in `date` as a day: `4 December 2026`.
//!
//! `rerun:KEY` reads the same KEY from `measure/rerun.json` (a second full run
//! on the same machine, to show how steady the figures are); in general
//! `NAME:KEY` reads `measure/NAME.json`: `demos:debug.same-pid.…` reads the
//! recorded demo runs (`cargo xtask bench --demos`).
//!
//! `{{#course-claim A OP B}}` (A and B keys, numbers or ratios `KEY / KEY`,
//! OP `<`, `<=`, `>`, `>=`) is a comparison the prose makes ("slower in every round"): it
//! renders as nothing, and the build fails when the recorded run says
//! otherwise, so a new recording cannot silently contradict the text.
//!
//! Any key that is not in the file, an ambiguous or empty selection, or a
//! value that is not a number is an error naming the directive and what was
//! there instead, so a renamed field or a typo fails the build.

use std::path::Path;

use serde_json::Value;

/// Where the recorded run lives, relative to the book's `src` folder.
pub const FILE: &str = "measure/bench.json";

const PREFIX: &str = "{{#course-bench";

/// `{{#course-claim A < B}}`: a comparison the prose makes, checked against
/// the recorded runs; it renders as nothing and fails the build when false.
const CLAIM: &str = "{{#course-claim";

/// The statistics every measured quantity records.
const STATS: &[&str] = &["median", "q1", "q3", "min", "max", "samples"];

/// The recorded bench runs: `measure/bench.json`, and any other run
/// (`rerun.json`) next to it, by file stem.
#[derive(Debug, Clone)]
pub struct Bench {
    runs: Vec<Run>,
}

#[derive(Debug, Clone)]
struct Run {
    /// The file stem: `bench`, `rerun`.
    name: String,
    data: Value,
    /// Where it was read from, for error messages.
    origin: String,
}

impl Bench {
    /// Reads `measure/bench.json` under the book's `src` folder, and every
    /// other `.json` file in `measure/`.
    pub fn load(src: &Path) -> Result<Bench, String> {
        let main = src.join(FILE);
        let dir = main.parent().unwrap_or(src);
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        if !files.contains(&main) {
            return Err(format!("{} is missing", main.display()));
        }
        let mut bench = Bench { runs: Vec::new() };
        for path in files {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let name = path.file_stem().unwrap_or_default().to_string_lossy();
            bench.add(&name, &text, &path.display().to_string())?;
        }
        Ok(bench)
    }

    /// A bench run (`bench.json`) from its JSON text; `origin` names it in
    /// errors.
    pub fn parse(text: &str, origin: &str) -> Result<Bench, String> {
        let mut bench = Bench { runs: Vec::new() };
        bench.add("bench", text, origin)?;
        Ok(bench)
    }

    /// Adds the run `name` (what `NAME:KEY` picks) from its JSON text.
    pub fn add(&mut self, name: &str, text: &str, origin: &str) -> Result<(), String> {
        let data =
            serde_json::from_str(text).map_err(|e| format!("{origin} is not valid JSON: {e}"))?;
        self.runs.push(Run {
            name: name.to_string(),
            data,
            origin: origin.to_string(),
        });
        Ok(())
    }
}

/// Expands every `{{#course-bench ...}}` in `text`. Without a bench run
/// (`None`), a chapter that uses one is an error. `\{{#course-bench ...}}`
/// is left as it is, for the manifest pass to print without the backslash.
pub fn expand(text: &str, bench: Option<&Bench>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let next = |rest: &str| match (rest.find(PREFIX), rest.find(CLAIM)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    while let Some(start) = next(rest) {
        let Some(len) = rest[start..].find("}}") else {
            let line = rest[start..].lines().next().unwrap_or("");
            return Err(format!("`{line}` is not closed with `}}}}`"));
        };
        let end = start + len + 2;
        let directive = &rest[start..end];
        out.push_str(&rest[..start]);
        if start > 0 && rest.as_bytes()[start - 1] == b'\\' {
            out.push_str(directive);
        } else {
            let bench = bench.ok_or_else(|| {
                format!("`{directive}`: no recorded bench run ({FILE}) was found")
            })?;
            let rendered = if directive.starts_with(CLAIM) {
                claim(directive, bench).map(|()| String::new())
            } else {
                render(directive, bench)
            };
            out.push_str(&rendered.map_err(|e| format!("`{directive}`: {e}"))?);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Renders one directive (`{{#course-bench ARGS}}`) from `bench`.
pub fn render(directive: &str, bench: &Bench) -> Result<String, String> {
    let inner = directive
        .strip_prefix(PREFIX)
        .and_then(|d| d.strip_suffix("}}"))
        .ok_or("not a course-bench directive")?;
    let mut words: Vec<&str> = inner.split_whitespace().collect();
    let mut digits = None;
    let mut unit_wanted = None;
    while let Some(last) = words.last() {
        if let Some(n) = last.strip_prefix("digits=") {
            digits = Some(
                n.parse::<usize>()
                    .map_err(|_| format!("`digits={n}` is not a number of decimals"))?,
            );
        } else if let Some(u) = last.strip_prefix("unit=") {
            unit_wanted = Some(u);
        } else {
            break;
        }
        words.pop();
    }
    match words.as_slice() {
        [key] if lookup(bench, key)?.is_string() => {
            if digits.is_some() || unit_wanted.is_some() {
                return Err(format!("`{key}` is text; drop `digits=` and `unit=`"));
            }
            let text = lookup(bench, key)?.as_str().unwrap_or_default();
            if key.ends_with("date") {
                day_of(text).ok_or_else(|| format!("`{key}` is `{text}`, not a date (YYYY-MM-DD…)"))
            } else {
                Ok(text.to_string())
            }
        }
        [key] => {
            let (value, unit) = number(bench, key)?;
            let (value, unit) = convert(value, unit, unit_wanted)?;
            Ok(with_unit(&format_number(value, digits), unit))
        }
        [key, "range"] => {
            let stats = lookup(bench, key)?;
            let (min, unit) = number(bench, &format!("{key}.min"))?;
            let (max, _) = number(bench, &format!("{key}.max"))?;
            if !stats.is_object() {
                return Err(format!("`{key}` is not a set of statistics"));
            }
            let (min, unit_out) = convert(min, unit, unit_wanted)?;
            let (max, _) = convert(max, unit, unit_wanted)?;
            let digits = digits.or(Some(decimals(min)));
            Ok(with_unit(
                &format!(
                    "{}–{}",
                    format_number(min, digits),
                    format_number(max, digits)
                ),
                unit_out,
            ))
        }
        [top, "/", bottom] => {
            if unit_wanted.is_some() {
                return Err("a ratio has no unit; drop `unit=`".into());
            }
            let (a, _) = number(bench, top)?;
            let (b, _) = number(bench, bottom)?;
            if b == 0.0 {
                return Err(format!("`{bottom}` is zero"));
            }
            Ok(format_number(a / b, digits))
        }
        _ => Err(format!(
            "wrong arguments; write `{PREFIX} KEY}}}}`, `{PREFIX} KEY / KEY}}}}` or \
             `{PREFIX} KEY range}}}}`, optionally ending with `digits=N` or `unit=U` \
             (see book/README.md)"
        )),
    }
}

/// Checks one `{{#course-claim A OP B}}`: A and B are keys (as in
/// `course-bench`) or plain numbers, OP is `<`, `<=`, `>` or `>=`.
pub fn claim(directive: &str, bench: &Bench) -> Result<(), String> {
    let inner = directive
        .strip_prefix(CLAIM)
        .and_then(|d| d.strip_suffix("}}"))
        .ok_or("not a course-claim directive")?;
    let words: Vec<&str> = inner.split_whitespace().collect();
    let usage = || {
        format!(
            "write `{CLAIM} KEY < KEY}}}}` (a number or a ratio `KEY / KEY` on either \
             side; <, <=, >, >=)"
        )
    };
    let at = words
        .iter()
        .position(|w| matches!(*w, "<" | "<=" | ">" | ">=" | "=" | "==" | "!="))
        .ok_or_else(usage)?;
    let (left, op, right) = (&words[..at], words[at], &words[at + 1..]);
    let term = |term: &str| match term.parse::<f64>() {
        Ok(n) => Ok(n),
        Err(_) => number(bench, term).map(|(n, _)| n),
    };
    // One term, or the ratio of two: `KEY / KEY`.
    let value = |side: &[&str]| -> Result<(f64, String), String> {
        match side {
            [one] => Ok((term(one)?, one.to_string())),
            [top, "/", bottom] => {
                let b = term(bottom)?;
                if b == 0.0 {
                    return Err(format!("`{bottom}` is zero"));
                }
                Ok((term(top)? / b, format!("{top} / {bottom}")))
            }
            _ => Err(usage()),
        }
    };
    let ((x, a), (y, b)) = (value(left)?, value(right)?);
    let holds = match op {
        "<" => x < y,
        "<=" => x <= y,
        ">" => x > y,
        ">=" => x >= y,
        other => return Err(format!("`{other}` is not one of <, <=, >, >=")),
    };
    if holds {
        Ok(())
    } else {
        Err(format!(
            "the prose claims {a} {op} {b}, but the recorded run has {x} and {y}; \
             reword the sentence around it"
        ))
    }
}

/// The value at `key` in the recorded run (`NAME:KEY`: in run `NAME`).
fn lookup<'a>(bench: &'a Bench, key: &str) -> Result<&'a Value, String> {
    let (name, key) = key.split_once(':').unwrap_or(("bench", key));
    let run = bench.runs.iter().find(|r| r.name == name).ok_or_else(|| {
        let names: Vec<&str> = bench.runs.iter().map(|r| r.name.as_str()).collect();
        format!("no run `{name}`; runs: {}", names.join(", "))
    })?;
    let mut at = &run.data;
    let mut path = String::new();
    for segment in key.split('.') {
        let (name, selectors) = match segment.find('[') {
            Some(i) => (&segment[..i], &segment[i..]),
            None => (segment, ""),
        };
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(name);
        at = at.get(name).ok_or_else(|| {
            let known = match at {
                Value::Object(map) => map.keys().cloned().collect::<Vec<_>>().join(", "),
                _ => "none (it is not an object)".into(),
            };
            format!("`{path}` is not in {}; keys there: {known}", run.origin)
        })?;
        if selectors.is_empty() {
            continue;
        }
        let conditions = parse_selectors(selectors)
            .ok_or_else(|| format!("`{segment}`: write selectors as `[field=value]`"))?;
        let items = at
            .as_array()
            .ok_or_else(|| format!("`{path}` is not an array, so `{selectors}` selects nothing"))?;
        let matching: Vec<&Value> = items
            .iter()
            .filter(|item| {
                conditions
                    .iter()
                    .all(|(field, want)| item.get(field).is_some_and(|v| same(v, want)))
            })
            .collect();
        path.push_str(selectors);
        match matching.as_slice() {
            [one] => at = one,
            [] => return Err(format!("no element of `{path}` in {}", run.origin)),
            many => {
                return Err(format!(
                    "`{path}` matches {} elements; add a selector",
                    many.len()
                ))
            }
        }
    }
    Ok(at)
}

/// `[a=b][c=d]` as pairs.
fn parse_selectors(mut s: &str) -> Option<Vec<(&str, &str)>> {
    let mut out = Vec::new();
    while !s.is_empty() {
        let close = s.find(']')?;
        let (field, value) = s.strip_prefix('[')?[..close - 1].split_once('=')?;
        out.push((field, value));
        s = &s[close + 1..];
    }
    Some(out)
}

/// Whether a JSON value is the one written in a selector.
fn same(value: &Value, written: &str) -> bool {
    match value {
        Value::String(s) => s == written,
        Value::Number(n) => written.parse::<f64>().ok() == n.as_f64(),
        Value::Bool(b) => written.parse::<bool>().ok() == Some(*b),
        _ => false,
    }
}

/// The number at `key` and its unit.
fn number(bench: &Bench, key: &str) -> Result<(f64, Unit), String> {
    let value = lookup(bench, key)?;
    match value {
        Value::Number(n) => Ok((n.as_f64().unwrap_or(f64::NAN), unit_of(key))),
        Value::Object(map) if map.contains_key("median") => Err(format!(
            "`{key}` is a set of statistics; name one ({}) or write `range`",
            STATS.join(", ")
        )),
        other => Err(format!("`{key}` is not a number but {other}")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Unit {
    Micros,
    Millis,
    Seconds,
    Kib,
    Mib,
    MegabytesPerS,
    GigabytesPerS,
    MillionMessagesPerS,
    Times,
    None,
}

/// The unit of a key, from its last name that is not a statistic.
fn unit_of(key: &str) -> Unit {
    let name = key
        .rsplit('.')
        .map(|s| s.split('[').next().unwrap_or(s))
        .find(|s| !STATS.contains(s))
        .unwrap_or("");
    if key.rsplit('.').next() == Some("samples") {
        Unit::None
    } else if name == "bytes_per_s" {
        Unit::MegabytesPerS
    } else if name == "messages_per_s" {
        Unit::MillionMessagesPerS
    } else if name.ends_with("_us") {
        Unit::Micros
    } else if name.ends_with("_ms") {
        Unit::Millis
    } else if name.ends_with("_s") {
        Unit::Seconds
    } else if name.ends_with("_kib") {
        Unit::Kib
    } else if name.ends_with("_speedup") {
        Unit::Times
    } else {
        Unit::None
    }
}

/// A value in its unit as stored, converted to `wanted`. Bytes per second
/// are stored as bytes and shown in MB/s.
fn convert(value: f64, unit: Unit, wanted: Option<&str>) -> Result<(f64, Unit), String> {
    let shown = match unit {
        Unit::MegabytesPerS => value / 1e6,
        Unit::MillionMessagesPerS => value / 1e6,
        _ => value,
    };
    match (unit, wanted) {
        (_, None) => Ok((shown, unit)),
        (Unit::Micros, Some("ms")) => Ok((shown / 1e3, Unit::Millis)),
        (Unit::Millis, Some("s")) => Ok((shown / 1e3, Unit::Seconds)),
        (Unit::Kib, Some("MiB")) => Ok((shown / 1024.0, Unit::Mib)),
        (Unit::MegabytesPerS, Some("GB/s")) => Ok((shown / 1e3, Unit::GigabytesPerS)),
        (_, Some(other)) => Err(format!(
            "cannot show {} as `{other}`; conversions: µs to ms, ms to s, KiB to MiB, MB/s to GB/s",
            with_unit("the value", unit)
        )),
    }
}

fn with_unit(number: &str, unit: Unit) -> String {
    match unit {
        Unit::Micros => format!("{number} µs"),
        Unit::Millis => format!("{number} ms"),
        Unit::Seconds => format!("{number} s"),
        Unit::Kib => format!("{number} KiB"),
        Unit::Mib => format!("{number} MiB"),
        Unit::MegabytesPerS => format!("{number} MB/s"),
        Unit::GigabytesPerS => format!("{number} GB/s"),
        Unit::MillionMessagesPerS => format!("{number} million messages/s"),
        Unit::Times => format!("{number}×"),
        Unit::None => number.to_string(),
    }
}

/// "2026-12-04T21:13Z" (or any text starting with a date) as "4 December 2026".
fn day_of(text: &str) -> Option<String> {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let mut parts = text.get(..10)?.split('-');
    let year: u32 = parts.next()?.parse().ok()?;
    let month: usize = parts.next()?.parse().ok()?;
    let day: u32 = parts.next()?.parse().ok()?;
    let name = MONTHS.get(month.checked_sub(1)?)?;
    (1..=31)
        .contains(&day)
        .then(|| format!("{day} {name} {year}"))
}

/// Decimals a figure is shown with unless the directive says: none from 10
/// up, one below 10, two below 1.
fn decimals(value: f64) -> usize {
    let size = value.abs();
    if size >= 10.0 {
        0
    } else if size >= 1.0 {
        1
    } else {
        2
    }
}

fn format_number(value: f64, digits: Option<usize>) -> String {
    let digits = digits.unwrap_or_else(|| decimals(value));
    format!("{value:.digits$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bench() -> Bench {
        Bench::parse(
            r#"{
              "spawn": {
                "thread_us": {"median": 47.4, "min": 26.4, "max": 95.3, "samples": 200},
                "process_us": {"median": 1186.4, "min": 748.4, "max": 2395.1, "samples": 1000},
                "process_per_thread": 25.04
              },
              "memory": {"per_thread_reserved_kib": {"median": 2064.66, "min": 2064, "max": 2065}},
              "communication": {"results": [
                {"method": "raw-pipe", "message_bytes": 64,
                 "bytes_per_s": {"median": 706000000.0, "min": 416000000.0, "max": 1142000000.0}},
                {"method": "raw-pipe", "message_bytes": 65536,
                 "bytes_per_s": {"median": 2038000000.0, "min": 1454000000.0, "max": 3753000000.0},
                 "round_trip_us": {"median": 64.4}}
              ]},
              "scaling": {"points": [{"workers": 2, "threads_speedup": 1.58}]},
              "plan": "full",
              "machine": {"cpu": "AMD EPYC", "date": "2026-12-04T21:13Z", "cores": 2}
            }"#,
            "test.json",
        )
        .unwrap()
    }

    fn text(s: &str) -> Result<String, String> {
        expand(s, Some(&bench()))
    }

    #[test]
    fn a_value_gets_its_unit_and_sensible_decimals() {
        assert_eq!(
            text("took {{#course-bench spawn.thread_us.median}} each").unwrap(),
            "took 47 µs each"
        );
        assert_eq!(
            text("{{#course-bench spawn.process_per_thread}}").unwrap(),
            "25"
        );
        assert_eq!(
            text("{{#course-bench scaling.points[workers=2].threads_speedup}}").unwrap(),
            "1.6×"
        );
        assert_eq!(
            text("{{#course-bench spawn.thread_us.samples}}").unwrap(),
            "200"
        );
    }

    #[test]
    fn digits_and_units_can_be_chosen() {
        assert_eq!(
            text("{{#course-bench spawn.process_us.median unit=ms}}").unwrap(),
            "1.2 ms"
        );
        assert_eq!(
            text("{{#course-bench spawn.process_us.median unit=ms digits=2}}").unwrap(),
            "1.19 ms"
        );
        assert_eq!(
            text("{{#course-bench memory.per_thread_reserved_kib.median unit=MiB}}").unwrap(),
            "2.0 MiB"
        );
        assert!(text("{{#course-bench spawn.process_us.median unit=MB/s}}")
            .unwrap_err()
            .contains("cannot show"));
    }

    #[test]
    fn a_ratio_is_a_bare_number() {
        assert_eq!(
            text("{{#course-bench spawn.process_us.median / spawn.thread_us.median}}").unwrap(),
            "25"
        );
        assert_eq!(
            text(
                "{{#course-bench communication.results[method=raw-pipe][message_bytes=65536].bytes_per_s.median \
                 / communication.results[method=raw-pipe][message_bytes=64].bytes_per_s.median digits=1}}"
            )
            .unwrap(),
            "2.9"
        );
    }

    #[test]
    fn a_range_is_min_to_max() {
        assert_eq!(
            text("{{#course-bench communication.results[method=raw-pipe][message_bytes=64].bytes_per_s range}}")
                .unwrap(),
            "416–1142 MB/s"
        );
        assert_eq!(
            text("{{#course-bench spawn.process_us range unit=ms}}").unwrap(),
            "0.75–2.40 ms"
        );
    }

    #[test]
    fn unknown_keys_are_errors_that_say_what_is_there() {
        let e = text("{{#course-bench spawn.thread_ms.median}}").unwrap_err();
        assert!(e.contains("`spawn.thread_ms` is not in test.json"), "{e}");
        assert!(e.contains("thread_us"), "{e}");
        assert!(
            e.contains("{{#course-bench spawn.thread_ms.median}}"),
            "{e}"
        );
        let e =
            text("{{#course-bench communication.results[method=json-pipe].bytes_per_s.median}}")
                .unwrap_err();
        assert!(e.contains("no element"), "{e}");
        let e = text("{{#course-bench communication.results[method=raw-pipe].bytes_per_s.median}}")
            .unwrap_err();
        assert!(e.contains("matches 2 elements"), "{e}");
        let e = text("{{#course-bench spawn.thread_us}}").unwrap_err();
        assert!(e.contains("set of statistics"), "{e}");
        let e = text("{{#course-bench plan / spawn.process_per_thread}}").unwrap_err();
        assert!(e.contains("not a number"), "{e}");
        let e =
            text("{{#course-bench spawn.thread_us.median spawn.process_us.median}}").unwrap_err();
        assert!(e.contains("wrong arguments"), "{e}");
        assert!(text("{{#course-bench spawn.thread_us.median").is_err());
    }

    #[test]
    fn without_a_run_a_directive_is_an_error_and_plain_text_is_fine() {
        assert!(expand("{{#course-bench spawn.thread_us.median}}", None)
            .unwrap_err()
            .contains("no recorded bench run"));
        assert_eq!(expand("no figures here", None).unwrap(), "no figures here");
    }

    #[test]
    fn an_escaped_directive_is_left_for_the_manifest_pass() {
        assert_eq!(
            text(r"write \{{#course-bench spawn.thread_us.median}}").unwrap(),
            r"write \{{#course-bench spawn.thread_us.median}}"
        );
    }

    #[test]
    fn another_run_is_picked_by_its_name() {
        let mut b = bench();
        b.add(
            "rerun",
            r#"{"spawn": {"process_per_thread": 21.4}}"#,
            "rerun.json",
        )
        .unwrap();
        assert_eq!(
            text_with(&b, "{{#course-bench rerun:spawn.process_per_thread}}"),
            "21"
        );
        assert_eq!(
            text_with(&b, "{{#course-bench spawn.process_per_thread}}"),
            "25"
        );
        let e = expand("{{#course-bench again:spawn.process_per_thread}}", Some(&b)).unwrap_err();
        assert!(e.contains("no run `again`; runs: bench, rerun"), "{e}");
    }

    #[test]
    fn a_claim_renders_as_nothing_and_fails_when_false() {
        assert_eq!(
            text("a{{#course-claim spawn.process_per_thread > 10}}b").unwrap(),
            "ab"
        );
        assert_eq!(
            text("{{#course-claim spawn.thread_us.median < spawn.process_us.median}}").unwrap(),
            ""
        );
        let e = text("{{#course-claim spawn.process_per_thread < 10}}").unwrap_err();
        assert!(e.contains("recorded run has 25.04 and 10"), "{e}");
        assert!(text("{{#course-claim spawn.process_per_thread = 10}}").is_err());
        assert!(text("{{#course-claim spawn.nothing > 1}}").is_err());
        assert!(text("{{#course-claim spawn.process_per_thread}}").is_err());
        // A ratio on either side: "the process start is under a tenth of the thread's" fails.
        assert_eq!(
            text("{{#course-claim spawn.process_us.median / spawn.thread_us.median > 20}}")
                .unwrap(),
            ""
        );
        let e = text("{{#course-claim spawn.thread_us.median / spawn.process_us.median > 0.1}}")
            .unwrap_err();
        assert!(
            e.contains("spawn.thread_us.median / spawn.process_us.median > 0.1"),
            "{e}"
        );
        assert!(
            text("{{#course-claim 1 < spawn.thread_us.median / spawn.process_us.median}}").is_err()
        );
        assert!(text("{{#course-claim a / b / c < 1}}").is_err());
        assert!(text("{{#course-claim 1 / 0 < 1}}")
            .unwrap_err()
            .contains("is zero"));
        assert_eq!(
            text("\\{{#course-claim spawn.process_per_thread < 10}}").unwrap(),
            "\\{{#course-claim spawn.process_per_thread < 10}}"
        );
    }

    #[test]
    fn text_renders_as_it_is_and_a_date_as_a_day() {
        assert_eq!(
            text("on {{#course-bench machine.cpu}}").unwrap(),
            "on AMD EPYC"
        );
        assert_eq!(
            text("{{#course-bench machine.date}}").unwrap(),
            "4 December 2026"
        );
        assert_eq!(
            text("{{#course-bench machine.cores digits=0}}").unwrap(),
            "2"
        );
        let e = text("{{#course-bench machine.cpu digits=1}}").unwrap_err();
        assert!(e.contains("is text"), "{e}");
        assert_eq!(day_of("2026-13-01"), None);
        assert_eq!(day_of("soon"), None);
    }

    #[test]
    fn the_books_recorded_runs_load() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../src");
        let runs = Bench::load(&src).unwrap();
        assert!(text_with(&runs, "{{#course-bench spawn.thread_us.median}}").ends_with(" µs"));
        assert!(
            text_with(&runs, "{{#course-bench rerun:spawn.thread_us.median}}").ends_with(" µs")
        );
    }

    fn text_with(bench: &Bench, s: &str) -> String {
        expand(s, Some(bench)).unwrap()
    }
}
