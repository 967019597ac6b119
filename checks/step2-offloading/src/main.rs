//! The checks of step 2, parallelism basics. Titles and hints live in
//! course.toml; run them with `cargo xtask check step2`.
//!
//! Nothing here measures time. To prove the loop kept answering while a job
//! ran, the job waits on a latch that the check opens only after the loop
//! has answered other events. A loop that runs the job itself never answers
//! them, and `within` turns that deadlock into a precise message.
//!
//! For the child-process jobs, "this program" is the checks binary: `main`
//! lets it act as the worker first. When a check sets `STEP2_CHECK_GATE`,
//! the worker also waits for a byte from the check before it works: the same
//! latch, across a process boundary.
//!
//! "Waits instead of spinning" is told apart by CPU time, not by a stopwatch:
//! while the loop has nothing to do but wait, the check burns a known amount
//! of its own CPU time and reads how much the loop's thread used meanwhile
//! (see `check_harness::cpu`).
//!
//! Every check records a trace (`check_harness::trace`): what it sent, when
//! a reply came back, and where each gated job ran (on the loop's own thread
//! or another). When the loop goes silent, the grader draws it under the
//! message: the job's span on the loop's lane, the pings answered late.

use std::any::Any;
use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use check_harness::cpu::{self, ThreadClock};
use check_harness::sync::{within, within_unless_stuck, Latch, Waited};
use check_harness::timer_poll;
use check_harness::trace::{self, LaneKind, Tone};
use check_harness::{ensure, fail, human, Check, CheckResult};
use crossbeam_channel::{unbounded, Receiver, Sender, TryRecvError};

#[cfg(all(feature = "exercise", not(feature = "solution")))]
use step2_offloading as subject;
#[cfg(feature = "solution")]
use step2_offloading_solution as subject;

mod signatures;

use subject::{heavy_work, Event, Reply};

/// Set by a check for its worker children: the address to wait on.
const GATE_ENV: &str = "STEP2_CHECK_GATE";
/// Set by `child-same-result` for its worker children: a file the worker
/// creates when it was started through a shell.
fn main() {
    check_harness::shell_probe::note_if_started_by_shell(subject::worker::WORKER_ARG);
    wait_at_gate_if_worker();
    misbehave_if_asked();
    subject::worker::run_if_requested();
    check_harness::main(&[
        Check::new("answers-pings", answers_pings),
        Check::new("stays-responsive", stays_responsive),
        Check::new("result-once", result_once),
        Check::new("panic-is-an-error", panic_is_an_error),
        Check::new("child-same-result", child_same_result),
        Check::new("child-off-the-loop", child_off_the_loop),
        Check::new("child-errors", child_errors),
    ]);
}

/// Set by `child-errors` for the worker children it makes `run_in_child`
/// start (they are this checks binary): how the worker goes wrong.
const MISBEHAVE_ENV: &str = "STEP2_CHECK_WORKER_GOES_WRONG";

/// The right number and a failed exit: a `run_in_child` that reads the
/// output and not the exit status returns `Ok`.
const FAILS_AFTER_PRINTING: &str = "fails-after-printing";
/// A success with words instead of digits.
const PRINTS_WORDS: &str = "prints-words";
/// What the wordy worker prints.
const WORDS: &str = "forty-two";
/// The failing worker's exit status.
const FAILED_STATUS: i32 = 3;

/// In a worker child started during `child-errors`: go wrong as asked.
fn misbehave_if_asked() {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() != Some(subject::worker::WORKER_ARG) {
        return;
    }
    let n: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    match std::env::var(MISBEHAVE_ENV).as_deref() {
        Ok(FAILS_AFTER_PRINTING) => {
            println!("{}", heavy_work(n));
            eprintln!("the worker gave up");
            std::process::exit(FAILED_STATUS)
        }
        Ok(PRINTS_WORDS) => {
            println!("{WORDS}");
            std::process::exit(0)
        }
        _ => {}
    }
}

/// In a worker child started during `child-off-the-loop`: connect to the
/// check and wait until it sends one byte (or goes away).
fn wait_at_gate_if_worker() {
    let is_worker = std::env::args().nth(1).as_deref() == Some(subject::worker::WORKER_ARG);
    if let (true, Ok(addr)) = (is_worker, std::env::var(GATE_ENV)) {
        if let Ok(mut stream) = TcpStream::connect(addr) {
            let _ = stream.read(&mut [0u8]);
        }
    }
}

