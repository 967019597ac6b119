//! SVG charts drawn from a report (so `--render` can redraw them from a saved
//! JSON file): bars on a logarithmic axis, and the scaling lines.

use std::error::Error;
use std::path::{Path, PathBuf};

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::comm::size_name;
use crate::report::{num, Report};
use crate::stats::Stats;

const THREAD: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const SHARED: RGBColor = RGBColor(0x2c, 0xa0, 0x2c);
const PROCESS: RGBColor = RGBColor(0xe0, 0x6c, 0x10);
const RAW: RGBColor = RGBColor(0x9a, 0x4d, 0x0c);
const IDEAL: RGBColor = RGBColor(0x88, 0x88, 0x88);

struct Bar {
    label: String,
    stats: Stats,
    color: RGBColor,
}

fn bar(label: impl Into<String>, stats: &Stats, color: RGBColor) -> Bar {
    Bar {
        label: label.into(),
        stats: stats.clone(),
        color,
    }
}

/// Horizontal bars at the medians with a whisker over the quartiles, on a
/// logarithmic axis (the values differ by orders of magnitude).
fn bars(path: &Path, title: &str, axis: &str, bars: &[Bar]) -> Result<(), Box<dyn Error>> {
    let height = 90 + 38 * bars.len() as u32;
    let root = SVGBackend::new(path, (820, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let low = bars
        .iter()
        .map(|b| b.stats.q1.min(b.stats.median))
        .fold(f64::MAX, f64::min);
    let high = bars
        .iter()
        .map(|b| b.stats.q3.max(b.stats.median))
        .fold(0.0, f64::max);
    let low = 10f64.powf((low.max(1e-9) / 1.5).log10().floor());
    let high = 10f64.powf((high.max(low) * 3.0).log10().ceil());
    let labels: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .margin_right(48)
        .x_label_area_size(40)
        .y_label_area_size(290)
        // An integer range includes its end: n bars are 0..n-1.
        .build_cartesian_2d(
            (low..high).log_scale(),
            (0..bars.len() as i32 - 1).into_segmented(),
        )?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc(axis)
        .x_label_formatter(&|x| num(*x))
        .y_label_formatter(&|y| match y {
            // Bar 0 is drawn at the top (see `row`).
            SegmentValue::CenterOf(i) => labels
                .len()
                .checked_sub(1 + *i as usize)
                .and_then(|k| labels.get(k))
                .cloned()
                .unwrap_or_default(),
            _ => String::new(),
        })
        .label_style(("sans-serif", 14))
        .draw()?;
    // Bar 0 at the top: plotters counts upwards, so flip the index.
    let row = |i: usize| (bars.len() - 1 - i) as i32;
    chart.draw_series(bars.iter().enumerate().map(|(i, b)| {
        let mut rect = Rectangle::new(
            [
                (low, SegmentValue::Exact(row(i))),
                (b.stats.median, SegmentValue::Exact(row(i) + 1)),
            ],
            b.color.mix(0.8).filled(),
        );
        rect.set_margin(6, 6, 0, 0);
        rect
    }))?;
    chart.draw_series(bars.iter().enumerate().map(|(i, b)| {
        PathElement::new(
            vec![
                (b.stats.q1, SegmentValue::CenterOf(row(i))),
                (b.stats.q3, SegmentValue::CenterOf(row(i))),
            ],
            BLACK.stroke_width(2),
        )
    }))?;
    let text = ("sans-serif", 13)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    chart.draw_series(bars.iter().enumerate().map(|(i, b)| {
        Text::new(
            num(b.stats.median),
            (
                b.stats.q3.max(b.stats.median) * 1.15,
                SegmentValue::CenterOf(row(i)),
            ),
            text.clone(),
        )
    }))?;
    root.present()?;
    Ok(())
}

/// Picks one speed-up out of a scaling point.
type SpeedUp = fn(&crate::scaling::ScalePoint) -> f64;

fn scaling(path: &Path, report: &Report) -> Result<(), Box<dyn Error>> {
    let points = &report.scaling.points;
    let cores = points.len().max(1) as f64;
    let root = SVGBackend::new(path, (640, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("Speed-up of one CPU-bound job", ("sans-serif", 20))
        .margin(12)
        .margin_right(48)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0.8..cores + 0.2, 0.0..cores + 0.5)?;
    chart
        .configure_mesh()
        .x_labels(points.len().max(2))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .x_desc("workers")
        .y_desc("speed-up over one thread")
        .label_style(("sans-serif", 14))
        .draw()?;
    chart
        .draw_series(LineSeries::new(
            [(1.0, 1.0), (cores, cores)],
            IDEAL.stroke_width(2),
        ))?
        .label("ideal (workers x 1 thread)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], IDEAL.stroke_width(2)));
    let series: [(&str, RGBColor, SpeedUp); 2] = [
        ("threads", THREAD, |p| p.threads_speedup),
        ("child processes", PROCESS, |p| p.processes_speedup),
    ];
    for (name, color, speedup) in series {
        let line: Vec<(f64, f64)> = points
            .iter()
            .map(|p| (p.workers as f64, speedup(p)))
            .collect();
        chart
            .draw_series(LineSeries::new(line.clone(), color.stroke_width(3)))?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3))
            });
        chart.draw_series(line.into_iter().map(|p| Circle::new(p, 5, color.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()?;
    root.present()?;
    Ok(())
}

/// Writes every chart into `dir`; returns the files written.
pub fn write_all(report: &Report, dir: &Path) -> Result<Vec<PathBuf>, Box<dyn Error>> {
    let mut written = Vec::new();
    let mut out = |name: &str| {
        let path = dir.join(name);
        written.push(path.clone());
        path
    };

    let s = &report.spawn;
    bars(
        &out("spawn.svg"),
        "Start and finish one worker",
        "microseconds per operation (log scale)",
        &[
            bar("thread::spawn + join", &s.thread_us, THREAD),
            bar("thread::scope, one thread", &s.scoped_us, THREAD),
            bar("child process spawn + wait", &s.process_us, PROCESS),
        ],
    )?;

    let m = &report.memory;
    let memory: Vec<Bar> = [
        ("idle thread: resident", &m.per_thread_resident_kib, THREAD),
        ("idle thread: reserved", &m.per_thread_reserved_kib, THREAD),
        ("idle child: resident", &m.per_process_resident_kib, PROCESS),
        (
            "idle child: private pages",
            &m.per_process_private_kib,
            PROCESS,
        ),
    ]
    .into_iter()
    .filter_map(|(label, stats, color)| Some(bar(label, stats.as_ref()?, color)))
    .filter(|b| b.stats.median > 0.0)
    .collect();
    if !memory.is_empty() {
        bars(
            &out("memory.svg"),
            "Memory of one idle worker",
            "KiB (log scale)",
            &memory,
        )?;
    }

    let colors = |method: &str| match method {
        "channel" => THREAD,
        "shared" => SHARED,
        "json-pipe" => PROCESS,
        _ => RAW,
    };
    let comm = &report.communication.results;
    let label =
        |r: &crate::comm::CommResult| format!("{}, {}", r.label, size_name(r.message_bytes));
    bars(
        &out("throughput.svg"),
        "Moving messages one way",
        "MB per second (10^6 bytes; log scale)",
        &comm
            .iter()
            .map(|r| bar(label(r), &r.bytes_per_s.scaled(1e-6), colors(&r.method)))
            .collect::<Vec<_>>(),
    )?;
    bars(
        &out("latency.svg"),
        "One message there and back",
        "round trip, microseconds (log scale)",
        &comm
            .iter()
            .map(|r| bar(label(r), &r.round_trip_us, colors(&r.method)))
            .collect::<Vec<_>>(),
    )?;

    scaling(&out("scaling.svg"), report)?;

    let b = &report.blocking;
    bars(
        &out("blocking.svg"),
        &format!(
            "Worst tick delay while a {} ms job runs",
            num(b.job_ms.median)
        ),
        "milliseconds late (log scale)",
        &b.results
            .iter()
            .map(|r| {
                let color = match r.mode.as_str() {
                    "inline" => IDEAL,
                    "thread" => THREAD,
                    _ => PROCESS,
                };
                bar(r.label.clone(), &r.worst_delay_ms, color)
            })
            .collect::<Vec<_>>(),
    )?;
    Ok(written)
}
