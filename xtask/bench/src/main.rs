//! `cargo xtask bench`: measures, on the reader's own machine, what threads
//! and child processes cost, and writes a table, a JSON report and SVG charts.
//! The book's chapter "Measure it yourself" explains every number.
//!
//! Usage: course-bench [--quick] [--format human|json] [--out DIR]
//!        course-bench --render REPORT.json --out DIR
//!
//! Why a hand-written harness and not criterion or divan: half of these
//! benchmarks are about processes (spawning the own executable, pipes to a
//! child, resident memory read from /proc, an event loop's worst delay), which
//! a micro-benchmark harness cannot express; and one small harness keeps all
//! five in the same JSON report with the same statistics (median, quartiles,
//! min-max) and keeps the compile short.

mod blocking;
mod charts;
mod child;
mod comm;
mod demos;
mod memory;
mod plan;
mod report;
mod scaling;
mod spawn;
mod stats;

use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::plan::Plan;
use crate::report::{Machine, Report, SCHEMA};

const USAGE: &str = "\
usage: cargo xtask bench [--quick] [--format human|json] [--out DIR]
       (directly: cargo run --release -p course-bench -- [same options])
       course-bench --render REPORT.json --out DIR   (redraw charts from a saved report)
       cargo xtask bench --demos [NAME...] --out DIR   (record the book's demo runs)

  --quick          a short run (under 30 s on 2 cores); the default is the full run
  --format json    print the report as JSON instead of a table
  --out DIR        also write DIR/bench.json, DIR/table.txt and the charts (SVG)
  --demos          instead, run the demos whose output the book shows (all, or
                   the NAMEs given: `fork-cost`, `fork-cost.release`) and write
                   DIR/demos/<name>.txt and DIR/demos.json";

struct Options {
    plan: Plan,
    json: bool,
    out: Option<PathBuf>,
    render: Option<PathBuf>,
    /// `--demos`: the demo runs to record (empty: all of them).
    demos: Option<Vec<String>>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        plan: Plan::full(),
        json: false,
        out: None,
        render: None,
        demos: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--quick" => options.plan = Plan::quick(),
            // Only exercises the code paths: for the test suite.
            "--tiny" => options.plan = Plan::tiny(),
            "--format" => match value("--format")?.as_str() {
                "json" => options.json = true,
                "human" => options.json = false,
                other => return Err(format!("unknown format `{other}` (human or json)")),
            },
            "--out" => options.out = Some(value("--out")?.into()),
            "--render" => options.render = Some(value("--render")?.into()),
            "--demos" => options.demos = Some(Vec::new()),
            "-h" | "--help" => return Err(String::new()),
            name if !name.starts_with('-') && options.demos.is_some() => {
                options.demos.as_mut().expect("set").push(name.to_string());
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if options.render.is_some() && options.out.is_none() {
        return Err("--render needs --out DIR".into());
    }
    if options.demos.is_some() && options.out.is_none() {
        return Err("--demos needs --out DIR (the book's is book/src/measure)".into());
    }
    Ok(options)
}

/// The progress bar (on a terminal) or one line per phase (elsewhere).
struct Progress {
    bar: ProgressBar,
    started: bool,
}

impl Progress {
    fn new(phases: u64) -> Progress {
        let bar = ProgressBar::new(phases);
        bar.set_style(
            ProgressStyle::with_template("{elapsed:>4} [{bar:30}] {pos}/{len} {msg}")
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress {
            bar,
            started: false,
        }
    }

    fn phase(&mut self, name: &str) {
        if self.started {
            self.bar.inc(1);
        }
        self.started = true;
        if self.bar.is_hidden() {
            eprintln!("bench: {name}");
        }
        self.bar.set_message(name.to_string());
    }
}

fn run(plan: &Plan) -> Result<Report, Box<dyn Error>> {
    let started = Instant::now();
    let machine = Machine::describe();
    let phases = 3 + 2 + 10 + plan.scaling_rounds + plan.blocking_rounds;
    let mut progress = Progress::new(phases as u64);
    let mut tick = |name: &str| progress.phase(name);
    let spawn = spawn::run(plan, &mut tick)?;
    let memory = memory::run(plan, &mut tick)?;
    let communication = comm::run(plan, &mut tick)?;
    let scaling = scaling::run(plan, &mut tick)?;
    let blocking = blocking::run(plan, &mut tick)?;
    progress.bar.finish_and_clear();
    Ok(Report {
        schema: SCHEMA.into(),
        machine,
        plan: plan.name.into(),
        duration_s: started.elapsed().as_secs_f64(),
        spawn,
        memory,
        communication,
        scaling,
        blocking,
    })
}

fn main() -> ExitCode {
    if let Some(result) = child::run_role_if_requested() {
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("course-bench child: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse(&args) {
        Ok(o) => o,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match main_with(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main_with(options: Options) -> Result<(), Box<dyn Error>> {
    if let (Some(only), Some(out)) = (&options.demos, &options.out) {
        return demos::record(out, only);
    }
    let report = match &options.render {
        Some(file) => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            serde_json::from_str(&text)
                .map_err(|e| format!("{} is not a bench report: {e}", file.display()))?
        }
        None => {
            if cfg!(debug_assertions) && options.plan.name != "tiny" {
                eprintln!("note: a debug build; use `cargo xtask bench` for numbers worth reading");
            }
            let report = run(&options.plan)?;
            if options.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.table());
            }
            report
        }
    };
    if let Some(dir) = &options.out {
        std::fs::create_dir_all(dir)?;
        let mut files = Vec::new();
        if options.render.is_none() {
            files.push(dir.join("bench.json"));
            std::fs::write(&files[0], serde_json::to_string_pretty(&report)? + "\n")?;
        }
        // The table as printed, for the book to include next to the charts.
        files.push(dir.join("table.txt"));
        std::fs::write(dir.join("table.txt"), report.table())?;
        files.extend(charts::write_all(&report, dir)?);
        for f in files {
            eprintln!("wrote {}", f.display());
        }
    }
    Ok(())
}