/// How long a loop may stay silent before we call it blocked.
const LIMIT: Duration = Duration::from_secs(5);

/// The name of the thread `run` runs on.
const LOOP_THREAD: &str = "event-loop";

/// The trace's lane for the check's own doings.
fn check_lane() -> trace::Lane {
    trace::lane("check", LaneKind::Check)
}

/// The trace's lane for the learner's loop.
fn loop_lane() -> trace::Lane {
    trace::lane("your loop", LaneKind::Loop)
}

/// Puts a reply the check received on the loop's lane (it sent it a moment
/// before): for the picture only.
fn trace_reply(reply: &Reply) {
    let label = match reply {
        Reply::Pong(n) => format!("Pong({n})"),
        Reply::Done { id, .. } => format!("Done {id}"),
    };
    trace::instant_toned(loop_lane(), label, Tone::Good);
}

/// A loop running on its own thread, as the check sees it from outside.
struct Loop {
    events: Option<Sender<Event>>,
    replies: Receiver<Reply>,
    handle: Option<JoinHandle<()>>,
    /// The CPU clock of the loop's thread (Linux only).
    clock: Option<ThreadClock>,
    /// Jobs whose Done already came back.
    done: HashSet<u64>,
    /// Skip a second Done for the same job. Only `result-once` judges how
    /// often a result comes back; the other checks look past a duplicate so
    /// that a result sent twice is reported by the check that names it.
    skip_duplicates: bool,
}

/// What the loop did next.
enum Next {
    Reply(Reply),
    /// `run` returned: the replies channel is closed and empty.
    Ended,
    /// Nothing within `LIMIT`.
    Silent,
    /// `run` panicked (the payload).
    Panicked(Box<dyn Any + Send>),
}

/// Abandons the latch the loop's jobs count down as they begin when the
/// loop's thread panics (an unwritten `todo!()`): the check then reports the
/// panic at once instead of waiting [`LIMIT`] for jobs that cannot start.
struct AbandonOnPanic(Option<Arc<Latch>>);

impl Drop for AbandonOnPanic {
    fn drop(&mut self) {
        if let (true, Some(latch)) = (thread::panicking(), &self.0) {
            latch.abandon();
        }
    }
}

impl Loop {
    fn start() -> Loop {
        Loop::start_inner(None)
    }

    /// A loop whose jobs count `started` down as they begin.
    fn start_counting(started: &Arc<Latch>) -> Loop {
        Loop::start_inner(Some(Arc::clone(started)))
    }

    fn start_inner(started: Option<Arc<Latch>>) -> Loop {
        let (events, ev_rx) = unbounded();
        let (rep_tx, replies) = unbounded();
        let (clock_tx, clock_rx) = std::sync::mpsc::channel();
        let handle = thread::Builder::new()
            .name(LOOP_THREAD.into())
            .spawn(move || {
                let _abandon = AbandonOnPanic(started);
                let _ = clock_tx.send(ThreadClock::current());
                subject::run(ev_rx, rep_tx)
            })
            .expect("spawn the loop's thread");
        Loop {
            events: Some(events),
            replies,
            handle: Some(handle),
            clock: clock_rx.recv().ok().flatten(),
            done: HashSet::new(),
            skip_duplicates: true,
        }
    }

    /// Sends an event. If the loop is gone, the next `next` says why.
    fn send(&self, event: Event) {
        let label = match &event {
            Event::Ping(n) => format!("Ping({n})"),
            Event::OnThread { id, .. } => format!("job {id}"),
            Event::InChild { id, .. } => format!("child job {id}"),
        };
        trace::instant(check_lane(), format!("sent {label}"));
        if let Some(events) = &self.events {
            let _ = events.send(event);
        }
    }

    /// Drops the last sender: the loop's input is closed.
    fn close(&mut self) {
        trace::instant(check_lane(), "closed input");
        self.events = None;
    }

    /// After the check has failed, for the picture only: records the
    /// replies that still come within a second (a blocked loop's late
    /// answers, once the check let its job go). The verdict is decided.
    fn linger(&self) {
        let until = std::time::Instant::now() + Duration::from_secs(1);
        while let Some(left) = until.checked_duration_since(std::time::Instant::now()) {
            match self
                .replies
                .recv_timeout(left.min(Duration::from_millis(200)))
            {
                Ok(reply) => trace_reply(&reply),
                Err(_) => break,
            }
        }
    }

