//! The checks of step 6, isolation. Titles and hints live in course.toml;
//! run them with `cargo xtask check step6`.
//!
//! This binary is also the supervisor's worker: started with the worker
//! argument, it serves the risky jobs below instead of running checks. The
//! jobs misbehave for real (a panic, an abort, a hang that blocks forever,
//! garbage on stdout), and always the same way, so every verdict is exact.
//! The only time limit that matters is the supervisor's own (1 s for the
//! hanging job); each check also has a larger limit of its own, so a
//! supervisor that never gives up is reported as such instead of hanging.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use check_harness::trace::{self, Tone};
use check_harness::{ensure, fail, human, sync::within_after, Check, CheckResult};

#[cfg(all(feature = "exercise", not(feature = "solution")))]
use step6_isolation as subject;
#[cfg(feature = "solution")]
use step6_isolation_solution as subject;

mod signatures;

use subject::worker::{self, JobFn};
use subject::{Job, Outcome, Report, Supervisor};

mod shared;
mod timeline;

use timeline::check_lane;

/// A job's reply was the worker's first line (`ready`, or what a worker
/// that does not start well says instead): `Worker::start` did not read it.
const READY_TAKEN_AS_REPLY: &str = "ready-taken-as-reply";

/// The failure for [`READY_TAKEN_AS_REPLY`] if one of `outcomes`, which
/// `call` returned, holds a worker's first line as a job's reply.
fn first_line_as_reply(outcomes: &[Outcome], call: &str) -> Option<check_harness::Failure> {
    let line = outcomes.iter().find_map(|o| match o {
        Outcome::ProtocolError(line) if ["ready", "warming up"].contains(&line.trim()) => {
            Some(line.trim())
        }
        _ => None,
    })?;
    Some(check_harness::Failure::because(
        READY_TAKEN_AS_REPLY,
        format!(
            "{call} returned {outcomes:?}: a job's reply was `{line}`, the first line the worker writes once it has started, before any job. `Worker::start` must read that line; left unread, it is taken as the first job's reply, and every reply after it goes to the job after its own."
        ),
    ))
}

/// Not one job began in a worker, and jobs timed out: the requests never
/// reached the workers as whole lines (no line end, or never flushed).
const REQUEST_NOT_RECEIVED: &str = "request-not-received";

/// The risky jobs the worker knows.
const JOBS: &[(&str, JobFn)] = &[
    ("echo", echo),
    ("square", square),
    ("pid", pid),
    ("panic", panic_job),
    ("abort", abort_job),
    ("hang", hang_job),
    ("garbage", garbage_job),
];

fn echo(input: &str) -> String {
    shared::began("echo");
    // Held only where a check holds this gate (slow-start).
    check_harness::gate::pass(shared::REPLY_GATE);
    shared::finished("echo");
    format!("echo:{input}")
}

fn square(input: &str) -> String {
    shared::began("square");
    shared::finished("square");
    let n: u64 = input.trim().parse().unwrap_or(0);
    (n * n).to_string()
}

/// Which process ran the job: tells workers apart.
fn pid(_: &str) -> String {
    shared::began("pid");
    shared::finished("pid");
    std::process::id().to_string()
}

fn panic_job(_: &str) -> String {
    shared::began("panic");
    shared::linger_before_exit();
    timeline::tell("panic");
    // No message and no backtrace: printing a backtrace (RUST_BACKTRACE=1
    // in the environment) takes long enough on a busy machine to run into
    // the supervisor's time limit, and a message from the check's own
    // worker would only sit among the learner's output. The panic itself,
    // and the exit code 101 it ends the process with, are real.
    std::panic::set_hook(Box::new(|_| {}));
    panic!("the `panic` job panics on purpose");
}

fn abort_job(_: &str) -> String {
    shared::began("abort");
    timeline::tell("abort");
    std::process::abort();
}

/// Blocks forever on something that never comes. (No sleep: a park with
/// nobody to unpark it; the loop only guards against spurious wake-ups.)
fn hang_job(_: &str) -> String {
    shared::began("hang");
    loop {
        std::thread::park();
    }
}

