//! The checks of step 4, how child processes work. Titles and hints live in
//! course.toml; run them with `cargo xtask check step4`.
//!
//! Inside a check, "this same program" is the checks binary, so `main` first
//! lets it act as a worker: the learner's worker (`--step4-worker`), or one
//! of the check's own misbehaving workers (`--step4-check-worker <mode>`)
//! that send a malformed line or die halfway through.

use std::io::{BufRead, Cursor, Write};
use std::time::Duration;

use check_harness::sync::{recv_unless_stuck, within_unless_stuck, Waited};
use check_harness::{ensure, fail, human, trace, Check, CheckResult};

#[cfg(all(feature = "exercise", not(feature = "solution")))]
use step4_pipe_ipc as subject;
#[cfg(feature = "solution")]
use step4_pipe_ipc_solution as subject;

mod signatures;

use subject::{process, run_jobs, run_jobs_with, worker, Answer, Finished, IpcError, Job};

mod timeline;

use timeline::Jam;

/// A line the learner's worker wrote is not JSON (an answer built by hand,
/// say, with a quote or a newline in the text).
const ANSWER_NOT_JSON: &str = "answer-not-json";

/// `run_jobs` waits for its worker to exit before reading its answers, and
/// the worker is blocked writing them.
const WAITS_BEFORE_READING: &str = "waits-before-reading";

/// `run_jobs` waits for its worker to exit while the worker's stdin is
/// still open, so the worker waits for more jobs and never exits.
const STDIN_KEPT_OPEN: &str = "stdin-kept-open";

/// `run_jobs` returned while its worker had not been waited for: still
/// running, or ended and left a zombie.
const WORKER_NOT_WAITED: &str = "worker-not-waited";

/// The parent killed a worker that had closed its output and was exiting
/// by itself (the check holds it in that state, see `EXIT_GATE`).
const KILLED_WHILE_ENDING: &str = "killed-while-ending";

/// Whether `status` says the process was killed (by `Child::kill`, which
/// is SIGKILL on Unix). Windows gives a killed process an exit code like
/// any other, so there this says `false` and the checks' other messages
/// apply.
fn killed(status: std::process::ExitStatus) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        status.signal() == Some(libc::SIGKILL)
    }
    #[cfg(not(unix))]
    {
        let _ = status;
        false
    }
}

/// What your worker received, byte for byte, when the check's workers
/// are started by your `run_jobs`: the check can then tell a parent that
/// wrote jobs without a line end between them.
mod tap {
    use std::io::{self, BufRead, Read, Write};
    use std::path::PathBuf;

    use super::{subject::worker, JOBS_NOT_FRAMED};

    /// Names the file, in the check's own folder (removed after the run).
    const ENV: &str = "COURSE_STEP4_TAP";

    /// Check side, before any thread: name the file the workers write to.
    pub fn name_the_file() {
        if let Ok(dir) = std::env::current_dir() {
            std::env::set_var(ENV, dir.join("worker-input.log"));
        }
    }