    /// The next reply. A loop that stays silent for `LIMIT` is blocked:
    /// `within` turns that into `Silent`, and the check fails with a message
    /// that says so. (Its waiting thread is left behind, so a check never
    /// asks again after `Silent`.)
    fn next(&mut self) -> Next {
        loop {
            let replies = self.replies.clone();
            let next = match within(LIMIT, move || {
                let reply = replies.recv();
                if let Ok(reply) = &reply {
                    trace_reply(reply);
                }
                reply
            }) {
                Some(Ok(reply)) => Next::Reply(reply),
                None => {
                    trace::instant_toned(
                        check_lane(),
                        format!("no reply in {} s", LIMIT.as_secs()),
                        Tone::Fault,
                    );
                    trace::explains_failure(true);
                    Next::Silent
                }
                Some(Err(_)) => self.ended(),
            };
            if let Next::Reply(Reply::Done { id, .. }) = &next {
                if !self.done.insert(*id) && self.skip_duplicates {
                    continue;
                }
            }
            return next;
        }
    }

    /// While the loop has nothing to do but wait (its input closed, every
    /// job held at the check's gate): burns `amount` of this thread's own
    /// CPU time, watching for a reply or the end of `run`. `Silent` is the
    /// good answer, with the CPU time the loop's thread used meanwhile.
    fn idle_while_waiting(&mut self, amount: Duration) -> (Next, Option<Duration>) {
        let mut seen = None;
        let (_, used) =
            cpu::demand_while_burning(self.clock, amount, || match self.replies.try_recv() {
                Ok(reply) => {
                    trace_reply(&reply);
                    seen = Some(Ok(reply));
                    true
                }
                Err(TryRecvError::Disconnected) => {
                    seen = Some(Err(()));
                    true
                }
                Err(TryRecvError::Empty) => false,
            });
        let next = match seen {
            None => Next::Silent,
            Some(Ok(reply)) => Next::Reply(reply),
            Some(Err(())) => self.ended(),
        };
        (next, used)
    }

    /// After a wait for jobs to start that did not see them all start: if
    /// the wait ended because `run` panicked (`started` abandoned), that
    /// panic is the check's verdict, whatever had started by then (a later
    /// reply or the end of `run` would report it too).
    fn report_a_panic(&mut self, started: &Latch) {
        if started.abandoned() {
            // The loop's thread is unwinding: the join returns its panic.
            if let Some(Err(payload)) = self.handle.take().map(JoinHandle::join) {
                std::panic::resume_unwind(payload);
            }
        }
    }

    /// The replies channel closed: `run` returned or panicked.
    fn ended(&mut self) -> Next {
        match self.handle.take().map(JoinHandle::join) {
            Some(Err(payload)) => Next::Panicked(payload),
            _ => Next::Ended,
        }
    }

    /// The next reply, which must be `expected`; `doing` says what the loop
    /// was busy with, for the message.
    fn expect(&mut self, expected: Reply, silent: &str) -> CheckResult {
        match self.next() {
            Next::Reply(reply) if reply == expected => Ok(()),
            Next::Reply(reply) => fail!("expected {expected:?} next, but the loop sent {reply:?}"),
            Next::Silent => fail!("{silent}"),
            Next::Ended => fail!(
                "expected {expected:?}, but run() returned (the replies channel closed) before sending it"
            ),
            Next::Panicked(payload) => std::panic::resume_unwind(payload),
        }
    }

    /// After `close`: `run` must return, and send nothing more on the way.
    /// A `run` that never will is caught as soon as that is proven (every
    /// thread asleep, see `within_unless_stuck`), not after `LIMIT`.
    fn expect_end(&mut self) -> CheckResult {
        let next = loop {
            let replies = self.replies.clone();
            let reply = match within_unless_stuck(LIMIT, move || replies.recv()) {
                Waited::Returned(Ok(reply)) => reply,
                Waited::Returned(Err(_)) | Waited::Closed => break self.ended(),
                hung => {
                    let how = match hung {
                        Waited::Stuck => "stuck: run() waits".to_string(),
                        _ => format!("no end in {} s", LIMIT.as_secs()),
                    };
                    trace::instant_toned(check_lane(), how, Tone::Fault);
                    trace::explains_failure(true);
                    return Err(check_harness::Failure::because(
                        RUN_NEVER_RETURNS,
                        format!(
                            "the input channel was closed and every job had reported, but run() {}.",
                            hung.how()
                        ),
                    ));
                }
            };
            trace_reply(&reply);
            // A second Done for one job is for result-once to report, as
            // in `next`.
            if let Reply::Done { id, .. } = &reply {
                if !self.done.insert(*id) && self.skip_duplicates {
                    continue;
                }
            }
            break Next::Reply(reply);
        };
        match next {
            Next::Ended => Ok(()),
            Next::Reply(reply) => fail!("the loop sent {reply:?} after every result was in; each event gets one reply, each job one Done"),
            Next::Silent => unreachable!("a silent loop is reported above"),
            Next::Panicked(payload) => std::panic::resume_unwind(payload),
        }
    }
}