/// Writes a line that is not a reply, and then the real reply after it.
fn garbage_job(_: &str) -> String {
    shared::began("garbage");
    shared::finished("garbage");
    timeline::tell("garbage");
    println!("%%% not a reply %%%");
    "late".to_string()
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some(worker::ROLE) {
        timeline::worker_started();
        shared::hold_life_if_asked();
        shared::note_own_exit();
        shared::before_ready();
        shared::bad_start_if_asked();
    }
    worker::run_if_requested(JOBS);
    check_harness::main(&[
        Check::new("reuse-worker", reuse_worker),
        Check::new("crash-status", crash_status),
        Check::new("hang-killed", hang_killed),
        Check::new("protocol-error", protocol_error),
        Check::new("restart-limit", restart_limit),
        Check::new("slow-start", slow_start),
        Check::new("failed-start", failed_start),
        Check::new("clean-shutdown", clean_shutdown),
        Check::new("run-leaves-the-worker", run_leaves_the_worker),
    ]);
}

/// The check's own limit: far above the supervisor's, it only turns a
/// supervisor that never returns into a clear message.
const CHECK_LIMIT: Duration = Duration::from_secs(12);

/// The supervisor's limit for one job.
const JOB_LIMIT: Duration = Duration::from_secs(1);

fn jobs(list: &[(&str, &str)]) -> Vec<Job> {
    list.iter()
        .map(|(name, input)| Job::new(name, input))
        .collect()
}

/// Once the last job has run, how long `run_all` may still take: sending
/// the reply, reading it, and shutting the last worker down take
/// milliseconds; this only catches a hang at the end, sooner than
/// [`CHECK_LIMIT`] would.
const END_GRACE: Duration = Duration::from_secs(3);

/// Runs the supervisor on its own thread, under the check's limit, then makes
/// sure it left no process behind.
fn supervise(max_restarts: usize, list: &[(&str, &str)]) -> Result<Report, check_harness::Failure> {
    supervise_with(&shared::Shared::new(), max_restarts, list)
}

fn supervise_with(
    shared: &shared::Shared,
    max_restarts: usize,
    list: &[(&str, &str)],
) -> Result<Report, check_harness::Failure> {
    supervise_telling(
        shared,
        max_restarts,
        list,
        "Every worker must be waited for: `shut_down` the last one, and `kill` then `wait` for the others.",
    )
}

/// The report's restart count differs from the workers started after the
/// first one.
const RESTARTS_MISCOUNTED: &str = "restarts-miscounted";

/// A worker whose output ended was not waited for: its outcome was decided
/// without its exit status.
const EXIT_NOT_WAITED: &str = "exit-not-waited";