    /// The worker's stdin, through the tap when the check named a file.
    pub fn stdin() -> Tap<io::StdinLock<'static>> {
        let log = std::env::var_os(ENV).and_then(|path| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .ok()
        });
        Tap {
            inner: io::stdin().lock(),
            log,
        }
    }

    /// Worker side, when the trace does not already serve (see
    /// `timeline::serve_if_traced`): the given `run_if_requested`, with
    /// stdin read through the tap.
    pub fn serve_if_worker() {
        if std::env::args().nth(1).as_deref() != Some(worker::WORKER_ARG)
            || std::env::var_os(ENV).is_none()
            || !crate::timeline::run_if_requested_is_given()
        {
            return;
        }
        let code = match worker::serve(stdin(), io::stdout().lock()) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("worker: {e}");
                1
            }
        };
        std::process::exit(code);
    }

    /// A reader that copies what passes through it into `log`.
    pub struct Tap<R> {
        inner: R,
        log: Option<std::fs::File>,
    }

    impl<R> Tap<R> {
        fn note(&mut self, bytes: &[u8]) {
            if let Some(log) = &mut self.log {
                let _ = log.write_all(bytes);
            }
        }
    }

    impl<R: Read> Read for Tap<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.note(&buf[..n]);
            Ok(n)
        }
    }

    impl<R: BufRead> BufRead for Tap<R> {
        fn fill_buf(&mut self) -> io::Result<&[u8]> {
            self.inner.fill_buf()
        }

        fn consume(&mut self, amount: usize) {
            if self.log.is_some() {
                let passed = self
                    .inner
                    .fill_buf()
                    .map(|b| b[..amount.min(b.len())].to_vec())
                    .unwrap_or_default();
                self.note(&passed);
            }
            self.inner.consume(amount);
        }
    }

    /// Check side, after `run_jobs` failed: the failure to report instead,
    /// when the workers got two jobs on one line.
    pub fn jobs_not_framed() -> Option<check_harness::Failure> {
        let path = PathBuf::from(std::env::var_os(ENV)?);
        let got = std::fs::read_to_string(path).ok()?;
        let at = got.find("}{")?;
        let start = got[..at].rfind('\n').map_or(0, |i| i + 1);
        let excerpt: String = got[start..].chars().take(120).collect();
        Some(check_harness::Failure::because(
            JOBS_NOT_FRAMED,
            format!("run_jobs failed: your worker received two jobs with nothing between them, {excerpt:?}…: one JSON value ended and the next began on the same line."),
        ))
    }
}

/// The parent wrote jobs without a line end between them.
const JOBS_NOT_FRAMED: &str = "jobs-not-framed";

fn main() {
    misbehave_if_requested();
    check_harness::shell_probe::note_if_started_by_shell(worker::WORKER_ARG);
    linger_at_exit_if_worker();
    timeline::serve_if_traced();
    tap::serve_if_worker();
    worker::run_if_requested();
    tap::name_the_file();
    check_harness::main(&[
        Check::new("worker-alone", worker_alone),
        Check::new("answers-as-it-goes", answers_as_it_goes),
        Check::new("many-jobs-in-order", many_jobs_in_order),
        Check::new("large-messages", large_messages),
        Check::new("clean-exit", clean_exit),
        Check::new("malformed-line", malformed_line),
        Check::new("worker-crash", worker_crash),
        Check::new("no-shell", no_shell),
    ]);
}

/// The check's own worker roles.
const CHECK_WORKER: &str = "--step4-check-worker";
/// How many jobs the crashing worker answers before it dies.
const ANSWERED_BEFORE_CRASH: usize = 3;

/// The gate that keeps a worker alive after its pipes closed, until its
/// parent waits for it (see [`check_harness::gate::close_pipes_and_linger`]).
/// While a check holds it, `wait()` gets the exit status and a single
/// `try_wait()` hears "still running", every time.
const EXIT_GATE: &str = "COURSE_STEP4_EXIT_GATE";

/// In the worker role (the learner's `worker_command`, this binary), lingers
/// at exit as [`EXIT_GATE`] says. The worker's loop is the course's own code
/// and ends with `process::exit`, so the lingering hooks in there: an
/// `atexit` handler, on Unix. (Windows runs no such handlers on
/// `process::exit`; there the worker simply exits, as before.)
fn linger_at_exit_if_worker() {
    #[cfg(unix)]
    if std::env::args().nth(1).as_deref() == Some(worker::WORKER_ARG) {
        extern "C" fn linger() {
            check_harness::gate::close_pipes_and_linger(EXIT_GATE);
        }
        // SAFETY: registers a handler that takes no arguments and does not
        // unwind (close_pipes_and_linger does not panic).
        unsafe {
            libc::atexit(linger);
        }
    }
}

fn misbehave_if_requested() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) != Some(CHECK_WORKER) {
        return;
    }
    let mode = args.get(1).cloned().unwrap_or_default();
    let mut out = std::io::stdout().lock();
    for (n, line) in tap::stdin().lines().enumerate() {
        let Ok(job) = line.map(|l| serde_json::from_str::<Job>(&l)) else {
            std::process::exit(4);
        };
        let answer = job.map(|job| serde_json::to_string(&process(&job)));
        match (mode.as_str(), answer) {
            ("malformed", Ok(Ok(_))) if n == 1 => {
                // Half a message, then silence: the worker never ends by
                // itself.
                let _ = out.write_all(b"{\"id\": 1, \"words\": \"many\n");
                let _ = out.flush();
                loop {
                    std::thread::park();
                }
            }
            ("crash", _) if n == ANSWERED_BEFORE_CRASH => {
                let _ = out.flush();
                check_harness::gate::close_pipes_and_linger(EXIT_GATE);
                std::process::exit(3)
            }
            (_, Ok(Ok(text))) => {
                let _ = writeln!(out, "{text}");
                let _ = out.flush();
            }
            _ => std::process::exit(4),
        }
    }
    std::process::exit(0);
}