fn answers_pings() -> CheckResult {
    let mut lp = Loop::start();
    for n in 1..=5 {
        lp.send(Event::Ping(n));
    }
    for n in 1..=5 {
        lp.expect(
            Reply::Pong(n),
            &format!("sent Ping(1) to Ping(5); the loop never answered Ping({n}) with Pong({n})"),
        )?;
    }
    lp.close();
    lp.expect_end()
}

const BLOCKED: &str = "your loop was blocked while the job ran";

/// The input closed and every job reported, and `run` did not return.
const RUN_NEVER_RETURNS: &str = "run-never-returns";

/// A thread job ran on a thread of its own, and the loop waited for it.
const LOOP_WAITS_FOR_JOB: &str = "loop-waits-for-job";

/// A thread job ran on the loop's own thread.
const JOB_ON_THE_LOOP: &str = "job-on-the-loop";

/// A job that waits until the check opens `gate`, then returns `value`.
/// Its span goes on the lane of the thread it runs on: the loop's own, or
/// one named after job `id`.
///
/// A job that finds itself on the loop's own thread sets `on_loop` and
/// counts `started` all the way down: the loop can do nothing else while it
/// runs, so the check is told at once, not after waiting for the others.
fn gated_job(
    gate: &Arc<Latch>,
    started: &Arc<Latch>,
    on_loop: &Arc<AtomicBool>,
    id: u64,
    value: u64,
) -> subject::Job {
    let (gate, started, on_loop) = (gate.clone(), started.clone(), on_loop.clone());
    Box::new(move || {
        let here = thread::current().name() == Some(LOOP_THREAD);
        let lane = if here {
            loop_lane()
        } else {
            trace::lane(&format!("job {id}'s thread"), LaneKind::Thread)
        };
        let _running = trace::span(lane, format!("job {id} runs"));
        if here {
            on_loop.store(true, Ordering::SeqCst);
            while started.remaining() > 0 {
                started.count_down();
            }
        }
        started.count_down();
        gate.wait(Duration::from_secs(60));
        value
    })
}

/// The message for [`JOB_ON_THE_LOOP`].
fn ran_on_the_loop(gate: &Latch, lp: &Loop, what: &str) -> check_harness::Failure {
    trace::instant_toned(check_lane(), "job runs on the loop", Tone::Fault);
    trace::explains_failure(true);
    gate.count_down();
    lp.linger();
    check_harness::Failure::because(
        JOB_ON_THE_LOOP,
        format!("{what}, and the job ran on your loop's own thread: until it returns, the loop cannot take the next event, answer a ping, or start another job."),
    )
}