/// [`supervise_with`], with what to say when a process is left behind.
fn supervise_telling(
    shared: &shared::Shared,
    max_restarts: usize,
    list: &[(&str, &str)],
    left_behind: &str,
) -> Result<Report, check_harness::Failure> {
    let supervisor = Supervisor {
        time_limit: JOB_LIMIT,
        max_restarts,
    };
    let jobs = jobs(list);
    let names: Vec<&str> = list.iter().map(|(name, _)| *name).collect();
    // The jobs that answer, in order: once the last of them has run in a
    // worker, only the reply and the shut-down are left.
    let answering: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| ["echo", "square", "pid"].contains(n))
        .collect();
    let last_answers = names.last().is_some_and(|n| answering.contains(n));
    let all_ran = || last_answers && shared.finished_jobs().len() >= answering.len();
    trace::instant(check_lane(), format!("run_all({} jobs)", list.len()));
    let report = within_after(
        CHECK_LIMIT,
        move || supervisor.run_all(&jobs),
        &all_ran,
        END_GRACE,
    );
    if report.is_some() {
        trace::instant_toned(check_lane(), "returned", Tone::Good);
    } else {
        trace::instant_toned(check_lane(), "gave up", Tone::Fault);
    }
    shared.settle_trace();
    let Some(report) = report else {
        // The workers' lanes show what is still running or hung.
        trace::explains_failure(true);
        if all_ran() {
            return Err(check_harness::Failure::because(
                "stuck-at-the-end",
                format!("every job of run_all({names:?}) has run in a worker and answered, but run_all did not return {} after the last one: it is stuck at the end. What does it wait for then, and what must happen before that wait can end?", human::duration(END_GRACE)),
            ));
        }
        fail!(
            "run_all({names:?}) did not return within {}, although each job may take only {}. Is it waiting for a reply without a time limit, or waiting for a hung worker it never killed?",
            human::duration(CHECK_LIMIT),
            human::duration(JOB_LIMIT)
        );
    };
    ensure!(
        report.outcomes.len() == list.len(),
        "run_all got {} jobs ({names:?}) and returned {} outcomes: {:?}\nexpected exactly one outcome per job, in order",
        list.len(),
        report.outcomes.len(),
        report.outcomes
    );
    if let Some(failure) = first_line_as_reply(&report.outcomes, &format!("run_all({names:?})")) {
        return Err(failure);
    }
    let timed_out = report
        .outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::TimedOut))
        .count();
    if timed_out > 0 && shared.begun_jobs().is_empty() {
        // Every worker said `ready` and then waited for a request; the
        // journal shows that not one job began in any of them.
        return Err(check_harness::Failure::because(
            REQUEST_NOT_RECEIVED,
            format!(
                "run_all({names:?}) returned the outcomes {:?}, yet not one job began in any worker: each worker said `ready` and then waited for a request line that never reached it whole, so every job ran out of time. A worker reads one request per line.",
                report.outcomes
            ),
        ));
    }
    let prefixed: Vec<&str> = report
        .outcomes
        .iter()
        .filter_map(ok_text)
        .filter(|text| text.starts_with("ok "))
        .collect();
    if !prefixed.is_empty() {
        return Err(check_harness::Failure::because(
            "reply-prefix-kept",
            format!(
                "run_all({names:?}) returned the outcomes {:?}: {} of them still start with `ok `. The worker's reply line is `ok <result>`, and an `Outcome::Ok` holds the result alone.",
                report.outcomes,
                prefixed.len()
            ),
        ));
    }
    if let Some(left) = check_harness::children::left_behind() {
        // The lanes show which worker is still running, or never waited for.
        trace::explains_failure(true);
        let message = format!("after run_all({names:?}) returned, {left}. {left_behind}");
        if left.ended {
            return Err(check_harness::Failure::because("ended-not-waited", message));
        }
        fail!("{message}");
    }
    Ok(report)
}

fn ok_text(outcome: &Outcome) -> Option<&str> {
    match outcome {
        Outcome::Ok(text) => Some(text),
        _ => None,
    }
}

fn reuse_worker() -> CheckResult {
    let report = supervise(
        3,
        &[("echo", "hello"), ("square", "7"), ("pid", ""), ("pid", "")],
    )?;
    let o = &report.outcomes;
    ensure!(
        ok_text(&o[0]) == Some("echo:hello") && ok_text(&o[1]) == Some("49"),
        "jobs `echo hello` and `square 7` should come back as Ok(\"echo:hello\") and Ok(\"49\"); got {:?} and {:?}",
        o[0],
        o[1]
    );
    let (Some(a), Some(b)) = (ok_text(&o[2]), ok_text(&o[3])) else {
        fail!(
            "the `pid` jobs should succeed; got {:?} and {:?}",
            o[2],
            o[3]
        );
    };
    ensure!(
        a != std::process::id().to_string(),
        "the `pid` job ran in the supervisor's own process ({a}); jobs must run in a worker process"
    );
    // The lanes show one worker per process the jobs ran in.
    trace::explains_failure(a != b || report.restarts != 0);
    ensure!(
        a == b,
        "two `pid` jobs in a row ran in two different processes ({a} and {b}); while jobs succeed, keep using the same worker"
    );
    ensure!(
        report.restarts == 0,
        cause = RESTARTS_MISCOUNTED,
        "every job succeeded, so no worker needed replacing; the report says restarts = {}",
        report.restarts
    );
    Ok(())
}

