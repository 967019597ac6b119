//! `cargo xtask check <step> --trace [DIR]`: each traced check's timeline
//! as a picture (a self-contained SVG: no scripts, no fonts or styles from
//! the network) and as Chrome trace-event JSON, which Perfetto
//! (ui.perfetto.dev) and `chrome://tracing` open.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use check_harness::trace::{EventKind, LaneKind, Tone, Trace};
use serde_json::{json, Value};

use crate::grade::Graded;

/// Writes `<dir>/<check-id>.svg` and `<dir>/<check-id>.trace.json` for
/// every check of `checks` that recorded a trace; the files written.
pub fn write(dir: &Path, step_id: &str, checks: &[Graded]) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for graded in checks {
        let Some(trace) = &graded.report.trace else {
            continue;
        };
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let title = format!(
            "{step_id} · {}: {}",
            graded.info.id,
            if graded.passed() { "passed" } else { "failed" }
        );
        let svg_path = dir.join(format!("{}.svg", graded.info.id));
        std::fs::write(&svg_path, svg(trace, &title))
            .with_context(|| format!("cannot write {}", svg_path.display()))?;
        let json_path = dir.join(format!("{}.trace.json", graded.info.id));
        let json = serde_json::to_string_pretty(&chrome_json(trace, &title))?;
        std::fs::write(&json_path, json)
            .with_context(|| format!("cannot write {}", json_path.display()))?;
        written.push(svg_path);
        written.push(json_path);
    }
    Ok(written)
}

/// The trace as Chrome trace events: the check process is pid 1, each lane
/// a thread of it (`tid` = lane number + 1) named after the lane; spans are
/// complete events ("X"), instants thread-scoped instants ("i"), counters
/// counter events ("C"). Times in µs, as the format wants.
pub fn chrome_json(trace: &Trace, title: &str) -> Value {
    let mut events = vec![json!({
        "ph": "M", "name": "process_name", "pid": 1, "tid": 0,
        "args": { "name": title },
    })];
    for (i, lane) in trace.lanes.iter().enumerate() {
        events.push(json!({
            "ph": "M", "name": "thread_name", "pid": 1, "tid": i + 1,
            "args": { "name": lane.name },
        }));
        events.push(json!({
            "ph": "M", "name": "thread_sort_index", "pid": 1, "tid": i + 1,
            "args": { "sort_index": i },
        }));
    }
    let end = trace.end_us.max(trace.last_event_us());
    for e in &trace.events {
        let tid = e.lane as usize + 1;
        let lane = trace.lanes.get(e.lane as usize);
        let event = match &e.kind {
            EventKind::Span {
                label,
                end_us,
                tone,
            } => json!({
                "ph": "X", "name": label, "pid": 1, "tid": tid, "ts": e.at_us,
                "dur": end_us.unwrap_or(end).saturating_sub(e.at_us),
                "args": { "still running at the end": end_us.is_none(), "tone": tone_name(*tone) },
            }),
            EventKind::Instant { label, tone } => json!({
                "ph": "i", "s": "t", "name": label, "pid": 1, "tid": tid, "ts": e.at_us,
                "args": { "tone": tone_name(*tone) },
            }),
            EventKind::Counter { value } => {
                let name = lane.map_or("counter", |l| l.name.as_str());
                let mut args = serde_json::Map::new();
                args.insert(name.to_string(), json!(value));
                if let Some(limit) = lane.and_then(|l| l.limit) {
                    args.insert("limit".to_string(), json!(limit));
                }
                json!({ "ph": "C", "name": name, "pid": 1, "tid": tid, "ts": e.at_us, "args": args })
            }
        };
        events.push(event);
    }
    json!({ "traceEvents": events, "displayTimeUnit": "ms" })
}

fn tone_name(tone: Tone) -> &'static str {
    match tone {
        Tone::Plain => "plain",
        Tone::Good => "good",
        Tone::Fault => "fault",
    }
}