fn stays_responsive() -> CheckResult {
    let gate = Arc::new(Latch::new(1));
    let started = Arc::new(Latch::new(1));
    let on_loop = Arc::new(AtomicBool::new(false));
    let mut lp = Loop::start_counting(&started);
    lp.send(Event::OnThread {
        id: 1,
        job: gated_job(&gate, &started, &on_loop, 1, 42),
    });
    for n in 1..=3 {
        lp.send(Event::Ping(n));
    }
    let began = started.wait(LIMIT);
    if !began {
        lp.report_a_panic(&started);
    }
    if on_loop.load(Ordering::SeqCst) {
        return Err(ran_on_the_loop(
            &gate,
            &lp,
            "a job (it waits for the check) was followed by Ping(1..=3)",
        ));
    }
    for n in 1..=3 {
        let silent = format!(
                "{BLOCKED}: a job (still running, it waits for the check) was followed by Ping(1..=3), and Ping({n}) got no answer in {limit}.\nHand the job to another thread and go straight back to the next event.", limit = human::duration(LIMIT));
        let answered = lp.expect(Reply::Pong(n), &silent);
        if answered.is_err() && trace::enabled() {
            // Failed. For the picture: let the job go and see when the
            // pings are answered.
            trace::instant(check_lane(), "let job 1 go");
            gate.count_down();
            lp.linger();
        }
        // The job began, on a thread of its own, and the loop still did not
        // answer: it waits for that thread.
        answered.map_err(|failure| match began && failure.message == silent {
            true => check_harness::Failure::because(
                LOOP_WAITS_FOR_JOB,
                format!("{BLOCKED}: a job (still running, it waits for the check) was followed by Ping(1..=3), and Ping({n}) got no answer in {limit}, although the job runs on a thread of its own: the loop waited for that thread instead of going back to the next event.", limit = human::duration(LIMIT)),
            ),
            false => failure,
        })?;
    }
    ensure!(
        began || started.wait(LIMIT),
        "the loop answered the pings, but the job never started: hand it to a thread that runs it"
    );
    gate.count_down();
    lp.expect(
        Reply::Done { id: 1, result: Ok(42) },
        "the job finished (it returned 42), but its result never came back to the loop as Reply::Done { id: 1, result: Ok(42) }",
    )?;
    lp.close();
    lp.expect_end()
}