const LIMIT: Duration = Duration::from_secs(8);

fn exe() -> std::path::PathBuf {
    std::env::current_exe().expect("the checks binary knows its path")
}

/// `count` jobs whose texts are `size` bytes long, with spaces, quotes,
/// newlines and non-ASCII letters in them.
fn jobs(count: u64, size: usize) -> Vec<Job> {
    const WORDS: [&str; 6] = [
        "pipe ",
        "größe ",
        "\"quoted\" ",
        "two\nlines ",
        "tab\tbed ",
        "x ",
    ];
    (0..count)
        .map(|id| {
            let mut text = String::new();
            let mut k = id as usize;
            while text.len() < size {
                text.push_str(WORDS[k % WORDS.len()]);
                k += 1;
            }
            Job { id, text }
        })
        .collect()
}

fn expected_answers(jobs: &[Job]) -> Vec<Answer> {
    jobs.iter().map(process).collect()
}

/// Compares answers with the jobs without printing megabytes.
fn compare(jobs: &[Job], answers: &[Answer]) -> CheckResult {
    ensure!(
        answers.len() == jobs.len(),
        "sent {} jobs, got {} answers back",
        jobs.len(),
        answers.len()
    );
    for (i, (job, got)) in jobs.iter().zip(answers).enumerate() {
        let want = process(job);
        if *got != want {
            if got.id != want.id {
                fail!("answer #{i} has id {}, but job #{i} has id {}: answers must come back in the order of the jobs", got.id, want.id);
            }
            fail!(
                "answer #{i} (id {}) is not process(job): expected {} words and a {}-byte shouted text, got {} words and {} bytes",
                got.id,
                want.words,
                want.shouted.len(),
                got.words,
                got.shouted.len()
            );
        }
    }
    Ok(())
}