/// Text for XML: `&`, `<`, `>` and quotes escaped, control characters
/// dropped (XML 1.0 has no place for them).
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

const NAME_W: f64 = 170.0;
const PLOT_W: f64 = 760.0;
const ROW_H: f64 = 34.0;
const TOP: f64 = 40.0;
/// The height of one line of the trace's notes under the axis.
const NOTE_H: f64 = 16.0;

/// The trace as a lane chart in SVG, like the terminal's but with every
/// label (a hover shows it when there is no room to print it).
pub fn svg(trace: &Trace, title: &str) -> String {
    let total = trace.last_event_us().max(1) as f64;
    let x = |t: u64| NAME_W + (t as f64 / total).min(1.0) * PLOT_W;
    let mut order: Vec<usize> = (0..trace.lanes.len()).collect();
    order.sort_by_key(|&i| trace.lanes[i].kind == LaneKind::Counter);
    let height = TOP + ROW_H * order.len() as f64 + 50.0 + NOTE_H * trace.notes.len() as f64;
    // When something happened: a time, or on a clock of steps the step.
    let when = |t: u64| match trace.step_us {
        Some(_) if t as f64 >= total => "the end".to_string(),
        Some(step) => format!("step {}", t / step + 1),
        None => axis_label(t),
    };
    let width = NAME_W + PLOT_W + 30.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, "<title>{}</title>", xml(title));
    let _ = writeln!(
        s,
        r##"<rect width="100%" height="100%" fill="#ffffff"/><text x="10" y="22" font-size="14" font-weight="bold" fill="#222">{}</text>"##,
        xml(title)
    );
    for (row, &lane) in order.iter().enumerate() {
        let info = &trace.lanes[lane];
        let y = TOP + ROW_H * row as f64;
        let mid = y + ROW_H / 2.0;
        let name = match info.limit {
            Some(limit) => format!("{} (max {limit})", info.name),
            None => info.name.clone(),
        };
        let _ = writeln!(
            s,
            r##"<line x1="{NAME_W}" x2="{}" y1="{mid}" y2="{mid}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end" fill="#222">{}</text>"##,
            NAME_W + PLOT_W,
            NAME_W - 8.0,
            mid + 4.0,
            xml(&name)
        );
        let events = trace.events.iter().filter(|e| e.lane as usize == lane);
        if info.kind == LaneKind::Counter {
            counter_svg(&mut s, trace, lane, info.limit, y, &x, &when);
            continue;
        }
        // The lane's marks: a span's label keeps clear of them.
        let marks: Vec<f64> = events
            .clone()
            .filter(|e| matches!(e.kind, EventKind::Instant { .. }))
            .map(|e| x(e.at_us))
            .collect();
        // Where the spans' own labels are printed: an instant's label
        // keeps out of them.
        let mut taken: Vec<(f64, f64)> = Vec::new();
        for e in events.clone() {
            if let EventKind::Span {
                label,
                end_us,
                tone,
            } = &e.kind
            {
                let (x0, x1) = (x(e.at_us), end_us.map_or(NAME_W + PLOT_W, x));
                let fill = if *tone == Tone::Fault {
                    "#d9534f"
                } else {
                    "#4a90c2"
                };
                // Printed inside where it fits clear of the marks (moved
                // right of one if need be); on a clock of steps, cut to
                // what comes before " at " if that is what fits (the notes
                // say it in full).
                let mut forms = vec![label.as_str()];
                if trace.step_us.is_some() {
                    forms.extend(label.split_once(" at ").map(|(what, _)| what));
                }
                let placed = forms.iter().find_map(|form| {
                    let wide = 7.0 * form.chars().count() as f64;
                    let clear = |tx: f64| {
                        tx + wide + 4.0 <= x1
                            && marks.iter().all(|&m| m + 7.0 <= tx || m - 7.0 >= tx + wide)
                    };
                    let starts = std::iter::once(x0 + 4.0).chain(marks.iter().map(|&m| m + 9.0));
                    starts
                        .filter(|&tx| tx >= x0 + 4.0)
                        .find(|&tx| clear(tx))
                        .map(|tx| (tx, *form))
                });
                if let Some((tx, form)) = placed {
                    taken.push((tx, tx + 7.0 * form.chars().count() as f64));
                }
                let still = if end_us.is_none() {
                    " (still running at the end)"
                } else {
                    ""
                };
                let _ = writeln!(
                    s,
                    r##"<g><title>{}{still}</title><rect x="{x0:.1}" y="{}" width="{:.1}" height="{}" rx="3" fill="{fill}"/><text x="{:.1}" y="{}" fill="#fff">{}</text></g>"##,
                    xml(label),
                    y + 7.0,
                    (x1 - x0).max(2.0),
                    ROW_H - 14.0,
                    placed.map_or(x0 + 4.0, |(tx, _)| tx),
                    mid + 4.0,
                    placed.map_or(String::new(), |(_, form)| xml(form))
                );
            }
        }
        let instants: Vec<(u64, f64, &str, Tone)> = events
            .filter_map(|e| match &e.kind {
                EventKind::Instant { label, tone } => {
                    Some((e.at_us, x(e.at_us), label.as_str(), *tone))
                }
                _ => None,
            })
            .collect();
        for (i, &(_, cx, label, _)) in instants.iter().enumerate() {
            // Printed where it fits: before the next mark, or else after
            // the one before; a hover shows it anyway.
            let wide = 6.5 * label.chars().count() as f64 + 12.0;
            let after = instants.get(i + 1).map_or(NAME_W + PLOT_W + 30.0, |n| n.1) - cx;
            let before = cx - i.checked_sub(1).map_or(NAME_W, |p| instants[p].1);
            let free = |from: f64, to: f64| taken.iter().all(|&(a, b)| to <= a || from >= b);
            let (tx, anchor) = if after > wide && free(cx + 9.0, cx + wide) {
                (cx + 9.0, "start")
            } else if before > wide && free(cx - wide, cx - 9.0) {
                (cx - 9.0, "end")
            } else {
                continue;
            };
            let _ = writeln!(
                s,
                r##"<text x="{tx:.1}" y="{}" font-size="11" text-anchor="{anchor}" fill="#333">{}</text>"##,
                mid + 4.0,
                xml(label)
            );
        }
        // Faults drawn last, on top of what happened at the same moment.
        let mut instants = instants;
        instants.sort_by_key(|&(_, _, _, tone)| tone == Tone::Fault);
        for (at, cx, label, tone) in instants {
            let fill = match tone {
                Tone::Plain => "#e0a800",
                Tone::Good => "#2e8b57",
                Tone::Fault => "#c9302c",
            };
            let _ = writeln!(
                s,
                r##"<g><title>{} at {}</title><path d="M{cx:.1} {} l6 6 l-6 6 l-6 -6 z" fill="{fill}" stroke="#fff"/></g>"##,
                xml(label),
                when(at),
                mid - 6.0
            );
        }
    }
    // The time axis: ticks at round times.
    let axis_y = TOP + ROW_H * order.len() as f64 + 8.0;
    let _ = writeln!(
        s,
        r##"<line x1="{NAME_W}" x2="{}" y1="{axis_y}" y2="{axis_y}" stroke="#666"/>"##,
        NAME_W + PLOT_W
    );
    // Ticks at round times; on a clock of steps, where each step starts,
    // numbered (every step, or every 2nd, 5th… where they would crowd).
    let ticks: Vec<(u64, String)> = match trace.step_us {
        Some(step_us) => {
            let steps = (total as u64).div_ceil(step_us).max(1);
            let stride = [1, 2, 5, 10, 20, 50, 100, 200, 500]
                .into_iter()
                .find(|&k| steps.div_ceil(k) <= 30)
                .unwrap_or(1000);
            (0..steps)
                .map(|k| {
                    let label = if k % stride == 0 {
                        format!("{}", k + 1)
                    } else {
                        String::new()
                    };
                    (k * step_us, label)
                })
                .collect()
        }
        None => {
            let step = tick_step(total as u64);
            (0..)
                .map(|k| k * step)
                .take_while(|&t| t as f64 <= total)
                .map(|t| (t, axis_label(t)))
                .collect()
        }
    };
    for (t, label) in ticks {
        let tx = x(t);
        let _ = writeln!(
            s,
            r##"<line x1="{tx:.1}" x2="{tx:.1}" y1="{axis_y}" y2="{}" stroke="#666"/><text x="{tx:.1}" y="{}" text-anchor="middle" fill="#444">{label}</text>"##,
            axis_y + 5.0,
            axis_y + 19.0,
        );
    }
    if trace.step_us.is_some() {
        let _ = writeln!(
            s,
            r##"<text x="{}" y="{}" text-anchor="end" fill="#444">steps</text>"##,
            NAME_W + PLOT_W + 28.0,
            axis_y + 19.0,
        );
    }
    // The trace's notes under the axis, one line each.
    for (i, note) in trace.notes.iter().enumerate() {
        let _ = writeln!(
            s,
            r##"<text x="10" y="{}" fill="#333">{}</text>"##,
            axis_y + 40.0 + NOTE_H * i as f64,
            xml(note)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// A counter as a step line, red above its limit, the limit dashed.
fn counter_svg(
    s: &mut String,
    trace: &Trace,
    lane: usize,
    limit: Option<u64>,
    y: f64,
    x: &dyn Fn(u64) -> f64,
    when: &dyn Fn(u64) -> String,
) {
    let values: Vec<(u64, u64)> = trace
        .events
        .iter()
        .filter(|e| e.lane as usize == lane)
        .filter_map(|e| match e.kind {
            EventKind::Counter { value } => Some((e.at_us, value)),
            _ => None,
        })
        .collect();
    let top = values
        .iter()
        .map(|&(_, v)| v)
        .chain(limit)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let vy = |v: u64| y + ROW_H - 4.0 - (v as f64 / top) * (ROW_H - 10.0);
    for (i, &(at, value)) in values.iter().enumerate() {
        let x1 = values
            .get(i + 1)
            .map_or(NAME_W + PLOT_W, |&(next, _)| x(next));
        let over = limit.is_some_and(|l| value > l);
        let _ = writeln!(
            s,
            r##"<g><title>{value} at {}</title><rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}"/></g>"##,
            when(at),
            x(at),
            vy(value),
            (x1 - x(at)).max(1.0),
            y + ROW_H - 4.0 - vy(value),
            if over { "#d9534f" } else { "#9bbcd8" }
        );
    }
    if let Some(limit) = limit {
        let ly = vy(limit);
        let _ = writeln!(
            s,
            r##"<line x1="{NAME_W}" x2="{}" y1="{ly:.1}" y2="{ly:.1}" stroke="#c9302c" stroke-dasharray="4 3"/>"##,
            NAME_W + PLOT_W
        );
    }
}

/// A round step for about eight ticks over `total` µs.
fn tick_step(total: u64) -> u64 {
    for scale in (0..13).map(|k| 10u64.pow(k)) {
        for m in [1, 2, 5] {
            if total / (m * scale) < 8 {
                return m * scale;
            }
        }
    }
    u64::MAX / 2
}

fn axis_label(t: u64) -> String {
    if t == 0 {
        "0".to_string()
    } else if t >= 1_000_000 {
        format!("{:.2} s", t as f64 / 1e6)
    } else if t >= 1000 {
        format!("{:.1} ms", t as f64 / 1e3)
    } else {
        format!("{t} µs")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use check_harness::trace::{Event, LaneInfo};

    fn trace() -> Trace {
        let lane = |name: &str, kind, limit| LaneInfo {
            name: name.into(),
            kind,
            limit,
        };
        Trace {
            lanes: vec![
                lane("check", LaneKind::Check, None),
                lane("worker <1>", LaneKind::Thread, None),
                lane("worker 2", LaneKind::Thread, None),
                lane("jobs running", LaneKind::Counter, Some(1)),
            ],
            events: vec![
                Event {
                    lane: 0,
                    at_us: 10,
                    kind: EventKind::Instant {
                        label: "submit & wait".into(),
                        tone: Tone::Plain,
                    },
                },
                Event {
                    lane: 1,
                    at_us: 20,
                    kind: EventKind::Span {
                        label: "job 1".into(),
                        end_us: Some(900),
                        tone: Tone::Plain,
                    },
                },
                Event {
                    lane: 2,
                    at_us: 30,
                    kind: EventKind::Span {
                        label: "job 2".into(),
                        end_us: None,
                        tone: Tone::Fault,
                    },
                },
                Event {
                    lane: 3,
                    at_us: 20,
                    kind: EventKind::Counter { value: 1 },
                },
                Event {
                    lane: 3,
                    at_us: 30,
                    kind: EventKind::Counter { value: 2 },
                },
            ],
            end_us: 1000,
            explains_failure: true,
            dropped: 0,
            clock: None,
            step_us: None,
            notes: Vec::new(),
        }
    }

    #[test]
    fn chrome_json_has_one_tid_per_lane() {
        let text = serde_json::to_string(&chrome_json(&trace(), "step7 · x: failed")).unwrap();
        let parsed: Value = serde_json::from_str(&text).unwrap();
        let events = parsed["traceEvents"].as_array().unwrap();
        let named: Vec<(u64, &str)> = events
            .iter()
            .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
            .map(|e| {
                (
                    e["tid"].as_u64().unwrap(),
                    e["args"]["name"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            named,
            [
                (1, "check"),
                (2, "worker <1>"),
                (3, "worker 2"),
                (4, "jobs running")
            ]
        );
        // Every event is on a named lane of the one process.
        for e in events {
            assert_eq!(e["pid"], 1);
            let tid = e["tid"].as_u64().unwrap();
            assert!(tid == 0 || named.iter().any(|(t, _)| *t == tid), "{e}");
        }
        let spans: Vec<(u64, u64)> = events
            .iter()
            .filter(|e| e["ph"] == "X")
            .map(|e| (e["ts"].as_u64().unwrap(), e["dur"].as_u64().unwrap()))
            .collect();
        // The open span lasts to the trace's end.
        assert_eq!(spans, [(20, 880), (30, 970)]);
        let counters: Vec<&Value> = events.iter().filter(|e| e["ph"] == "C").collect();
        assert_eq!(counters.len(), 2);
        assert_eq!(counters[1]["args"]["jobs running"], 2);
        assert_eq!(counters[1]["args"]["limit"], 1);
    }

    #[test]
    fn svg_is_self_contained_and_escaped() {
        let svg = svg(&trace(), "a <title>");
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(!svg.contains("<script") && !svg.contains("href"));
        assert!(svg.contains("worker &lt;1&gt;") && !svg.contains("worker <1>"));
        assert!(svg.contains("submit &amp; wait"));
        // Two spans, the open one to the right end and marked so.
        assert!(svg.contains("job 2 (still running at the end)"));
        // The counter over its limit is red, the limit dashed.
        assert!(svg.contains("#d9534f") && svg.contains("stroke-dasharray"));
        // Tags open and close in pairs.
        assert_eq!(svg.matches("<g>").count(), svg.matches("</g>").count());
    }

    /// The printed label of a mark on `lane`, if any (not its hover title).
    fn printed(svg: &str, label: &str) -> bool {
        svg.contains(&format!("fill=\"#333\">{label}</text>"))
    }

    #[test]
    fn a_mark_label_keeps_out_of_a_span_label() {
        let mut t = trace();
        // A mark just inside job 1, where "job 1" is printed: its own label
        // would run over that one, so it is left to the hover.
        t.events.push(Event {
            lane: 1,
            at_us: 22,
            kind: EventKind::Instant {
                label: "started".into(),
                tone: Tone::Plain,
            },
        });
        // A mark at the end of job 1, clear of its label: printed.
        t.events.push(Event {
            lane: 1,
            at_us: 880,
            kind: EventKind::Instant {
                label: "done".into(),
                tone: Tone::Good,
            },
        });
        let svg = svg(&t, "marks");
        assert!(svg.contains(">job 1</text>"), "the span keeps its label");
        assert!(!printed(&svg, "started"), "{svg}");
        assert!(
            svg.contains("<title>started at"),
            "the hover still names it"
        );
        assert!(printed(&svg, "done"), "{svg}");
    }

    /// The x where `text` is printed in white (a span's own label).
    fn span_label_x(svg: &str, text: &str) -> Option<f64> {
        let end = svg.find(&format!("fill=\"#fff\">{text}</text>"))?;
        let start = svg[..end].rfind("<text x=\"")? + "<text x=\"".len();
        svg[start..].split('"').next()?.parse().ok()
    }

    /// Step 6's crash: the worker's "panics" mark where the box's label
    /// starts. The label moves right of the mark instead of under it.
    #[test]
    fn a_mark_does_not_cover_a_span_label() {
        let mut t = trace();
        t.events[1] = Event {
            lane: 1,
            at_us: 20,
            kind: EventKind::Span {
                label: "panic".into(),
                end_us: Some(900),
                tone: Tone::Plain,
            },
        };
        t.events.push(Event {
            lane: 1,
            at_us: 25,
            kind: EventKind::Instant {
                label: "panics".into(),
                tone: Tone::Plain,
            },
        });
        let svg = svg(&t, "crash");
        let mark = NAME_W + 25.0 / t.last_event_us() as f64 * PLOT_W;
        let at = span_label_x(&svg, "panic").expect("the label is printed");
        assert!(at >= mark + 7.0, "label at {at}, mark at {mark}: {svg}");
    }

    /// Step 5's schedule, on a clock of steps: the axis numbers the steps,
    /// a box too narrow for "load at line 43" says "load", and the notes
    /// are printed under the axis.
    #[test]
    fn a_clock_of_steps_reads_in_steps() {
        let lane = |name: &str| LaneInfo {
            name: name.into(),
            kind: LaneKind::Thread,
            limit: None,
        };
        let mut events = Vec::new();
        for k in 0..10u64 {
            events.push(Event {
                lane: (k % 2) as u32,
                at_us: k * 1000,
                kind: EventKind::Span {
                    label: "load at line 43".into(),
                    end_us: Some(k * 1000 + 900),
                    tone: Tone::Plain,
                },
            });
        }
        let t = Trace {
            lanes: vec![lane("thread 1"), lane("thread 2")],
            events,
            end_us: 10_000,
            explains_failure: true,
            dropped: 0,
            clock: Some("one schedule".into()),
            step_us: Some(1000),
            notes: vec!["thread 1: step 1 load at line 43".into()],
        };
        let svg = svg(&t, "steps");
        assert!(svg.contains(">steps</text>"), "{svg}");
        assert!(svg.contains("fill=\"#444\">1</text>"), "{svg}");
        assert!(svg.contains("fill=\"#444\">10</text>"), "{svg}");
        assert!(!svg.contains(" ms</text>"), "{svg}");
        assert!(svg.contains("fill=\"#fff\">load</text>"), "{svg}");
        assert!(
            svg.contains(">thread 1: step 1 load at line 43</text>"),
            "{svg}"
        );
    }
}