fn result_once() -> CheckResult {
    let gate = Arc::new(Latch::new(1));
    let started = Arc::new(Latch::new(3));
    let mut lp = Loop::start_counting(&started);
    lp.skip_duplicates = false;
    let on_loop = Arc::new(AtomicBool::new(false));
    for id in 1..=3 {
        lp.send(Event::OnThread {
            id,
            job: gated_job(&gate, &started, &on_loop, id, id * 10),
        });
    }
    // All three jobs run (and wait for the check) before the input closes.
    let all_started = started.wait(LIMIT);
    if !all_started {
        lp.report_a_panic(&started);
    }
    if on_loop.load(Ordering::SeqCst) {
        return Err(ran_on_the_loop(&gate, &lp, "3 jobs were sent"));
    }
    if !all_started && started.remaining() == 2 {
        // One job began, on a thread of its own, and the loop took no other
        // job while it runs: it waits for that thread.
        trace::instant_toned(check_lane(), "1 of 3 started", Tone::Fault);
        trace::explains_failure(true);
        fail!(
            cause = LOOP_WAITS_FOR_JOB,
            "3 jobs were sent; the first began on a thread of its own, and while it ran (it waits for the check) the other two never started: your loop waited for the first one before it took the next event."
        );
    }
    if !all_started {
        // The trace shows where the one that started runs.
        trace::instant_toned(check_lane(), "not all 3 started", Tone::Fault);
        trace::explains_failure(true);
        fail!(
            "3 jobs were sent, but only {} of them started running within {limit}: hand each job to a thread of its own",
            3 - started.remaining(), limit = human::duration(LIMIT));
    }
    // While the input is open and the three jobs wait for the check, the
    // loop has nothing to do; the check burns 100 ms of its own CPU time
    // and reads how much the loop's thread used meanwhile.
    const BURN: Duration = Duration::from_millis(100);
    let (next, open_used) = lp.idle_while_waiting(BURN);
    match next {
        Next::Silent => {
            const ON_A_TIMER: &str = "the input was open and 3 jobs were running (they wait for the check), so nothing could arrive for a while; your loop's thread slept, but on a timer: it woke up again and again to look, instead of sleeping until an event or a result arrives. Which call does your loop make while it waits, and does it have a timeout?";
            if let Some(used) = open_used.filter(|used| *used >= BURN / 4) {
                // A loop that polls every few ms may also be ready to run
                // for long on a busy machine: what it sleeps in, not the
                // load, picks the words.
                if timer_poll::polls_on_a_timer(lp.clock, BURN) == Some(true) {
                    fail!(cause = "polls-while-idle", "{ON_A_TIMER}");
                }
                fail!(
                    cause = "polls-while-idle",
                    "the input was open and 3 jobs were running (they wait for the check), so the loop had nothing to do; while the check used {} of CPU time, your loop's thread was running or ready to run for {}: it kept running instead of waiting. Which call does your loop make while it waits for the next event or result, and does that call block until something arrives?",
                    human::duration(BURN),
                    human::duration(used)
                );
            }
            // It hardly ran: it may still poll with a sleep or a timeout
            // between tries, which only what it sleeps in shows.
            ensure!(
                timer_poll::polls_on_a_timer(lp.clock, LIMIT) != Some(true),
                cause = "polls-while-idle",
                "{ON_A_TIMER}"
            );
        }
        Next::Ended => {
            fail!("the input was still open and 3 jobs were running, but run() returned")
        }
        Next::Reply(reply) => {
            fail!("no job could have finished yet (they wait for the check), but the loop sent {reply:?}")
        }
        Next::Panicked(payload) => std::panic::resume_unwind(payload),
    }
    lp.close();
    // The loop must not return now: three results are still to come. While
    // it waits for them, the check burns 100 ms of its own CPU time again;
    // the loop's thread, woken by the close, gets its turn meanwhile (on one
    // CPU as on many), and should spend it going back to sleep.
    let (next, used) = lp.idle_while_waiting(BURN);
    match next {
        Next::Silent => {
            if let Some(used) = used {
                // It slept while the input was open (above), and runs now:
                // what it waits on after the close never blocks.
                ensure!(
                    used < BURN / 4,
                    cause = "closed-channel-ready",
                    "while the input was open and 3 jobs ran, your loop's thread slept. Then the check closed the input; the jobs were still running, and while the check used {} of CPU time, your loop's thread was running or ready to run for {} with nothing to do: since the close, what it waits on returns at once, again and again, instead of blocking until a result comes.",
                    human::duration(BURN),
                    human::duration(used)
                );
            }
        }
        Next::Ended => fail!(
            "the input was closed while 3 jobs were still running, and run() returned at once: their results were lost.\nKeep count of the jobs you started and wait for them before returning."
        ),
        Next::Reply(reply) => {
            fail!("no job could have finished yet (they wait for the check), but the loop sent {reply:?}")
        }
        Next::Panicked(payload) => std::panic::resume_unwind(payload),
    }
    gate.count_down();
    let mut done = Vec::new();
    for _ in 0..3 {
        match lp.next() {
            Next::Reply(Reply::Done { id, .. }) if done.iter().any(|(seen, _)| *seen == id) => {
                fail!("job {id}'s result came back twice: each finished job is one Done, sent once")
            }
            Next::Reply(Reply::Done { id, result }) => done.push((id, result)),
            Next::Reply(other) => fail!("expected only Done replies, got {other:?}"),
            Next::Silent => fail!(
                "released 3 jobs, but only {} result(s) came back: {done:?}",
                done.len()
            ),
            Next::Ended => fail!(
                "released 3 jobs, but run() returned after only {} result(s) came back ({done:?}): wait for every pending job",
                done.len()
            ),
            Next::Panicked(payload) => std::panic::resume_unwind(payload),
        }
    }
    done.sort();
    let expected: Vec<(u64, Result<u64, String>)> = (1..=3).map(|id| (id, Ok(id * 10))).collect();
    ensure!(
        done == expected,
        "jobs 1, 2, 3 return 10, 20, 30; the results that came back were {done:?}"
    );
    lp.expect_end()
}

fn panic_is_an_error() -> CheckResult {
    let mut lp = Loop::start();
    lp.send(Event::OnThread {
        id: 7,
        job: Box::new(|| panic!("the job blew up")),
    });
    match lp.next() {
        Next::Reply(Reply::Done { id: 7, result: Err(text) }) => ensure!(
            text.contains("the job blew up"),
            "the panic came back as an error, good; but its text {text:?} should include the panic's message, \"the job blew up\""
        ),
        Next::Reply(other) => {
            fail!("job 7 panics with \"the job blew up\"; expected Done {{ id: 7, result: Err(..) }}, got {other:?}")
        }
        Next::Silent => fail!(
            "job 7 panicked and nothing came back within {limit}: catch the panic on the worker thread and send it back as an error", limit = human::duration(LIMIT)),
        Next::Ended => fail!("job 7 panicked, and the loop stopped without reporting it"),
        Next::Panicked(payload) => {
            let text = subject::panic_message(payload.as_ref());
            if !text.contains("the job blew up") {
                std::panic::resume_unwind(payload);
            }
            fail!("job 7's panic took the whole loop down ({text}). Run jobs on their own thread and catch the panic there.")
        }
    }
    lp.send(Event::Ping(8));
    lp.expect(
        Reply::Pong(8),
        "after the failed job, Ping(8) got no answer: the loop must carry on",
    )?;
    lp.close();
    lp.expect_end()
}