/// [`supervise`], where each `panic` job first closes its worker's pipes
/// and stays alive until the supervisor waits for it: a supervisor that
/// asks once whether the process has exited (try_wait) gets "not yet", one
/// that waits gets the exit status (see
/// [`check_harness::gate::close_pipes_and_linger`]).
fn supervise_crashes(
    max_restarts: usize,
    list: &[(&str, &str)],
) -> Result<Report, check_harness::Failure> {
    let shared = shared::Shared::new();
    let _gate = check_harness::gate::Gate::hold(shared::EXIT_GATE);
    supervise_with(&shared, max_restarts, list)
}

fn crash_status() -> CheckResult {
    let report = supervise_crashes(
        5,
        &[
            ("pid", ""),
            ("panic", ""),
            ("pid", ""),
            ("abort", ""),
            ("pid", ""),
        ],
    )?;
    let o = &report.outcomes;
    // The panicking worker's lane shows it close its pipes, stay alive,
    // and how it ended: exited once waited for, or killed.
    trace::explains_failure(!matches!(o[1], Outcome::Crashed(_)));
    match &o[1] {
        Outcome::Crashed(status) => ensure!(
            status.code() == Some(101),
            "a panic ends a Rust process with exit code 101; the `panic` job's outcome says {status}"
        ),
        Outcome::ProtocolError(said) => {
            return Err(check_harness::Failure::because(
                EXIT_NOT_WAITED,
                format!("the `panic` job killed its worker process (exit code 101); expected Outcome::Crashed with that status, got ProtocolError({said:?}). The check kept that worker alive for a moment after it closed its stdout, as a dying process may be, and run_all decided without its exit status.")
            ))
        }
        other => fail!(
            "the `panic` job killed its worker process (exit code 101); expected Outcome::Crashed with that status, got {other:?}."
        ),
    }
    match &o[3] {
        Outcome::Crashed(status) => {
            ensure!(
                !status.success(),
                "the `abort` job's worker did not end successfully, but the outcome says {status}"
            );
            #[cfg(unix)]
            {
                use std::os::unix::process::ExitStatusExt;
                ensure!(
                    status.signal() == Some(libc::SIGABRT),
                    "an abort ends the process with the signal SIGABRT ({}); the `abort` job's outcome says {status}",
                    libc::SIGABRT
                );
            }
        }
        other => fail!(
            "the `abort` job killed its worker process; expected Outcome::Crashed with its status, got {other:?}"
        ),
    }
    let pids: Vec<Option<&str>> = [0, 2, 4].iter().map(|&i| ok_text(&o[i])).collect();
    let [Some(a), Some(b), Some(c)] = pids[..] else {
        fail!(
            "the `pid` jobs before and after each crash should succeed in a fresh worker; got {:?}, {:?}, {:?}",
            o[0],
            o[2],
            o[4]
        );
    };
    trace::explains_failure(!(a != b && b != c && a != c) || report.restarts != 2);
    ensure!(
        a != b && b != c && a != c,
        "after each crash the next job must run in a new worker; the `pid` jobs ran in processes {a}, {b}, {c}"
    );
    ensure!(
        report.restarts == 2,
        cause = RESTARTS_MISCOUNTED,
        "two workers died, so two were started to replace them; the report says restarts = {}",
        report.restarts
    );
    Ok(())
}

fn hang_killed() -> CheckResult {
    let report = supervise(3, &[("hang", ""), ("echo", "after")])?;
    let o = &report.outcomes;
    // The hung worker's lane against its limit on the check's, and the
    // worker after it.
    trace::explains_failure(
        o[0] != Outcome::TimedOut || ok_text(&o[1]) != Some("echo:after") || report.restarts != 1,
    );
    ensure!(
        o[0] == Outcome::TimedOut,
        "the `hang` job never answers; after the {} limit its outcome should be TimedOut, got {:?}",
        human::duration(JOB_LIMIT),
        o[0]
    );
    ensure!(
        ok_text(&o[1]) == Some("echo:after"),
        "the job after the hang should run in a fresh worker and succeed with Ok(\"echo:after\"); got {:?}",
        o[1]
    );
    ensure!(
        report.restarts == 1,
        cause = RESTARTS_MISCOUNTED,
        "the hung worker was replaced once; the report says restarts = {}",
        report.restarts
    );
    Ok(())
}

