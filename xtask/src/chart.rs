//! A check's trace as a small lane chart for the terminal: one row per lane
//! (the check, the learner's loop, each worker or child, a counter), time
//! running left to right over the whole check, and a labelled time axis.
//! At most 12 rows, as wide as it is given; Unicode blocks, or plain ASCII.

use anstyle::Style;
use check_harness::trace::{EventKind, LaneKind, Tone, Trace};

use crate::ui::{paint, BAD, DIM, OK, WARN};

/// The most lanes drawn; a longer list ends in "… N more lanes".
const MAX_LANES: usize = 9;
/// The widest lane name drawn (longer ones are shortened).
const MAX_NAME: usize = 20;

/// Which characters the chart is drawn with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Glyphs {
    Unicode,
    Ascii,
}

impl Glyphs {
    /// ASCII where the terminal says it cannot do more (`TERM=dumb`) or the
    /// learner asks for it (`COURSE_ASCII=1`); Unicode otherwise, like the
    /// grader's ✓ and ✗.
    pub fn for_terminal() -> Glyphs {
        let set = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
        if set("COURSE_ASCII") || std::env::var_os("TERM").is_some_and(|t| t == "dumb") {
            Glyphs::Ascii
        } else {
            Glyphs::Unicode
        }
    }

    fn pick(self, unicode: char, ascii: char) -> char {
        match self {
            Glyphs::Unicode => unicode,
            Glyphs::Ascii => ascii,
        }
    }
}

/// What a cell of the chart shows, for its colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ink {
    Empty,
    Span,
    FaultSpan,
    Mark,
    Good,
    Fault,
    Text,
    Count,
    OverLimit,
    Axis,
}

impl Ink {
    fn style(self) -> Style {
        use anstyle::AnsiColor;
        match self {
            Ink::Empty | Ink::Text | Ink::Count => Style::new(),
            Ink::Span => AnsiColor::Cyan.on_default(),
            Ink::FaultSpan => AnsiColor::Red.on_default(),
            Ink::Mark => WARN,
            Ink::Good => OK,
            Ink::Fault | Ink::OverLimit => BAD,
            Ink::Axis => DIM,
        }
    }
}

#[derive(Clone, Copy)]
struct Cell {
    ch: char,
    ink: Ink,
}

const EMPTY: Cell = Cell {
    ch: ' ',
    ink: Ink::Empty,
};

/// The chart of `trace`, `width` columns wide at most, as lines without a
/// trailing newline. With `colour`, the lines carry ANSI styles (for
/// anstream, which drops them where colour is off).
pub fn render(trace: &Trace, width: usize, glyphs: Glyphs, colour: bool) -> Vec<String> {
    // Counters under the lanes whose events they count.
    let mut order: Vec<usize> = (0..trace.lanes.len()).collect();
    order.sort_by_key(|&i| trace.lanes[i].kind == LaneKind::Counter);
    let keep = if order.len() > MAX_LANES {
        MAX_LANES - 1
    } else {
        order.len()
    };
    let shown = &order[..keep];
    let names: Vec<String> = shown.iter().map(|&i| lane_name(trace, i)).collect();
    let name_width = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(0)
        .min(MAX_NAME);
    let plot = width.saturating_sub(name_width + 2).max(10);
    // A quiet stretch after the last event (the check tidying up) is left
    // out; a span still open then runs to the right end.
    let total = trace.last_event_us().max(1);
    let col = |t: u64| -> usize {
        let c = u128::from(t) * plot as u128 / (u128::from(total) + 1);
        (c as usize).min(plot - 1)
    };
    let mut lines = Vec::new();
    let bar = glyphs.pick('│', '|');
    for (&lane, name) in shown.iter().zip(&names) {
        let cells = lane_cells(trace, lane, plot, glyphs, &col);
        let name = shorten(name, name_width);
        let head = format!("{name:>name_width$} {}", paint_if(colour, Ink::Axis, bar));
        lines.push(format!("{head}{}", paint_cells(&cells, colour)));
    }
    if trace.lanes.len() > shown.len() {
        let more = trace.lanes.len() - shown.len();
        lines.push(format!(
            "{:>name_width$} {}",
            "",
            paint_if(colour, Ink::Axis, format!("… {more} more lanes"))
        ));
    }
    let (axis, labels) = match trace.step_us {
        Some(step_us) => step_axis(total, step_us, plot, glyphs, &col),
        None => axis(total, plot, glyphs, &col),
    };
    lines.push(format!(
        "{:>name_width$} {}",
        "",
        paint_if(colour, Ink::Axis, axis)
    ));
    lines.push(format!(
        "{:>name_width$} {}",
        "",
        paint_if(colour, Ink::Axis, labels.trim_end())
    ));
    lines
}