/// What the given worker prints for `heavy_work(n) == value`: the number
/// and a newline (`println!`).
fn worker_prints(value: u64) -> String {
    format!("{value}\n")
}

/// A child job's result that is an error although the worker printed the
/// right number, and the error quotes that number: the output reached
/// `run_in_child` and was not turned into the number.
fn unparsed_output(result: &Result<u64, String>, expected: u64) -> Option<check_harness::Failure> {
    let Err(text) = result else {
        return None;
    };
    quotes_number(text, expected).then(|| {
        check_harness::Failure::because(
            "child-output-not-a-number",
            format!(
                "the worker printed {:?} (the number and a newline, with println!), and your run_in_child returned Err({text:?}): the output reached your code, and did not become the number {expected}",
                worker_prints(expected)
            ),
        )
    })
}

/// Whether `text` holds `n` as a number of its own (not inside a longer
/// run of letters and digits, such as a temporary file's name).
fn quotes_number(text: &str, n: u64) -> bool {
    let n = n.to_string();
    text.match_indices(&n).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + n.len()..].chars().next();
        [before, after]
            .iter()
            .all(|c| c.is_none_or(|c| !c.is_ascii_alphanumeric()))
    })
}

fn child_same_result() -> CheckResult {
    const N: u64 = 20_000;
    let expected = heavy_work(N);
    // A worker started through a shell will say so. No other thread runs
    // yet.
    let probe = check_harness::shell_probe::ShellProbe::arm();
    let mut lp = Loop::start();
    lp.send(Event::OnThread {
        id: 1,
        job: Box::new(|| heavy_work(N)),
    });
    lp.send(Event::InChild { id: 2, n: N });
    // The input stays open until both results are in: returning early when
    // it closes is `result-once`'s business, not this check's.
    let mut done = Vec::new();
    for _ in 0..2 {
        match lp.next() {
            Next::Reply(Reply::Done { id, result }) => done.push((id, result)),
            Next::Reply(other) => fail!("expected only Done replies, got {other:?}"),
            Next::Silent | Next::Ended => {
                let missing = if done.iter().any(|(id, _)| *id == 1) {
                    "the job on a thread came back, the one in a child process (id 2) did not: start the worker, wait for it on a helper thread, and send its result back as a Finished"
                } else if done.iter().any(|(id, _)| *id == 2) {
                    "the job in a child process came back, the one on a thread (id 1) did not"
                } else {
                    "neither came back"
                };
                if probe.found_joined_arguments() {
                    return Err(joined_arguments());
                }
                fail!(
                    "one job on a thread, one in a child process (heavy_work({N})): {missing} (waited {limit})", limit = human::duration(LIMIT))
            }
            Next::Panicked(payload) => std::panic::resume_unwind(payload),
        }
    }
    if probe.found_joined_arguments() {
        return Err(joined_arguments());
    }
    if probe.found_a_shell() {
        fail!(
            cause = "started-through-a-shell",
            "the worker was started through a shell (sh -c or the like): a shell between the loop and the worker parses a command string, and any text in it becomes shell syntax.\nStart std::env::current_exe() itself with Command::new, and pass {:?} and the number with .arg, one argument each.",
            subject::worker::WORKER_ARG
        );
    }
    lp.close();
    done.sort();
    if let [_, (2, child)] = &done[..] {
        if let Some(failure) = unparsed_output(child, expected) {
            return Err(failure);
        }
    }
    match &done[..] {
        [(1, Ok(a)), (2, Ok(b))] if *a == expected && *b == expected => {}
        [(1, thread), (2, child)] => fail!(
            "heavy_work({N}) is {expected}. On a thread the loop got {thread:?}, in a child process {child:?}"
        ),
        other => fail!("expected Done for jobs 1 and 2, got {other:?}"),
    }
    lp.expect_end()
}

/// The failure for a worker that got its role and the number as one
/// argument.
fn joined_arguments() -> check_harness::Failure {
    check_harness::Failure::because(
        "arguments-joined",
        format!(
            "the worker was started with {:?} and the number as ONE argument, with a space in it: an argument is passed as it is, spaces and all, so the worker did not see its role. Pass them as two arguments, one .arg each.",
            subject::worker::WORKER_ARG
        ),
    )
}