fn protocol_error() -> CheckResult {
    let report = supervise(3, &[("garbage", ""), ("echo", "next")])?;
    let o = &report.outcomes;
    match &o[0] {
        Outcome::ProtocolError(line) => ensure!(
            line.contains("not a reply"),
            "the `garbage` job printed `%%% not a reply %%%`; ProtocolError should carry that line, got {line:?}"
        ),
        other => fail!(
            "the `garbage` job printed `%%% not a reply %%%` before its reply; expected Outcome::ProtocolError with that line, got {other:?}"
        ),
    }
    // Which worker ran `echo` after the garbage: the same one, or a new one.
    trace::explains_failure(ok_text(&o[1]) != Some("echo:next"));
    ensure!(
        ok_text(&o[1]) == Some("echo:next"),
        "the job after the garbage should get its own reply, Ok(\"echo:next\"); got {:?}.{}",
        o[1],
        if ok_text(&o[1]) == Some("late") {
            " That is the garbage job's late reply: a worker that broke the protocol is out of step, replace it"
        } else {
            ""
        }
    );
    Ok(())
}

fn restart_limit() -> CheckResult {
    let report = supervise_crashes(
        1,
        &[("panic", ""), ("panic", ""), ("echo", "a"), ("echo", "b")],
    )?;
    let o = &report.outcomes;
    // How many workers were started, and how each one ended.
    trace::explains_failure(
        !(matches!(o[0], Outcome::Crashed(_)) && matches!(o[1], Outcome::Crashed(_)))
            || o[2] != Outcome::NotRun
            || o[3] != Outcome::NotRun
            || report.restarts != 1,
    );
    ensure!(
        !o[..2].iter().any(|x| matches!(x, Outcome::ProtocolError(_))),
        cause = EXIT_NOT_WAITED,
        "with max_restarts = 1, the first `panic` job crashes the first worker and the second crashes its one replacement; expected two Crashed, got {:?} and {:?}. The check kept each `panic` worker alive for a moment after it closed its stdout, and run_all decided without its exit status.",
        o[0],
        o[1]
    );
    ensure!(
        matches!(o[0], Outcome::Crashed(_)) && matches!(o[1], Outcome::Crashed(_)),
        "with max_restarts = 1, the first `panic` job crashes the first worker and the second crashes its one replacement; expected two Crashed, got {:?} and {:?}.",
        o[0],
        o[1]
    );
    ensure!(
        o[2] == Outcome::NotRun && o[3] == Outcome::NotRun,
        "the one allowed restart is used up, so the last two jobs should be NotRun; got {:?} and {:?}",
        o[2],
        o[3]
    );
    ensure!(
        report.restarts == 1,
        cause = RESTARTS_MISCOUNTED,
        "one restart was allowed and used; the report says {}",
        report.restarts
    );
    Ok(())
}

/// The first job's time limit ran while its worker was starting.
const LIMIT_COUNTS_THE_START: &str = "limit-counts-the-start";

/// How long the check holds back the first worker's `ready`: twice
/// the job's time limit, so a supervisor that counts the start against the
/// job's limit, or gives the start a limit of its own shorter than this,
/// gives up on a worker that was only slow.
const START_HOLD: Duration = Duration::from_secs(2);

/// How long the reply of slow-start's first job waits, at most, for the
/// supervisor to be seen waiting for it: far within the job's limit, so a
/// right answer that is never seen asleep (it polls) still gets its reply.
const REPLY_HOLD: Duration = Duration::from_millis(300);

