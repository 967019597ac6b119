//! `cargo xtask`: the course's grader and tooling.
//!
//! Each verb lives in its own module under `commands/`; the shared pieces are
//! the repository root and manifest (`repo`), building a step's checks
//! (`build`), running them (`grade`), the learner's progress (`progress`),
//! the exercises' original files (`originals`) and printing (`ui`, `report`).

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod before_main;
mod board_link;
mod build;
mod chart;
mod commands;
mod grade;
mod http_client;
mod kept;
mod originals;
mod pinned;
mod progress;
mod repo;
mod report;
mod rustc_help;
mod shipped;
mod stamp;
mod trace_files;
mod ui;

/// The grader and tools of the course "Threads vs. processes in Rust".
#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version)]
#[command(after_help = "Start with `cargo xtask list`, then `cargo xtask check step1`.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Output format of `check`, `list` and `verify`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Text for people.
    #[default]
    Human,
    /// JSON, as documented in the book (for `check`, `list` and `verify` in
    /// "The grader"; for `bench` in "Measure it yourself").
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// List the steps, their status and estimated time; mark the next one.
    List {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Build a step's exercise and run its checks.
    Check {
        /// The step: `step1`, `1` or `step1-blocking`.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        step: Option<String>,
        /// Check every step and print a summary table.
        #[arg(long)]
        all: bool,
        /// Run the checks against the reference solution instead.
        #[arg(long)]
        solution: bool,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Also write each traced check's timeline as a picture (SVG) and as
        /// trace JSON (for ui.perfetto.dev or chrome://tracing) into DIR,
        /// one folder per step (default: target/traces).
        #[arg(long, value_name = "DIR", num_args = 0..=1)]
        trace: Option<Option<std::path::PathBuf>>,
    },
    /// Show the hints of the checks that are failing now.
    Hint {
        step: String,
        /// Show every hint of the step, failing or not.
        #[arg(long)]
        all: bool,
    },
    /// Re-check a step every time its files change (Enter re-checks too; Ctrl+C to stop).
    Watch {
        /// The step to watch; without it, the next step to do (and the one
        /// after, once it passes).
        step: Option<String>,
        /// Look at the files once a second instead of asking the system for
        /// file events (for network drives, WSL's /mnt, or when events do
        /// not arrive).
        #[arg(long)]
        poll: bool,
        /// Do not watch files at all: check again each time you press Enter.
        #[arg(long, conflicts_with = "poll")]
        manual: bool,
    },
    /// Restore a step's exercise to its original state, after backing up your files.
    Reset { step: String },
    /// Show the reference solution of a step.
    Solution {
        step: String,
        /// Show it as a diff against your exercise.
        #[arg(long)]
        diff: bool,
        /// Do not ask for confirmation before the step is passed.
        #[arg(long)]
        yes: bool,
    },
    /// For maintainers and CI: every solution passes, every untouched exercise fails at run time.
    Verify {
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Grade the mutant suite (checks/*/mutants/*.patch) instead: every wrong
        /// answer is rejected by the check it names, every right answer passes.
        #[arg(long)]
        mutants: bool,
        /// With `--mutants`: only this step's mutants (`step3`, ...), and only
        /// the mutants whose file name contains `--only`.
        #[arg(long, requires = "mutants")]
        step: Option<String>,
        #[arg(long, requires = "mutants")]
        only: Option<String>,
    },
    /// For maintainers: record the exercises' original files and the files that grade (after changing an exercise, a check or the harness).
    Freeze,
    /// For CI: search libraries (rlibs, objects) for code that runs before `main`, as the grader does after each build.
    #[command(hide = true)]
    ScanObjects {
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
    /// Build the book (book/book/index.html); `--open` opens it in a browser.
    Book {
        #[arg(long)]
        open: bool,
    },
    /// Check that this machine is ready for the course (before a workshop).
    Doctor,
    /// Write your progress to a small JSON file for your instructor.
    Report {
        /// Your name or handle, as the instructor should see it.
        #[arg(long)]
        name: Option<String>,
        /// Where to write it (default: report-<name>.json here).
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// For instructors: a table of the class's progress from attendees' report files.
    ClassReport {
        /// Report files, or directories holding them.
        #[arg(required = true)]
        inputs: Vec<std::path::PathBuf>,
        /// Where to write the HTML page.
        #[arg(long, default_value = "class-report.html")]
        html: std::path::PathBuf,
    },
    /// Follow the instructor's live workshop board: each check tells it your results (never your code).
    Join {
        /// The address the board shows, ending in the room code (http://192.168.1.5:7878/KQ7P2M).
        url: String,
        /// Your name or handle, as the instructor should see it.
        #[arg(long)]
        name: String,
    },
    /// Stop telling a workshop board about your checks.
    Leave,
    /// For instructors: a live board of the room's checks on the LAN (a web page), or `--export` its reports.
    Board {
        /// Where to listen (default: every interface, port 7878; the URL is printed).
        #[arg(long, value_name = "ADDR")]
        bind: Option<String>,
        /// Reopen this room (its code) and continue it, instead of opening a new one.
        #[arg(long, value_name = "CODE")]
        room: Option<String>,
        /// Write each attendee's report into DIR (as `report` does), then the
        /// `class-report` table and page from them, and stop (needs --room).
        #[arg(long, value_name = "DIR", requires = "room")]
        export: Option<std::path::PathBuf>,
        /// Where --export writes the HTML page.
        #[arg(long, default_value = "class-report.html", requires = "export")]
        html: std::path::PathBuf,
    },
    /// The background sender `check` starts for a joined board.
    #[command(hide = true)]
    BoardSend,
    /// For maintainers: record the timelines the chapters show (book/src/traces), from each
    /// `[step.trace]` of course.toml: its check against the solution (a pass) and a wrong mutant (a failure).
    BookTraces {
        /// Only this step (`step2`, ...).
        step: Option<String>,
        /// Write them under DIR/traces/ instead of book/src/traces/ (CI: the pairs
        /// still come out, the book is left alone).
        #[arg(long, value_name = "DIR")]
        out: Option<std::path::PathBuf>,
    },
    /// For maintainers: write .github/workflows/autograde.yml from course.toml.
    GenAutograde {
        /// Only compare the committed workflow with the manifest.
        #[arg(long)]
        check: bool,
    },
    /// Turn `check --format json` result files into a Markdown score table.
    Score {
        #[arg(required = true)]
        inputs: Vec<std::path::PathBuf>,
    },
    /// For autograding on Classroom 50: write result.json and release-body.md from
    /// `check --format json` result files (and print GitHub Classroom's two score notices).
    Classroom50 {
        #[arg(required = true)]
        inputs: Vec<std::path::PathBuf>,
        /// Grade only this step (an assignment of one step); default: every step.
        #[arg(long)]
        step: Option<String>,
        /// Where to write result.json and release-body.md.
        #[arg(long, default_value = ".")]
        out: std::path::PathBuf,
        /// The submission's time: seconds since 1970 (`git log -1 --format=%ct`)
        /// or a UTC time; default: now.
        #[arg(long)]
        datetime: Option<String>,
    },
    /// For graders: replace this checkout's exercises with a learner's (regular files
    /// only, bounded), so that this checkout's checks and grader grade them.
    TakeExercises {
        /// The learner's repository (a fork or a Classroom 50 copy of the course).
        #[arg(long)]
        from: std::path::PathBuf,
        /// Only this step's exercise.
        #[arg(long)]
        step: Option<String>,
    },
    /// Measure threads against child processes on this machine (release build).
    Bench {
        /// A short run (under 30 s on 2 cores) instead of the full one (minutes).
        #[arg(long)]
        quick: bool,
        #[arg(long, value_enum, default_value_t)]
        format: Format,
        /// Also write the report (bench.json), the table and the charts (SVG) into this directory.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// Instead of measuring, record the demo runs the book shows (all of
        /// them, or the NAMEs given) into OUT/demos/ and OUT/demos.json; the
        /// book's are in book/src/measure.
        #[arg(long, value_name = "NAME", num_args = 0.., requires = "out")]
        demos: Option<Vec<String>>,
    },
}

fn main() -> ExitCode {
    // Ctrl-C, SIGTERM and SIGHUP end the running check (its whole process
    // tree) and remove its temporary files before the grader exits.
    check_harness::cleanup::install_interrupt_handler();
    ui::quiet_on_closed_stdout();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::List { format } => commands::list::run(format),
        Command::Check {
            step,
            all,
            solution,
            format,
            trace,
        } => commands::check::run(step.as_deref(), all, solution, format, trace),
        Command::Hint { step, all } => commands::hint::run(&step, all),
        Command::Watch { step, poll, manual } => {
            let mode = match (poll, manual) {
                (_, true) => commands::watch::Mode::Manual,
                (true, _) => commands::watch::Mode::Poll,
                _ => commands::watch::Mode::Native,
            };
            commands::watch::run(step.as_deref(), mode)
        }
        Command::Reset { step } => commands::reset::run(&step),
        Command::Solution { step, diff, yes } => commands::solution::run(&step, diff, yes),
        Command::Verify {
            format,
            mutants,
            step,
            only,
        } => {
            if mutants {
                commands::mutants::run(format, step.as_deref(), only.as_deref())
            } else {
                commands::verify::run(format)
            }
        }
        Command::Freeze => commands::freeze::run(),
        Command::ScanObjects { files } => commands::scan_objects::run(files),
        Command::BookTraces { step, out } => commands::book_traces::run(step.as_deref(), out),
        Command::Book { open } => commands::book::run(open),
        Command::Doctor => commands::doctor::run(),
        Command::Report { name, out } => commands::report::run(name, out),
        Command::ClassReport { inputs, html } => commands::class_report::run(&inputs, &html),
        Command::Join { url, name } => commands::join::run(&url, &name),
        Command::Leave => commands::leave::run(),
        Command::Board {
            bind,
            room,
            export,
            html,
        } => commands::board::run(bind.as_deref(), room.as_deref(), export.as_deref(), &html),
        Command::BoardSend => commands::board_send::run(),
        Command::GenAutograde { check } => commands::gen_autograde::run(check),
        Command::Score { inputs } => commands::score::run(&inputs),
        Command::Classroom50 {
            inputs,
            step,
            out,
            datetime,
        } => commands::classroom50::run(&inputs, step.as_deref(), &out, datetime.as_deref()),
        Command::TakeExercises { from, step } => {
            commands::take_exercises::run(&from, step.as_deref())
        }
        Command::Bench {
            quick,
            format,
            out,
            demos,
        } => commands::bench::run(quick, format, out.as_deref(), demos.as_deref()),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            ui::error(&format!("{e:#}"));
            ExitCode::from(2)
        }
    }
}