fn child_off_the_loop() -> CheckResult {
    let probe = check_harness::shell_probe::ShellProbe::arm();
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    // Only this check's process and its children see this; no other thread
    // runs yet.
    std::env::set_var(GATE_ENV, addr.to_string());
    let mut lp = Loop::start();
    lp.send(Event::InChild { id: 1, n: 1000 });
    for n in 1..=3 {
        lp.send(Event::Ping(n));
    }
    for n in 1..=3 {
        lp.expect(
            Reply::Pong(n),
            &format!(
                "{BLOCKED}: a child process (still running, it waits for the check) was followed by Ping(1..=3), and Ping({n}) got no answer in {limit}.\nWaiting for a child blocks: do the waiting on another thread.", limit = human::duration(LIMIT)),
        )?;
    }
    let Some(accepted) = within(LIMIT, move || listener.accept()) else {
        if probe.found_joined_arguments() {
            return Err(joined_arguments());
        }
        fail!(
            "the loop answered the pings, but no worker process started (or it did not get the worker argument as an argument of its own): run this same program (std::env::current_exe()) with .arg({:?}) and .arg(n.to_string())",
            subject::worker::WORKER_ARG
        );
    };
    let (mut child, _) = accepted?;
    child.write_all(&[1])?;
    let expected = heavy_work(1000);
    match lp.next() {
        Next::Reply(Reply::Done { id: 1, result: Ok(n) }) if n == expected => {}
        Next::Reply(Reply::Done { id: 1, result }) => {
            if let Some(failure) = unparsed_output(&result, expected) {
                return Err(failure);
            }
            fail!("heavy_work(1000) is {expected}; the child job came back as {result:?}")
        }
        Next::Reply(reply) => fail!(
            "expected Done {{ id: 1, result: Ok({expected}) }} next, but the loop sent {reply:?}"
        ),
        Next::Silent => fail!(
            "the child process was let go, but its result never came back to the loop as Reply::Done"
        ),
        Next::Ended => fail!(
            "expected the child job's Done, but run() returned (the replies channel closed) before sending it"
        ),
        Next::Panicked(payload) => std::panic::resume_unwind(payload),
    }
    lp.close();
    lp.expect_end()
}

/// `run_in_child` called directly, with a worker that fails after printing
/// the right number, and with one that prints words: both must be an `Err`
/// with a text, and neither a panic nor `Ok`.
fn child_errors() -> CheckResult {
    const N: u64 = 1_000;
    let cases = [
        (
            FAILS_AFTER_PRINTING,
            format!(
                "the worker printed {:?} and then exited with status {FAILED_STATUS}, a failure",
                worker_prints(heavy_work(N))
            ),
        ),
        (
            PRINTS_WORDS,
            format!(
                "the worker printed {:?} and exited with success",
                format!("{WORDS}\n")
            ),
        ),
    ];
    for (mode, what) in cases {
        // One check per process and no other thread yet: the variable is
        // there for exactly this call's children.
        std::env::set_var(MISBEHAVE_ENV, mode);
        let got = std::panic::catch_unwind(|| subject::run_in_child(N));
        std::env::remove_var(MISBEHAVE_ENV);
        match got {
            Ok(Err(text)) => ensure!(
                !text.trim().is_empty(),
                "{what}; run_in_child(1000) returned Err with an empty text. Say in the text what went wrong, so whoever reads the error event can tell."
            ),
            Ok(Ok(value)) if mode == FAILS_AFTER_PRINTING => {
                return Err(check_harness::Failure::because(
                    "child-status-ignored",
                    format!("{what}; run_in_child(1000) returned Ok({value}): it took the printed text and did not look at how the worker exited."),
                ))
            }
            Ok(Ok(value)) => fail!(
                "{what}; run_in_child(1000) returned Ok({value}). Where did {value} come from?"
            ),
            Err(payload) => {
                let text = subject::panic_message(payload.as_ref());
                if text.starts_with("not yet implemented") {
                    // A `todo!()` is not the mistake this check is about;
                    // the harness says where it is.
                    std::panic::resume_unwind(payload);
                }
                return Err(check_harness::Failure::because(
                    "child-error-panics",
                    format!(
                        "{what}; run_in_child(1000) panicked instead of returning Err: {text}"
                    ),
                ))
            }
        }
    }
    Ok(())
}