fn slow_start() -> CheckResult {
    let shared = shared::Shared::new();
    // The first worker stops before its `ready` line until the check lets
    // go; any worker started after it goes on at once.
    let mut start = check_harness::gate::Gate::hold(shared::START_GATE);
    // The first job's reply waits until the supervisor waits for it: one
    // that gives the job no time left (its limit ran while the worker was
    // starting) has then given up already, however fast the worker is.
    let mut reply = check_harness::gate::Gate::hold(shared::REPLY_GATE);
    let returned = AtomicBool::new(false);
    let report = std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(START_HOLD);
            start.release();
            trace::instant(check_lane(), "opens the start gate");
            release_when_waited_for(&mut reply, &shared, &returned);
        });
        // Also when run_all panics (an unwritten `todo!()`): the thread
        // above then stops waiting for a job to begin, and the panic is
        // reported at once, not as a check that never ends.
        let _returned = SetOnDrop(&returned);
        supervise_with(&shared, 2, &[("echo", "slow"), ("pid", "")])
    });
    let report = report?;
    let o = &report.outcomes;
    // The workers held at the start, and what the supervisor did meanwhile.
    trace::explains_failure(
        !(ok_text(&o[0]) == Some("echo:slow") && ok_text(&o[1]).is_some() && report.restarts == 0),
    );
    let outcomes_right = ok_text(&o[0]) == Some("echo:slow") && ok_text(&o[1]).is_some();
    ensure!(
        shared.held_worker_let_go() != Some(false),
        "the check held the first worker back for {} before it wrote `ready` (a process can take that long to start on a busy machine), and run_all gave up on it: that worker was killed while it was still starting. The outcomes are {:?} with restarts = {}. Wait for `ready` without a time limit: the job's limit starts when the job is sent.",
        human::duration(START_HOLD),
        o,
        report.restarts
    );
    ensure!(
        !outcomes_right || report.restarts == 0,
        cause = "restarts-miscounted",
        "the check held the worker back for {} before it wrote `ready`; run_all waited for it, and both outcomes are right, {:?}, but it reports restarts = {}: that one worker ran both jobs, so nothing was restarted.",
        human::duration(START_HOLD),
        o,
        report.restarts
    );
    // It waited for `ready`, yet a job that answers at once timed out: its
    // limit had run while the worker was starting.
    ensure!(
        !(shared.held_worker_let_go() == Some(true) && o[0] == Outcome::TimedOut),
        cause = LIMIT_COUNTS_THE_START,
        "the check held the first worker back for {} before it wrote `ready`, and run_all waited for it, but then the first job, `echo`, which answers at once, timed out: the outcomes are {:?}. Its {} limit had run while the worker was still starting. A job's time limit starts when the job has been sent to a ready worker, in `Worker::run`, not when run_all picks the job up.",
        human::duration(START_HOLD),
        o,
        human::duration(JOB_LIMIT)
    );
    ensure!(
        outcomes_right || matches!(o[0], Outcome::Ok(_)),
        "the check held the worker back for {} before it wrote `ready` (a process can take that long to start on a busy machine), and run_all gave up on it: the outcomes are {:?} with restarts = {}. Expected Ok(\"echo:slow\") and a `pid` reply from that same worker, no restarts. Wait for `ready` without a time limit: the job's limit starts when the job is sent.",
        human::duration(START_HOLD),
        o,
        report.restarts
    );
    ensure!(
        outcomes_right,
        "the check held the worker back for {} before it wrote `ready`; the outcomes are {:?}. Expected Ok(\"echo:slow\") and a `pid` reply from that same worker.",
        human::duration(START_HOLD),
        o
    );
    Ok(())
}

/// Sets its flag when dropped: when the code it guards returns or panics.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Opens `reply` once the first job has begun in a worker and everything
/// is asleep (the supervisor waiting for the reply), or [`REPLY_HOLD`]
/// after the job began; at once if `run_all` returned with no job begun.
fn release_when_waited_for(
    reply: &mut check_harness::gate::Gate,
    shared: &shared::Shared,
    returned: &AtomicBool,
) {
    use check_harness::settle::{descendants, settled};
    let began = loop {
        if shared.begun_jobs().iter().any(|j| j == "echo") {
            break true;
        }
        if returned.load(Ordering::SeqCst) {
            break false;
        }
        // Paces the looking; what decides is the journal.
        std::thread::sleep(Duration::from_millis(1));
    };
    if began {
        // Settled, or not within the bound: the reply goes either way.
        let _ = settled(&|| Some(descendants()), REPLY_HOLD);
    }
    reply.release();
    trace::instant(check_lane(), "lets the first reply go");
}