/// A lane's name, with its limit for a counter.
fn lane_name(trace: &Trace, lane: usize) -> String {
    let info = &trace.lanes[lane];
    match (info.kind, info.limit) {
        (LaneKind::Counter, Some(limit)) => format!("{} (max {limit})", info.name),
        _ => info.name.clone(),
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The cells of one lane: spans first, then instants on top, then the
/// labels where they fit.
fn lane_cells(
    trace: &Trace,
    lane: usize,
    plot: usize,
    glyphs: Glyphs,
    col: &dyn Fn(u64) -> usize,
) -> Vec<Cell> {
    let mut cells = vec![EMPTY; plot];
    let events: Vec<_> = trace
        .events
        .iter()
        .filter(|e| e.lane as usize == lane)
        .collect();
    if trace.lanes[lane].kind == LaneKind::Counter {
        counter_cells(trace, lane, &mut cells, glyphs, col);
        return cells;
    }
    // (first column, last column, label, whether it may cover a span)
    let mut labels: Vec<(usize, usize, String, bool)> = Vec::new();
    let spans = span_columns(&events, plot, col);
    for &(e, a, b) in &spans {
        let EventKind::Span { end_us, tone, .. } = &e.kind else {
            continue;
        };
        let ink = if *tone == Tone::Fault {
            Ink::FaultSpan
        } else {
            Ink::Span
        };
        let body = glyphs.pick('█', '=');
        for cell in &mut cells[a..=b] {
            *cell = Cell { ch: body, ink };
        }
        if glyphs == Glyphs::Ascii && b > a {
            cells[a].ch = '[';
            cells[b].ch = ']';
        }
        if end_us.is_none() && b > a {
            cells[b].ch = glyphs.pick('▶', '>');
        }
    }
    // Instants in one column share a label: "Done 1 +3".
    let mut marks: Vec<(usize, Vec<&str>)> = Vec::new();
    for e in &events {
        if let EventKind::Instant { label, tone } = &e.kind {
            let c = col(e.at_us);
            let (ch, ink) = match tone {
                Tone::Plain => (glyphs.pick('◆', '*'), Ink::Mark),
                Tone::Good => (glyphs.pick('●', 'o'), Ink::Good),
                Tone::Fault => (glyphs.pick('✗', 'X'), Ink::Fault),
            };
            if cells[c].ink != Ink::Fault {
                cells[c] = Cell { ch, ink };
            }
            match marks.iter_mut().find(|(at, _)| *at == c) {
                Some((_, labels)) => labels.push(label),
                None => marks.push((c, vec![label])),
            }
        }
    }
    // A span's label inside it, with a blank each side, where no mark is:
    // a mark never covers a letter, so the label may move right of one.
    // On a clock of steps a box is one step: a label too long for it is
    // cut to what comes before " at " ("load at line 43": "load"), and
    // never put outside, where it could be read as a neighbour's (the
    // trace's notes say it in full).
    let steps = trace.step_us.is_some();
    for &(e, a, b) in &spans {
        let EventKind::Span { label, .. } = &e.kind else {
            continue;
        };
        let fits = |text: &[char], from: usize| {
            from + text.len() <= b
                && cells[from..from + text.len()]
                    .iter()
                    .all(|c| matches!(c.ink, Ink::Span | Ink::FaultSpan))
        };
        let mut forms = vec![label.as_str()];
        if steps {
            forms.extend(label.split_once(" at ").map(|(what, _)| what));
        }
        let placed = forms.iter().find_map(|form| {
            let text: Vec<char> = format!(" {form} ").chars().collect();
            let from = (a + 1..b).find(|&from| fits(&text, from))?;
            Some((text, from))
        });
        match placed {
            Some((text, from)) => {
                for (i, &ch) in text.iter().enumerate() {
                    cells[from + i] = Cell {
                        ch: shown(ch),
                        ink: Ink::Text,
                    };
                }
            }
            None if steps => {}
            None => labels.push((a, b, label.clone(), false)),
        }
    }
    for (c, names) in marks {
        labels.push((c, c, names.join(", "), true));
    }
    // What the check failed on is labelled first, the rest where room is left.
    labels.sort_by_key(|&(a, ..)| cells[a].ink != Ink::Fault);
    for (a, b, label, over_spans) in labels {
        // All of a column's labels, or the first and how many more.
        // (Only marks' labels are lists: a span's label is one.)
        if !place_label(&mut cells, a, b, &label, over_spans) && over_spans {
            let mut parts = label.split(", ");
            let first = parts.next().unwrap_or_default();
            let more = parts.count();
            if more > 0 {
                place_label(&mut cells, a, b, &format!("{first} +{more}"), over_spans);
            }
        }
    }
    cells
}

/// The spans among `events` with their first and last columns. Two boxes
/// one after the other stay two: when the later starts in or just after
/// the earlier's last column, the earlier gives up that column, so a blank
/// is left between them. Only boxes of at least 3 columns are kept apart;
/// narrower ones (a long run squeezed into the width) may merge.
fn span_columns<'e>(
    events: &[&'e check_harness::trace::Event],
    plot: usize,
    col: &dyn Fn(u64) -> usize,
) -> Vec<(&'e check_harness::trace::Event, usize, usize)> {
    let mut spans: Vec<(&check_harness::trace::Event, usize, usize)> = Vec::new();
    // The last span drawn with an end: its index in `spans` and end time.
    let mut before: Option<(usize, u64)> = None;
    for &e in events {
        let EventKind::Span { end_us, .. } = &e.kind else {
            continue;
        };
        let (mut a, b) = (col(e.at_us), end_us.map_or(plot - 1, col));
        if let Some((i, ended)) = before {
            let (_, pa, pb) = spans[i];
            let follows = ended <= e.at_us && a <= pb + 1 && pb <= b;
            if follows && pb >= pa + 2 && b >= a + 2 {
                spans[i].2 = pb - 1;
                a = a.max(pb + 1);
            }
        }
        if let Some(end) = end_us {
            before = Some((spans.len(), *end));
        }
        spans.push((e, a.min(b), b));
    }
    spans
}

/// Writes `label` just right of `a..=b` (or just left of it) where those
/// cells are blank, with a blank between; failing that, over the body of a
/// span just left of it (when `over_spans`), with a blank each side;
/// nowhere if none is free. Whether it was written.
fn place_label(cells: &mut [Cell], a: usize, b: usize, label: &str, over_spans: bool) -> bool {
    let len = label.chars().count();
    if len == 0 {
        return true;
    }
    let free = |cells: &[Cell], from: usize, to: usize, cover: bool| {
        to < cells.len()
            && cells[from..=to].iter().all(|c| {
                c.ink == Ink::Empty
                    || (cover && matches!(c.ink, Ink::Span | Ink::FaultSpan) && c.ch != '[')
            })
    };
    let start = if free(cells, b + 1, b + 1 + len, false) {
        Some(b + 2)
    } else if a > len + 1 && free(cells, a - len - 1, a - 1, false) {
        Some(a - len - 1)
    } else if over_spans && a > len + 2 && free(cells, a - len - 2, a - 1, true) {
        cells[a - len - 2] = EMPTY;
        cells[a - 1] = EMPTY;
        Some(a - len - 1)
    } else {
        None
    };
    if let Some(start) = start {
        for (i, ch) in label.chars().enumerate() {
            cells[start + i] = Cell {
                ch: shown(ch),
                ink: Ink::Text,
            };
        }
    }
    start.is_some()
}

/// A label's character as drawn: a control character (from text the code
/// under test produced, say) is never sent to the terminal.
fn shown(ch: char) -> char {
    let reorders = matches!(ch, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if ch.is_control() || reorders {
        '?'
    } else {
        ch
    }
}

/// A counter as one digit per column: the most it held in that column's
/// time, blank before its first value; above the lane's limit, a fault.
fn counter_cells(
    trace: &Trace,
    lane: usize,
    cells: &mut [Cell],
    glyphs: Glyphs,
    col: &dyn Fn(u64) -> usize,
) {
    let limit = trace.lanes[lane].limit;
    let mut most: Vec<Option<u64>> = vec![None; cells.len()];
    let mut last = None;
    let mut at = 0;
    for e in trace.events.iter().filter(|e| e.lane as usize == lane) {
        let EventKind::Counter { value } = e.kind else {
            continue;
        };
        let c = col(e.at_us);
        // Carry the value held so far up to this column.
        while at < c {
            if most[at].is_none() {
                most[at] = last;
            }
            at += 1;
        }
        most[c] = Some(most[c].map_or(value, |m| m.max(value)));
        last = Some(value);
    }
    for m in most.iter_mut().skip(at + 1) {
        *m = last;
    }
    for (cell, value) in cells.iter_mut().zip(most) {
        let Some(value) = value else { continue };
        let ch = match value {
            0 => glyphs.pick('·', '.'),
            1..=9 => char::from(b'0' + value as u8),
            _ => '+',
        };
        let ink = if limit.is_some_and(|l| value > l) {
            Ink::OverLimit
        } else {
            Ink::Count
        };
        *cell = Cell { ch, ink };
    }
}

/// The axis line (its corner under the lanes' bar, then one character per
/// column, ticks included) and the row of the ticks' labels, both
/// `plot + 1` characters at most.
fn axis(total: u64, plot: usize, glyphs: Glyphs, col: &dyn Fn(u64) -> usize) -> (String, String) {
    // A round step that leaves room for each label (about 10 columns).
    let most_ticks = (plot / 10).max(1) as u64;
    let mut step = 1u64;
    'search: for scale in (0..13).map(|k| 10u64.pow(k)) {
        for m in [1, 2, 5] {
            step = m * scale;
            if total / step < most_ticks {
                break 'search;
            }
        }
    }
    let mut line: Vec<char> = vec![glyphs.pick('─', '-'); plot + 1];
    line[0] = glyphs.pick('└', '+');
    let mut labels: Vec<char> = vec![' '; plot + 1];
    let mut free_from = 0;
    let mut t = 0;
    while t <= total {
        let tick = col(t) + 1;
        if t > 0 {
            line[tick] = glyphs.pick('┴', '+');
        }
        let text: Vec<char> = time_label(t, step, glyphs).chars().collect();
        // A label starts under its tick (the first under the corner), or
        // ends there when it would run off the right end.
        let start = if t == 0 {
            0
        } else if tick + text.len() <= labels.len() {
            tick
        } else {
            (tick + 1).saturating_sub(text.len())
        };
        if start >= free_from && start + text.len() <= labels.len() {
            labels[start..start + text.len()].copy_from_slice(&text);
            free_from = start + text.len() + 2;
        }
        t += step;
    }
    (line.into_iter().collect(), labels.into_iter().collect())
}

/// The axis of a trace whose clock counts steps of `step_us` µs: a tick
/// where each step starts, labelled with its number ("step 1", then "2",
/// "3"), every step's or, where they would crowd, every 2nd, 5th, 10th…
fn step_axis(
    total: u64,
    step_us: u64,
    plot: usize,
    glyphs: Glyphs,
    col: &dyn Fn(u64) -> usize,
) -> (String, String) {
    let steps = total.div_ceil(step_us).max(1);
    let mut line: Vec<char> = vec![glyphs.pick('─', '-'); plot + 1];
    line[0] = glyphs.pick('└', '+');
    let mut labels: Vec<char> = vec![' '; plot + 1];
    // A stride whose labels, a few columns wide, all fit.
    let widest = format!("{steps}").len() + 2;
    let mut stride = 1;
    'search: for scale in (0..13).map(|k| 10u64.pow(k)) {
        for m in [1, 2, 5] {
            stride = m * scale;
            let shown = steps.div_ceil(stride);
            let room =
                (u128::from(stride * step_us) * plot as u128 / (u128::from(total) + 1)) as usize;
            if room >= widest || shown <= 1 {
                break 'search;
            }
        }
    }
    // The numbers leave room for the unit at the right end.
    let unit: Vec<char> = " steps".chars().collect();
    let room = labels.len().saturating_sub(unit.len());
    let mut free_from = 0;
    for k in 0..steps {
        let tick = col(k * step_us) + 1;
        if k > 0 {
            line[tick] = glyphs.pick('┴', '+');
        }
        if k % stride != 0 {
            continue;
        }
        let text: Vec<char> = format!("{}", k + 1).chars().collect();
        if tick >= free_from && tick + text.len() <= room {
            labels[tick..tick + text.len()].copy_from_slice(&text);
            free_from = tick + text.len() + 1;
        }
    }
    let from = labels.len().saturating_sub(unit.len());
    let fit = labels.len() - from;
    labels[from..].copy_from_slice(&unit[unit.len() - fit..]);
    (line.into_iter().collect(), labels.into_iter().collect())
}

/// `t` in the unit `step` reads best in: `0`, `250 ms`, `1.5 s`, `0.5 ms`,
/// `40 µs`.
fn time_label(t: u64, step: u64, glyphs: Glyphs) -> String {
    if t == 0 {
        return "0".to_string();
    }
    let micro = glyphs.pick('µ', 'u');
    if step >= 1_000_000 {
        format!("{} s", t / 1_000_000)
    } else if step >= 100_000 {
        format!("{:.1} s", t as f64 / 1e6)
    } else if step >= 1000 {
        format!("{} ms", t / 1000)
    } else if step >= 100 {
        format!("{:.1} ms", t as f64 / 1e3)
    } else {
        format!("{t} {micro}s")
    }
}

fn paint_if(colour: bool, ink: Ink, text: impl std::fmt::Display) -> String {
    if colour && ink.style() != Style::new() {
        paint(ink.style(), text)
    } else {
        text.to_string()
    }
}

/// The cells as text, each run of one ink in its style, trailing blanks cut.
fn paint_cells(cells: &[Cell], colour: bool) -> String {
    let used = cells
        .iter()
        .rposition(|c| c.ink != Ink::Empty)
        .map_or(0, |i| i + 1);
    let mut out = String::new();
    let mut run = String::new();
    let mut ink = Ink::Empty;
    for cell in &cells[..used] {
        if cell.ink != ink && !run.is_empty() {
            out.push_str(&paint_if(colour, ink, &run));
            run.clear();
        }
        ink = cell.ink;
        run.push(cell.ch);
    }
    out.push_str(&paint_if(colour, ink, &run));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use check_harness::trace::{Event, LaneInfo};

    fn lane(name: &str, kind: LaneKind, limit: Option<u64>) -> LaneInfo {
        LaneInfo {
            name: name.into(),
            kind,
            limit,
        }
    }

    fn instant(lane: u32, at_us: u64, label: &str, tone: Tone) -> Event {
        Event {
            lane,
            at_us,
            kind: EventKind::Instant {
                label: label.into(),
                tone,
            },
        }
    }

    fn span(lane: u32, at_us: u64, end_us: Option<u64>, label: &str) -> Event {
        Event {
            lane,
            at_us,
            kind: EventKind::Span {
                label: label.into(),
                end_us,
                tone: Tone::Plain,
            },
        }
    }

    /// Step 2's blocked loop: the job runs on the loop, the pings wait, the
    /// check gives up after 5 s.
    fn blocked_loop() -> Trace {
        Trace {
            lanes: vec![
                lane("check", LaneKind::Check, None),
                lane("your loop", LaneKind::Loop, None),
            ],
            events: vec![
                instant(0, 120, "sent job 1, Ping 1-3", Tone::Plain),
                span(1, 400, None, "job 1 (on the loop's thread)"),
                instant(0, 5_000_900, "no Pong(1) in 5 s", Tone::Fault),
            ],
            end_us: 5_001_000,
            explains_failure: true,
            dropped: 0,
            clock: None,
            step_us: None,
            notes: Vec::new(),
        }
    }

    fn text(trace: &Trace, width: usize, glyphs: Glyphs) -> String {
        render(trace, width, glyphs, false).join("\n")
    }

    #[test]
    fn blocked_loop_in_unicode() {
        let expected = [
            "    check │◆ sent job 1, Ping 1-3                                          no Pong(1) in 5 s ✗",
            "your loop │█ job 1 (on the loop's thread) ███████████████████████████████████████████████████▶",
            "          └────────────────┴────────────────┴───────────────┴────────────────┴───────────────┴",
            "          0                1 s              2 s             3 s              4 s           5 s",
        ];
        assert_eq!(
            text(&blocked_loop(), 94, Glyphs::Unicode),
            expected.join("\n")
        );
    }

    #[test]
    fn blocked_loop_in_ascii() {
        let expected = [
            "    check |* sent job 1, Ping 1-3                                          no Pong(1) in 5 s X",
            "your loop |[ job 1 (on the loop's thread) ===================================================>",
            "          +----------------+----------------+---------------+----------------+---------------+",
            "          0                1 s              2 s             3 s              4 s           5 s",
        ];
        let chart = text(&blocked_loop(), 94, Glyphs::Ascii);
        assert_eq!(chart, expected.join("\n"));
        assert!(chart.is_ascii());
    }

    /// The same as step 2 records it: the check lets the job go after it
    /// failed, and the loop's late replies are labelled over the job's span.
    /// The fault's label is placed first; the other labels get what is left.
    #[test]
    fn late_replies_are_labelled_over_the_span() {
        let mut events = vec![instant(0, 100, "sent job 1", Tone::Plain)];
        for n in 1..=3 {
            events.push(instant(
                0,
                140 + n * 10,
                &format!("sent Ping({n})"),
                Tone::Plain,
            ));
        }
        events.push(Event {
            lane: 1,
            at_us: 300,
            kind: EventKind::Span {
                label: "job 1 runs".into(),
                end_us: Some(5_001_000),
                tone: Tone::Plain,
            },
        });
        events.push(instant(0, 5_000_500, "no reply in 5 s", Tone::Fault));
        events.push(instant(0, 5_000_600, "let job 1 go", Tone::Plain));
        for (i, reply) in ["Done 1", "Pong(1)", "Pong(2)", "Pong(3)"]
            .iter()
            .enumerate()
        {
            events.push(instant(1, 5_001_100 + i as u64 * 20, reply, Tone::Good));
        }
        let trace = Trace {
            lanes: vec![
                lane("check", LaneKind::Check, None),
                lane("your loop", LaneKind::Loop, None),
            ],
            events,
            end_us: 5_202_000,
            explains_failure: true,
            dropped: 0,
            clock: None,
            step_us: None,
            notes: Vec::new(),
        };
        let expected = [
            "    check |* sent job 1 +3                                     no reply in 5 s, let job 1 go X",
            "your loop |[ job 1 runs ================================== Done 1, Pong(1), Pong(2), Pong(3) o",
            "          +----------------+----------------+---------------+----------------+---------------+",
            "          0                1 s              2 s             3 s              4 s           5 s",
        ];
        assert_eq!(text(&trace, 94, Glyphs::Ascii), expected.join("\n"));
    }

    #[test]
    fn colour_only_when_asked() {
        let plain = render(&blocked_loop(), 94, Glyphs::Unicode, false).join("\n");
        let coloured = render(&blocked_loop(), 94, Glyphs::Unicode, true).join("\n");
        assert!(!plain.contains('\x1b'));
        assert!(coloured.contains('\x1b'));
        // Without the styles it is the same chart.
        let mut stripped = String::new();
        let mut chars = coloured.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                chars.by_ref().find(|&c| c == 'm');
            } else {
                stripped.push(c);
            }
        }
        assert_eq!(stripped, plain);
    }

    #[test]
    fn time_labels_in_the_unit_of_the_step() {
        let g = Glyphs::Unicode;
        assert_eq!(time_label(0, 500, g), "0");
        assert_eq!(time_label(1500, 500, g), "1.5 ms");
        assert_eq!(time_label(40, 20, g), "40 µs");
        assert_eq!(time_label(40, 20, Glyphs::Ascii), "40 us");
        assert_eq!(time_label(20_000, 10_000, g), "20 ms");
        assert_eq!(time_label(1_500_000, 500_000, g), "1.5 s");
        assert_eq!(time_label(60_000_000, 10_000_000, g), "60 s");
    }

    #[test]
    fn control_characters_in_labels_are_not_sent() {
        let mut trace = blocked_loop();
        trace.events[0] = instant(0, 120, "\x1b[2Jgot \u{202e}x", Tone::Plain);
        let chart = text(&trace, 94, Glyphs::Unicode);
        assert!(chart.contains("◆ ?[2Jgot ?x"), "{chart}");
        assert!(!chart.chars().any(|c| c.is_control() && c != '\n'));
    }

    /// Step 7's fault: four jobs at once in a pool of three, the counter
    /// over its limit where the fourth started.
    #[test]
    fn a_counter_over_its_limit() {
        let mut events = Vec::new();
        for (worker, start) in [(1u32, 1000u64), (2, 2000), (3, 3000), (4, 8000)] {
            events.push(span(worker, start, Some(40_000), &format!("job {worker}")));
        }
        for (at, value) in [(1000, 1), (2000, 2), (3000, 3), (8000, 4), (40_000, 0)] {
            events.push(Event {
                lane: 5,
                at_us: at,
                kind: EventKind::Counter { value },
            });
        }
        events.push(instant(0, 8000, "4th job started", Tone::Fault));
        let trace = Trace {
            lanes: vec![
                lane("check", LaneKind::Check, None),
                lane("worker 1", LaneKind::Thread, None),
                lane("worker 2", LaneKind::Thread, None),
                lane("worker 3", LaneKind::Thread, None),
                lane("worker 4", LaneKind::Thread, None),
                lane("jobs running", LaneKind::Counter, Some(3)),
            ],
            events,
            end_us: 41_000,
            explains_failure: true,
            dropped: 0,
            clock: None,
            step_us: None,
            notes: Vec::new(),
        };
        let expected = [
            "               check |       X 4th job started",
            "            worker 1 |[ job 1 =============================]",
            "            worker 2 | [ job 2 ============================]",
            "            worker 3 |  [ job 3 ===========================]",
            "            worker 4 |       [ job 4 ======================]",
            "jobs running (max 3) |1233333444444444444444444444444444444.",
            "                     +------------------+------------------+",
            "                     0                  20 ms          40 ms",
        ];
        assert_eq!(text(&trace, 60, Glyphs::Ascii), expected.join("\n"));
        let unicode = text(&trace, 60, Glyphs::Unicode);
        assert!(unicode.contains("       █ job 4 ███"), "{unicode}");
        assert!(unicode.contains("✗ 4th job started"), "{unicode}");
        assert!(unicode.contains("│1233333444"), "{unicode}");
        assert!(unicode.contains("4444·\n"), "{unicode}");
    }

    /// A long run with many lanes and thousands of events still fits: at
    /// most 12 lines, none wider than asked, extra lanes counted.
    #[test]
    fn a_very_long_run_is_compressed_to_the_width() {
        let mut lanes = vec![lane("check", LaneKind::Check, None)];
        let mut events = Vec::new();
        for w in 1..=20u32 {
            lanes.push(lane(&format!("worker {w}"), LaneKind::Thread, None));
            for j in 0..500u64 {
                let start = (j * 20 + u64::from(w)) * 6_000;
                events.push(span(w, start, Some(start + 50_000), "job"));
            }
        }
        for i in 0..1000u64 {
            events.push(instant(0, i * 60_000, "tick", Tone::Plain));
        }
        events.push(instant(0, 60_000_000, "gave up", Tone::Fault));
        let trace = Trace {
            lanes,
            events,
            end_us: 60_000_000,
            explains_failure: true,
            dropped: 0,
            clock: None,
            step_us: None,
            notes: Vec::new(),
        };
        let chart = render(&trace, 94, Glyphs::Unicode, false);
        assert!(chart.len() <= 12, "{} lines", chart.len());
        for line in &chart {
            assert!(line.chars().count() <= 94, "too wide: {line}");
        }
        let expected = [
            "         … 13 more lanes",
            "         └─────────────┴─────────────┴─────────────┴─────────────┴─────────────┴─────────────┴",
            "         0             10 s          20 s          30 s          40 s          50 s       60 s",
        ];
        // A thousand instants over the minute: a mark in every column, the
        // fault last.
        assert_eq!(chart[0], format!("   check │{}✗", "◆".repeat(83)));
        assert_eq!(chart[8..], expected);
        // Half-second jobs, one every 6 s on each worker: a dense row.
        for (row, w) in chart[1..8].iter().zip(1..) {
            assert_eq!(*row, format!("worker {w} │{}", "█".repeat(84)));
        }
    }

    /// Step 5's lost update as its check draws it: one box per atomic
    /// operation, 1000 µs a step, on a clock of steps.
    fn lost_update() -> Trace {
        let step = |lane: u32, k: u64, what: &str| span(lane, k * 1000, Some(k * 1000 + 900), what);
        Trace {
            lanes: vec![
                lane("check", LaneKind::Check, None),
                lane("thread 1", LaneKind::Thread, None),
                lane("thread 2", LaneKind::Thread, None),
                lane("the check's thread", LaneKind::Thread, None),
            ],
            events: vec![
                span(0, 0, Some(5000), "two threads each call hit()"),
                step(1, 0, "load"),
                step(2, 1, "load"),
                step(2, 2, "store"),
                step(1, 3, "store"),
                step(3, 4, "load"),
                instant(0, 5000, "the count ended at 1", Tone::Fault),
            ],
            end_us: 5000,
            explains_failure: true,
            dropped: 0,
            clock: Some("one schedule".into()),
            step_us: Some(1000),
            notes: Vec::new(),
        }
    }

    #[test]
    fn a_clock_of_steps_reads_in_steps() {
        let expected = [
            "             check │█ two threads each call hit() █████████████████████ the count ended at 1 ✗",
            "          thread 1 │█ load ███████                              █ store ██████",
            "          thread 2 │              █ load ███████ █ store ██████",
            "the check's thread │                                                           █ load ███████",
            "                   └──────────────┴──────────────┴──────────────┴──────────────┴──────────────",
            "                    1             2              3              4              5         steps",
        ];
        assert_eq!(
            text(&lost_update(), 94, Glyphs::Unicode),
            expected.join("\n")
        );
        // Many steps in a narrow chart: every 2nd or 5th is numbered.
        let mut t = lost_update();
        let (a, b) = (t.events[2].clone(), t.events[3].clone());
        for k in 5..40 {
            let mut e = if k % 2 == 0 { a.clone() } else { b.clone() };
            e.at_us = k * 1000;
            if let EventKind::Span { end_us, .. } = &mut e.kind {
                *end_us = Some(k * 1000 + 900);
            }
            t.events.push(e);
        }
        let chart = render(&t, 60, Glyphs::Ascii, false);
        let numbers = chart.last().unwrap();
        assert!(numbers.ends_with("steps"), "{numbers}");
        assert!(!numbers.contains("ms"), "{numbers}");
        let shown: Vec<u64> = numbers
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        assert!(shown.len() >= 4 && shown[0] == 1, "{numbers}");
        let stride = shown[1] - shown[0];
        assert!(shown.windows(2).all(|w| w[1] - w[0] == stride), "{numbers}");
    }

    /// Two operations one after the other on a lane are two boxes, in
    /// Unicode too: a blank between them.
    #[test]
    fn boxes_one_after_the_other_stay_apart() {
        let chart = text(&lost_update(), 94, Glyphs::Unicode);
        let row = chart.lines().nth(2).unwrap();
        assert!(row.contains("█ load ███████ █ store ██████"), "{row}");
        // A long run squeezed into the width still draws a dense row (see
        // a_very_long_run_is_compressed_to_the_width).
    }

    /// Step 6's crashing worker: the worker says "panics" a moment after
    /// its job began, inside the job's box where the box's label starts.
    /// The mark does not cover a letter: the label moves past it.
    #[test]
    fn a_mark_inside_a_span_leaves_its_label_readable() {
        let trace = Trace {
            lanes: vec![
                lane("check", LaneKind::Check, None),
                lane("worker 1", LaneKind::Thread, None),
            ],
            events: vec![
                instant(0, 0, "run_all(4 jobs)", Tone::Plain),
                span(1, 1000, Some(30_000), "panic"),
                instant(1, 2500, "panics", Tone::Plain),
                instant(0, 40_000, "returned", Tone::Good),
            ],
            end_us: 40_000,
            explains_failure: true,
            dropped: 0,
            clock: None,
            step_us: None,
            notes: Vec::new(),
        };
        for glyphs in [Glyphs::Unicode, Glyphs::Ascii] {
            let chart = text(&trace, 94, glyphs);
            let row = chart.lines().nth(1).unwrap();
            let mark = glyphs.pick('◆', '*');
            assert!(row.contains(" panic "), "{row}");
            assert!(row.contains(mark), "{row}");
            assert!(!row.contains(&format!("p{mark}")), "{row}");
            assert!(!row.contains(&format!("{mark}anic")), "{row}");
        }
    }
}