fn worker_alone() -> CheckResult {
    // The worker on its own, driven like any command-line program.
    let jobs = jobs(3, 40);
    let mut input = String::new();
    for job in &jobs {
        input.push_str(&serde_json::to_string(job)?);
        input.push('\n');
    }
    let started = std::time::Instant::now();
    let output = assert_cmd::Command::new(exe())
        .arg(worker::WORKER_ARG)
        .write_stdin(input)
        .timeout(LIMIT)
        .output()?;
    // assert_cmd kills a worker that outlives the limit. Whether it was
    // killed is told by the time, not by the exit status: on Windows a
    // killed process has an exit code like any other.
    ensure!(
        started.elapsed() < LIMIT,
        "the worker (`<this program> {}`) was given 3 job lines and then end-of-file, and was still running {limit} later. At end-of-file `lines()` ends: serve() should then return, and the worker exits.",
        worker::WORKER_ARG, limit = human::duration(LIMIT));
    // The first lines of its stderr: the panic message, not the backtrace.
    let stderr: Vec<String> = String::from_utf8_lossy(&output.stderr)
        .lines()
        .take_while(|l| !l.starts_with("stack backtrace") && !l.starts_with("note: "))
        .take(10)
        .map(str::to_string)
        .collect();
    let stderr = stderr.join("\n");
    ensure!(
        output.status.success(),
        "the worker (`<this program> {}`) was given 3 job lines and then end-of-file; it should answer and exit with success, but it {}.\nIts stderr:\n{}",
        worker::WORKER_ARG,
        check_harness::runner::describe_exit(output.status),
        stderr.trim()
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    let unreadable = lines
        .iter()
        .find(|l| serde_json::from_str::<serde_json::Value>(l).is_err());
    if let (false, Some(line)) = (lines.len() == 3, unreadable) {
        fail!(
            cause = ANSWER_NOT_JSON,
            "3 job lines in, so 3 answer lines out; the worker printed {} line(s), and {line:?} is not JSON:\n{stdout}",
            lines.len()
        );
    }
    ensure!(
        lines.len() == 3,
        "3 job lines in, so 3 answer lines out; the worker printed {} line(s):\n{stdout}",
        lines.len()
    );
    for (line, want) in lines.iter().zip(expected_answers(&jobs)) {
        let got: Answer = match serde_json::from_str(line) {
            Ok(a) => a,
            Err(e) => fail!(
                cause = ANSWER_NOT_JSON,
                "the worker printed {line:?}, which is not an Answer in JSON: {e}"
            ),
        };
        ensure!(
            got == want,
            "for job {} the worker answered {got:?}; expected {want:?}",
            want.id
        );
    }
    // A line that is not a job is an error the worker reports, not a panic.
    let mut out = Vec::new();
    match worker::serve(Cursor::new("this is not json\n"), &mut out) {
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => Ok(()),
        Err(e) => fail!("serve() on the line \"this is not json\": expected an InvalidData error, got {:?} ({e})", e.kind()),
        Ok(()) => fail!("serve() accepted the line \"this is not json\"; it should return an InvalidData error"),
    }
}

fn answers_as_it_goes() -> CheckResult {
    use std::process::{Command, Stdio};
    use std::sync::mpsc;

    // A conversation: one job, then wait for its answer with stdin still
    // open, then the next. A worker that holds its answers back until its
    // input ends never answers here, however long one waits.
    let timeline = timeline::Timeline::start("one job at a time, stdin kept open");
    let mut child = Command::new(exe())
        .arg(worker::WORKER_ARG)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let stdout = child.stdout.take().expect("stdout is piped");
    let (lines_tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let jobs = jobs(3, 40);
    let mut talk = || -> CheckResult {
        for (i, job) in jobs.iter().enumerate() {
            writeln!(stdin, "{}", serde_json::to_string(job)?)?;
            stdin.flush()?;
            if let Some(t) = &timeline {
                trace::instant(t.check_lane(), format!("sent job {i}"));
            }
            let waited = recv_unless_stuck(&lines, LIMIT);
            if let Some(t) = &timeline {
                match &waited {
                    Waited::Returned(_) => {
                        trace::instant(t.check_lane(), format!("answer {i} came"))
                    }
                    Waited::Closed => {}
                    hung => t.gave_up(matches!(hung, Waited::Stuck)),
                }
            }
            let line = match waited {
                Waited::Returned(line) => line?,
                Waited::Closed => fail!(
                    "the check sent the worker job {i} with its stdin still open, and the worker closed its stdout (exited?) instead of answering"
                ),
                hung => fail!(
                    "the check sent the worker job {i} as one line and kept its stdin open, as a parent that waits for each answer does; no answer came{}{}.\nThe worker must write each answer, and flush it, as soon as it has it: answers held in a buffer (a BufWriter never flushed), or input read to its end before anything is answered, reach the parent only after the parent has stopped sending.",
                    match hung {
                        Waited::Stuck => ": the worker was waiting for more input, and the check for its answer, so none could ever come".to_string(),
                        _ => format!(" in {limit}", limit = human::duration(LIMIT)),
                    },
                    if i == 0 { String::new() } else { format!(" (jobs 0..{i} were answered)") }
                ),
            };
            let got: Answer = match serde_json::from_str(&line) {
                Ok(a) => a,
                Err(e) => fail!(cause = ANSWER_NOT_JSON, "the worker answered job {i} with {line:?}, which is not an Answer in JSON: {e}"),
            };
            ensure!(
                got == process(job),
                "for job {} the worker answered {got:?}; expected {:?}",
                job.id,
                process(job)
            );
        }
        Ok(())
    };
    let verdict = talk();
    if verdict.is_err() {
        let _ = child.kill();
    }
    drop(stdin);
    let _ = child.wait();
    verdict
}

const DEADLOCK: &str = "pipe deadlock: write and read at the same time";

/// Runs the jobs through the learner's worker, turning a hang into the
/// message `hang` makes from how it ended ("did not return within 8s", or
/// the proof that nothing could move any more). A deadlock is named as
/// soon as it is proven (see `within_unless_stuck`); the limit only bounds
/// the wait where it cannot be.
fn run_within(
    jobs: Vec<Job>,
    hang: impl FnOnce(&str, Option<Jam>) -> String,
) -> Result<Finished, check_harness::Failure> {
    let timeline = timeline::Timeline::start(&format!("run_jobs: {}", describe(&jobs)));
    let waited = within_unless_stuck(LIMIT, move || run_jobs(jobs));
    let jam = matches!(waited, Waited::Stuck)
        .then(timeline::jam)
        .flatten();
    match (&waited, &timeline) {
        (Waited::Returned(_), Some(t)) => t.returned(),
        (_, Some(t)) => t.gave_up(matches!(waited, Waited::Stuck)),
        (_, None) => {}
    }
    match waited {
        // The worker here is your own `serve`: a line it wrote that is not
        // JSON is its mistake, whatever the parent made of it.
        Waited::Returned(Err(IpcError::Malformed { line, error }))
            if serde_json::from_str::<serde_json::Value>(&line).is_err() =>
        {
            fail!(
                cause = ANSWER_NOT_JSON,
                "run_jobs failed: your worker sent the line {line:?}, which is not JSON ({error})"
            )
        }
        Waited::Returned(Err(e)) => match tap::jobs_not_framed() {
            Some(failure) => Err(failure),
            None => fail!("run_jobs failed: {e}"),
        },
        Waited::Returned(Ok(finished)) => Ok(finished),
        _ if jam == Some(Jam::WaitsBeforeReading) => fail!(
            cause = WAITS_BEFORE_READING,
            "run_jobs was stuck for good: your parent was waiting for the worker to exit, while the worker was blocked writing answers that nobody read: a pipe holds only so much, and a worker whose answers fill it cannot go on, let alone exit."
        ),
        _ if jam == Some(Jam::StdinOpen) => fail!(
            cause = STDIN_KEPT_OPEN,
            "run_jobs was stuck for good: your parent was waiting for the worker to exit, while the worker was waiting for more input, with nothing in the pipe to it. The worker's input ends only when every handle to its stdin is closed."
        ),
        stuck => fail!("{}", hang(&stuck.how(), jam)),
    }
}

/// "4 jobs of 192 KiB", "2000 jobs of 30 bytes", for the trace.
fn describe(jobs: &[Job]) -> String {
    let size = match jobs.first().map_or(0, |j| j.text.len()) {
        b if b >= 1024 => format!("{} KiB", b / 1024),
        b => format!("{b} bytes"),
    };
    match jobs.len() {
        1 => format!("1 job of {size}"),
        n => format!("{n} jobs of {size}"),
    }
}

fn many_jobs_in_order() -> CheckResult {
    let jobs = jobs(2000, 30);
    let finished = run_within(jobs.clone(), |how, jam| {
        match jam {
            Some(Jam::BothFull) => format!("2000 small jobs did not come back: run_jobs {how}. Your parent was blocked writing jobs while the worker was blocked writing answers: {DEADLOCK}."),
            _ => format!("2000 small jobs did not come back: run_jobs {how}. Where does each job, and each answer, wait on its way?"),
        }
    })?;
    compare(&jobs, &finished.answers)
}

fn large_messages() -> CheckResult {
    // 4 jobs of 192 KiB: each message is far bigger than a pipe's buffer
    // (16 pages on Linux: 64 KiB with 4 KiB pages), in both directions.
    let jobs = jobs(4, 192 * 1024);
    let finished = run_within(jobs.clone(), |how, jam| {
        const PIPE: &str =
            "A pipe holds only 16 pages by default on Linux (64 KiB with 4 KiB pages)";
        match jam {
            Some(Jam::BothFull) => format!("{DEADLOCK}.\n4 jobs of 192 KiB each did not come back: run_jobs {how}. {PIPE}: while the parent is still writing jobs, the worker's answers fill the stdout pipe and it stops reading, so the parent's write blocks too. Write from one thread and read from another."),
            _ => format!("4 jobs of 192 KiB each did not come back: run_jobs {how}. {PIPE}: while your parent is still writing jobs, who reads the worker's answers as they fill the other pipe?"),
        }
    })?;
    compare(&jobs, &finished.answers)
}

fn clean_exit() -> CheckResult {
    // The worker stays alive after its output ends until run_jobs waits.
    let _gate = check_harness::gate::Gate::hold(EXIT_GATE);
    for count in [5, 0] {
        let finished = run_within(jobs(count, 20), |how, _| {
            format!("with {count} jobs, run_jobs {how}. The worker stops only at end-of-file on its stdin: drop the ChildStdin (all of it, also inside a BufWriter) before waiting for the worker.")
        })?;
        ensure!(
            finished.answers.len() == count as usize,
            "sent {count} jobs, got {} answers",
            finished.answers.len()
        );
        ensure!(
            !killed(finished.status),
            cause = KILLED_WHILE_ENDING,
            "with {count} jobs, the worker answered them all, saw end-of-file, closed its output and was on its way to exit with success, but your parent killed it (its status: {}).",
            check_harness::runner::describe_exit(finished.status)
        );
        ensure!(
            finished.status.success(),
            "with {count} jobs, the worker should end by itself at end-of-file and exit with success, but it {}. (Killing it is for a worker that misbehaves.)",
            check_harness::runner::describe_exit(finished.status)
        );
        if let Some(left) = check_harness::children::left_behind() {
            fail!(
                cause = WORKER_NOT_WAITED,
                "run_jobs returned, but {left}. Wait for the worker (child.wait()) before returning."
            );
        }
    }
    Ok(())
}

/// The check's misbehaving worker in `mode`.
fn check_worker(mode: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(exe());
    cmd.arg(CHECK_WORKER).arg(mode);
    cmd
}

fn malformed_line() -> CheckResult {
    // The worker answers job 0, sends half a line for job 1, then hangs.
    let result = within_unless_stuck(LIMIT, || {
        run_jobs_with(check_worker("malformed"), jobs(5, 20))
    });
    let result = match result {
        Waited::Returned(result) => result,
        hung => {
            let jam = matches!(hung, Waited::Stuck).then(timeline::jam).flatten();
            match jam {
                Some(Jam::ParentReads) => fail!(
                    cause = "reads-to-the-end",
                    "the worker answered job 0, then sent a line that is not an Answer and went silent; run_jobs_with {}, blocked reading the worker's output: it was still waiting for more (the end of a line, or of the output) from a worker that sends nothing more. Read one line at a time, and act on each line as it comes.",
                    hung.how()
                ),
                Some(Jam::WaitsBeforeReading) => fail!(
                    cause = WAITS_BEFORE_READING,
                    "the worker answered job 0, then sent a line that is not an Answer and went silent; run_jobs_with {}, waiting for the worker to exit before reading what it had sent.",
                    hung.how()
                ),
                _ => fail!(
                    "the worker answered job 0, then sent a line that is not an Answer and went silent; run_jobs_with {}.\nA line that does not parse is an error: stop, kill the worker (it will not end by itself), and still wait for it.",
                    hung.how()
                ),
            }
        }
    };
    match result {
        Err(IpcError::Malformed { line, .. }) => {
            ensure!(
                line.contains("\"words\": \"many"),
                "IpcError::Malformed should carry the bad line; it carries {line:?}"
            );
            if let Some(left) = check_harness::children::left_behind() {
                if left.ended {
                    fail!(
                        cause = WORKER_NOT_WAITED,
                        "run_jobs_with returned IpcError::Malformed, good; but {left}: it was ended, and then never waited for."
                    );
                }
                fail!("run_jobs_with returned IpcError::Malformed, good; but {left}. A worker that talks nonsense will not end by itself: kill it, then wait for it.");
            }
            Ok(())
        }
        Err(other) => match tap::jobs_not_framed() {
            Some(failure) => Err(failure),
            None => fail!(
                "the worker sent a line that is not an Answer; expected IpcError::Malformed, got {other:?}"
            ),
        },
        Ok(finished) => fail!(
            "the worker sent a line that is not an Answer, yet run_jobs_with returned Ok with {} answers",
            finished.answers.len()
        ),
    }
}

fn worker_crash() -> CheckResult {
    // The worker answers 3 jobs and then exits with code 3. The jobs are big
    // enough that the parent is still writing when it dies. Its pipes close
    // first, and it stays alive until run_jobs_with waits for it.
    let _gate = check_harness::gate::Gate::hold(EXIT_GATE);
    let result = within_unless_stuck(LIMIT, || {
        run_jobs_with(check_worker("crash"), jobs(40, 8 * 1024))
    });
    let result = match result {
        Waited::Returned(result) => result,
        hung => fail!(
            "the worker died after {ANSWERED_BEFORE_CRASH} answers; run_jobs_with {}.\nWhen its stdout ends early, the worker is gone: wait for it and report it.",
            hung.how()
        ),
    };
    match result {
        Err(IpcError::WorkerDied {
            answered,
            expected,
            status,
        }) => {
            if (answered, expected) != (ANSWERED_BEFORE_CRASH, 40) {
                if let Some(failure) = tap::jobs_not_framed() {
                    return Err(failure);
                }
            }
            ensure!(
                (answered, expected) == (ANSWERED_BEFORE_CRASH, 40),
                "the worker answered {ANSWERED_BEFORE_CRASH} of 40 jobs; WorkerDied says {answered} of {expected}"
            );
            if let Some(left) = check_harness::children::left_behind() {
                fail!(
                    cause = WORKER_NOT_WAITED,
                    "run_jobs_with returned WorkerDied carrying a status that {}, but {left}: that status is not the worker's, which only waiting for it gives.",
                    check_harness::runner::describe_exit(status)
                );
            }
            ensure!(
                !killed(status),
                cause = KILLED_WHILE_ENDING,
                "the worker closed its output after {ANSWERED_BEFORE_CRASH} answers and was on its way to exit with code 3, but your parent killed it, so WorkerDied carries a status that {}, not the worker's own.",
                check_harness::runner::describe_exit(status)
            );
            ensure!(
                status.code() == Some(3),
                "the worker exited with code 3; WorkerDied carries a status that {}",
                check_harness::runner::describe_exit(status)
            );
            Ok(())
        }
        Err(IpcError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => fail!(
            cause = "write-error-wins",
            "the worker died (exit code 3) after {ANSWERED_BEFORE_CRASH} answers, and run_jobs_with returned the writer's error ({e}) instead of IpcError::WorkerDied: a broken pipe only says the worker stopped reading; its answers and its exit status say what happened to it."
        ),
        Err(other) => fail!(
            "the worker died (exit code 3) after {ANSWERED_BEFORE_CRASH} answers; expected IpcError::WorkerDied, got {other:?}"
        ),
        Ok(finished) => fail!(
            "the worker died after {ANSWERED_BEFORE_CRASH} of 40 answers, yet run_jobs_with returned Ok with {} answers",
            finished.answers.len()
        ),
    }
}

fn no_shell() -> CheckResult {
    // First, how run_jobs really starts its worker: one started through a
    // shell says so. No other thread runs yet.
    let probe = check_harness::shell_probe::ShellProbe::arm();
    // Whatever else run_jobs does is the other checks' business: this one
    // only needs its worker to have started.
    let running = std::thread::spawn(|| run_jobs(jobs(1, 20)));
    let started = std::time::Instant::now();
    while probe.workers_seen().is_empty() && !running.is_finished() && started.elapsed() < LIMIT {
        // Paces the looking; the verdict is what the worker wrote.
        std::thread::sleep(Duration::from_millis(2));
    }
    ensure!(
        !probe.found_a_shell(),
        "run_jobs started the worker through a shell (sh -c or the like): a shell between the parent and the worker parses a command string, and any text in it becomes shell syntax. Start the worker with worker_command(): the program itself, with its arguments one by one."
    );
    let cmd = subject::worker_command()?;
    let program = std::path::PathBuf::from(cmd.get_program());
    let args: Vec<String> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let name = program
        .file_stem()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    ensure!(
        !["sh", "bash", "zsh", "cmd", "powershell", "pwsh"].contains(&name.as_str()),
        "worker_command() starts {}, a shell, with {args:?}: start the program itself, with its arguments one by one",
        program.display()
    );
    ensure!(
        program == exe(),
        "worker_command() starts {}; the worker is this same program, {} (std::env::current_exe())",
        program.display(),
        exe().display()
    );
    ensure!(
        args == [worker::WORKER_ARG],
        "worker_command() passes the arguments {args:?}; expected exactly [{:?}]",
        worker::WORKER_ARG
    );
    Ok(())
}