/// Every worker the supervisor starts says something other than `ready`
/// and then hangs (`talk`), or exits before saying anything (`end`).
fn failed_start() -> CheckResult {
    for (how, what) in [
        (
            "talk",
            "said `warming up` instead of `ready` and then hung, its stdin closed or not",
        ),
        ("end", "exited (code 3) before it said `ready`"),
    ] {
        let shared = shared::Shared::new();
        // One check per process, and the supervisor starts its workers later.
        std::env::set_var(shared::BAD_START, how);
        let report = supervise_telling(
            &shared,
            2,
            &[("echo", "a"), ("echo", "b")],
            &format!("Every worker of this run {what}: Worker::start returns an error for such a worker, and a worker that cannot be trusted is killed and waited for before that error is returned."),
        );
        std::env::remove_var(shared::BAD_START);
        let report = report?;
        ensure!(
            report.outcomes.iter().all(|o| *o == Outcome::NotRun),
            "every worker the supervisor started {what}, so no job could run: each job's outcome should be NotRun; got {:?}",
            report.outcomes
        );
    }
    Ok(())
}

/// The last worker is healthy: run_all must let it go (close its stdin, so
/// that it leaves its loop and exits), not kill it.
fn clean_shutdown() -> CheckResult {
    let shared = shared::Shared::new();
    // Each worker that exits by itself waits on its way out until the
    // supervisor waits for it: a kill always finds it still alive.
    let _gate = check_harness::gate::Gate::hold(shared::CLEAN_EXIT_GATE);
    let report = supervise_with(&shared, 1, &[("echo", "last"), ("pid", "")])?;
    let o = &report.outcomes;
    let Some(pid) = ok_text(&o[1]) else {
        fail!(
            "the jobs `echo last` and `pid` should both succeed in one worker; got {:?}",
            o
        );
    };
    // A worker can tell that it exits by itself only through a C runtime
    // exit hook (see `shared::note_own_exit`), which std's exit on Windows
    // does not run: there only the run above is checked.
    if cfg!(not(unix)) {
        return Ok(());
    }
    let exits = shared.own_exits();
    ensure!(
        exits.iter().any(|p| p == pid),
        "every job succeeded, so the last worker (process {pid}) was healthy when run_all was done with it, but it did not exit by itself: something ended it from outside. A healthy worker leaves its loop once its stdin closes and then exits with code 0, and waiting for that is all `shut_down` needs; `kill` is for a worker that cannot be trusted."
    );
    Ok(())
}

/// `Worker::run` on a job that never answers: it reports `TimedOut`, and the
/// worker is still alive afterwards (what to do with it is `run_all`'s
/// business). Alive is proven by the worker's lock on a file the check
/// cannot take ([`shared::LIFE`]).
fn run_leaves_the_worker() -> CheckResult {
    // In the check's own folder, which the grader removes after the run.
    let life_path = std::env::current_dir()?.join("worker-life");
    let life = std::fs::File::create(&life_path)?;
    // One check per process, and no worker started yet.
    std::env::set_var(shared::LIFE, &life_path);
    let mut worker = subject::Worker::start()?;
    std::env::remove_var(shared::LIFE);
    let limit = Duration::from_millis(300);
    let outcome = worker.run(&Job::new("hang", ""), limit);
    if let Some(failure) = first_line_as_reply(std::slice::from_ref(&outcome), "Worker::run") {
        return Err(failure);
    }
    ensure!(
        outcome == Outcome::TimedOut,
        "the `hang` job never answers; Worker::run with a limit of {} should return TimedOut, got {outcome:?}",
        human::duration(limit)
    );
    match life.try_lock() {
        Err(std::fs::TryLockError::WouldBlock) => {}
        Ok(()) => fail!(
            cause = "run-kills",
            "Worker::run returned {outcome:?} for the `hang` job, and by then the worker process had ended: run ended it. Deciding what becomes of a worker that timed out is run_all's part (it kills and replaces it); run only says what happened."
        ),
        Err(std::fs::TryLockError::Error(e)) => return Err(e.into()),
    }
    worker.kill();
    Ok(())
}
