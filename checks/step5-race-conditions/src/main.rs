//! The checks of step 5, race conditions. Titles and hints live in
//! course.toml; run them with `cargo xtask check step5`.
//!
//! Each check is a tiny scenario (two or three threads, one call each) run
//! under the `loom` model checker, which replays it once for EVERY way the
//! threads can interleave. A race condition is found every time, on any
//! machine, however many cores it has. The grader builds this binary with
//! `RUSTFLAGS="--cfg loom"` (see `[step.build]` in course.toml); without that
//! flag there is no model checker and every check says how to run it.

#[cfg(all(feature = "exercise", not(feature = "solution")))]
use step5_race_conditions as subject;
#[cfg(feature = "solution")]
use step5_race_conditions_solution as subject;

use check_harness::{ensure, fail, Check, CheckResult, Failure};

mod signatures;

use subject::sync::{thread, Arc};
use subject::{Account, Bank, Counter, Seats};

fn main() {
    check_harness::main(&[
        Check::new("lost-update", lost_update),
        Check::new("claim-once", claim_once),
        Check::new("claim-retry", claim_retry),
        Check::new("no-overdraft", no_overdraft),
        Check::new("consistent-total", consistent_total),
        Check::new("both-directions", both_directions),
        Check::new("same-account", same_account),
    ]);
}

/// What the model checker found for one scenario.
#[derive(Debug, Default)]
struct Tally {
    /// Interleavings tried.
    runs: usize,
    /// Interleavings that ended wrong.
    bad: usize,
    /// What went wrong in the first bad one.
    first_bad: Option<String>,
    /// The causes the bad interleavings showed (see [`Bad`]), in the order
    /// first seen; "" for one that showed none.
    causes: Vec<&'static str>,
    /// The steps of that one (or of the first one, if none went wrong),
    /// for the trace (loom builds only).
    #[cfg_attr(not(loom), allow(dead_code))]
    first_steps: Vec<Step>,
}

/// How one interleaving went wrong: in words, and the cause it shows when
/// the scenario can tell.
#[cfg_attr(not(loom), allow(dead_code))]
struct Bad {
    what: String,
    cause: Option<&'static str>,
}

impl From<String> for Bad {
    fn from(what: String) -> Bad {
        Bad { what, cause: None }
    }
}

/// A look at `balances()` that saw a total other than the bank's: money
/// had left one balance and not reached the other, as far as that look
/// could tell.
const MONEY_IN_FLIGHT: &str = "money-in-flight";

/// Every thread of a schedule waited, so none could go on. Which lock each
/// waited for is not in loom's report, so the cause asks rather than guesses
/// between a lock order and a lock taken twice.
#[cfg(loom)]
const DEADLOCK: &str = "deadlock";

fn in_flight(what: String) -> Bad {
    Bad {
        what,
        cause: Some(MONEY_IN_FLIGHT),
    }
}

impl Tally {
    /// The check's failure: `message` and the cause the bad interleavings
    /// showed, when they all showed the same one; `Ok` when none was bad.
    fn verdict(&self, message: String) -> CheckResult {
        if self.bad == 0 {
            return Ok(());
        }
        let failure = Failure::new(message);
        Err(match self.causes[..] {
            [only] if !only.is_empty() => failure.with_cause(only),
            _ => failure,
        })
    }
}

#[cfg(loom)]
mod schedule;
#[cfg(loom)]
type Step = schedule::Step;
#[cfg(not(loom))]
type Step = ();

/// Runs `scenario` once per schedule of its threads that loom's model allows. The
/// scenario returns `None` when that run ended right, or what went wrong.
///
/// `setting` says in a few words what the scenario's threads do; it is part
/// of the message when the threads deadlock.
#[cfg(loom)]
fn explore<F, B>(setting: &'static str, scenario: F) -> Result<Tally, check_harness::Failure>
where
    F: Fn() -> Option<B> + Send + Sync + 'static,
    B: Into<Bad>,
{
    model(setting, scenario, true)
}

/// Whether the model checker sees how the code under test synchronizes,
/// asked once a scenario found nothing wrong: a scenario of several
/// threads has several schedules whatever they share (loom also orders the
/// threads' starts and ends), so code built on `std::sync` instead of the
/// crate's `sync` module passes it unseen. `probe` runs on one spawned
/// thread and this one, as `consistent-total` does; there, code the model
/// cannot see has exactly one schedule, and the check says so as that one
/// does (cause `one-schedule`). The probe's schedules are not drawn.
#[cfg(loom)]
fn seen_by_the_model(
    tally: &Tally,
    setting: &'static str,
    probe: impl Fn() + Send + Sync + 'static,
) -> CheckResult {
    if tally.bad > 0 {
        return Ok(());
    }
    model(
        setting,
        move || {
            probe();
            None::<Bad>
        },
        false,
    )
    .map(|_| ())
}

#[cfg(not(loom))]
fn seen_by_the_model(
    _tally: &Tally,
    _setting: &'static str,
    _probe: impl Fn() + Send + Sync + 'static,
) -> CheckResult {
    Ok(())
}

/// [`explore`], with the schedule drawn in the trace or not.
#[cfg(loom)]
fn model<F, B>(
    setting: &'static str,
    scenario: F,
    draw: bool,
) -> Result<Tally, check_harness::Failure>
where
    F: Fn() -> Option<B> + Send + Sync + 'static,
    B: Into<Bad>,
{
    use check_harness::trace::Tone;
    use std::panic::{catch_unwind, AssertUnwindSafe};

    // loom reports a deadlock with a panic that cannot unwind, which would
    // end this process before any message; the harness lets us say it.
    *deadlock::SETTING.lock().unwrap_or_else(|e| e.into_inner()) = setting;
    deadlock::RUNS.store(0, std::sync::atomic::Ordering::Relaxed);
    check_harness::on_fatal_panic(Some(deadlock::explain));
    let tally = std::sync::Arc::new(std::sync::Mutex::new(Tally::default()));
    let record = tally.clone();
    // Every setting written out, so LOOM_* variables in the environment
    // cannot make the search smaller: every distinct schedule, no time cap.
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = None;
    builder.max_permutations = None;
    builder.max_duration = None;
    builder.checkpoint_file = None;
    // Where each thread waits, in a deadlock's message: locations cost
    // nothing and change no schedule.
    builder.location = true;
    let explored = catch_unwind(AssertUnwindSafe(|| {
        schedule::watching(|| {
            builder.check(move || {
                deadlock::RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let verdict: Option<Bad> = scenario().map(Into::into);
                let mut t = record.lock().unwrap_or_else(|e| e.into_inner());
                t.runs += 1;
                // The schedule drawn: the first that went wrong with its
                // threads' steps interleaved (the easiest to read), else the
                // first that went wrong, else the first of all.
                let better = match (&verdict, &t.first_bad) {
                    (None, _) => t.runs == 1,
                    (Some(_), None) => true,
                    (Some(_), Some(_)) => {
                        !schedule::interleaved(&t.first_steps) && schedule::now_interleaved()
                    }
                };
                if better {
                    t.first_steps = schedule::steps();
                }
                // A wrong schedule with interleaved threads is never
                // replaced: the steps after it need no stacks.
                if (t.first_bad.is_some() || verdict.is_some())
                    && schedule::interleaved(&t.first_steps)
                {
                    schedule::drawn_for_good();
                }
                if let Some(Bad { what, cause }) = verdict {
                    t.bad += 1;
                    t.first_bad.get_or_insert(what);
                    let cause = cause.unwrap_or("");
                    if !t.causes.contains(&cause) {
                        t.causes.push(cause);
                    }
                }
            })
        })
    }));
    check_harness::on_fatal_panic(None);
    let tally = std::mem::take(&mut *tally.lock().unwrap_or_else(|e| e.into_inner()));
    match &tally.first_bad {
        _ if !draw => {}
        Some(what) => schedule::draw(setting, &tally.first_steps, what, Tone::Fault),
        None if explored.is_ok() => {
            let all = format!("all {} schedules right", tally.runs);
            schedule::draw(setting, &tally.first_steps, &all, Tone::Good);
        }
        None => {}
    }
    if let Err(payload) = explored {
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic without a message".into());
        fail!(
            "after {} schedules, one of them went wrong with a panic: {message}",
            tally.runs
        );
    }
    if tally.runs < 2 {
        fail!(
            cause = "one-schedule",
            "the model checker saw only one way to run this, so it could not test anything: your code shares its state through types it cannot see. Use the types from your crate's `sync` module (`sync::Mutex`, `sync::AtomicU64` and the others it lists), not `std::sync` directly."
        );
    }
    if tally.bad == 0 && draw {
        // Shown by the grader only when asked (the check passed).
        eprintln!("loom explored {} schedules, all right", tally.runs);
    }
    Ok(tally)
}

#[cfg(not(loom))]
fn explore<F, B>(_setting: &'static str, _scenario: F) -> Result<Tally, check_harness::Failure>
where
    F: Fn() -> Option<B> + Send + Sync + 'static,
    B: Into<Bad>,
{
    fail!(
        "these checks need the loom model checker, and this build does not have it. Run them with `cargo xtask check step5`, which builds with `--cfg loom` (by hand: RUSTFLAGS=\"--cfg loom\" CARGO_TARGET_DIR=target/loom cargo run -p step5-race-conditions-checks)."
    )
}

/// Turning loom's deadlock panic into a message about the learner's code.
#[cfg(loom)]
mod deadlock {
    use std::sync::atomic::AtomicUsize;
    use std::sync::Mutex;

    /// What the scenario being explored does, in words.
    pub static SETTING: Mutex<&str> = Mutex::new("");
    /// Interleavings started so far, the deadlocked one included.
    pub static RUNS: AtomicUsize = AtomicUsize::new(0);

    /// loom's message is `deadlock; threads = [(Id(0), Blocked(…)), ...]`,
    /// where `…` says where the thread waits when locations are on.
    pub fn explain(message: &str) -> Option<check_harness::Failure> {
        let states = message.strip_prefix("deadlock; threads = ")?;
        let setting = *SETTING.lock().unwrap_or_else(|e| e.into_inner());
        let runs = RUNS.load(std::sync::atomic::Ordering::Relaxed);
        let threads: Vec<String> = states
            .split("(Id(")
            .skip(1)
            .map(|entry| {
                let (id, rest) = entry.split_once(')').unwrap_or((entry, ""));
                let state: String = rest
                    .trim_start_matches([',', ' '])
                    .chars()
                    .take_while(char::is_ascii_alphabetic)
                    .collect();
                let role = if id == "0" {
                    "the scenario's main thread"
                } else {
                    "a thread calling your code"
                };
                let state = match state.as_str() {
                    "Blocked" => waiting(id, rest),
                    "Terminated" => "finished".to_string(),
                    _ => "able to run".to_string(),
                };
                format!("  thread {id}, {role}: {state}")
            })
            .collect();
        Some(check_harness::Failure::because(
            super::DEADLOCK,
            format!(
                "deadlock: {setting}. In schedule {runs} that loom tried, every thread still running was waiting, so none could ever go on:\n{}\nFor each waiting thread of yours: which lock is it waiting for, and who holds that lock?",
                threads.join("\n")
            ),
        ))
    }

    /// What a blocked thread waits for: `rest` is loom's state for it,
    /// `Blocked(Location(Some(Location { file: "…", line: 97, col: 28 })))`.
    fn waiting(id: &str, rest: &str) -> String {
        let field = |name: &str| {
            let (_, after) = rest.split_once(&format!("{name}: "))?;
            let value: String = after
                .trim_start_matches('"')
                .chars()
                .take_while(|c| !matches!(c, '"' | ',' | ' ' | '}'))
                .collect();
            Some(value)
        };
        let (file, line) = (field("file"), field("line"));
        let in_checks = file.as_deref().is_some_and(check_harness::human::in_checks);
        if in_checks || file.is_none() && id == "0" {
            return "waiting in `join()` for the threads it started".to_string();
        }
        let thread = id.parse().unwrap_or(usize::MAX);
        let mutex = super::schedule::mutex_waited_for(thread);
        let place = match (&file, &line) {
            (Some(file), Some(line)) => {
                let file = file.replace('\\', "/");
                match file.rsplit_once("step5-race-conditions/") {
                    Some((_, "src/lib.rs")) => format!(" at line {line}"),
                    Some((_, rest)) => format!(" at {rest}:{line}"),
                    None => format!(" at {file}:{line}"),
                }
            }
            _ => String::new(),
        };
        match mutex {
            Some(mutex) => format!("waiting in `lock()`{place} for {mutex}"),
            None if place.is_empty() => "waiting".to_string(),
            None => format!("waiting{place}"),
        }
    }
}

#[cfg(all(test, loom))]
mod tests {
    /// loom's deadlock, with locations on: each thread says where it
    /// waits; the main thread's `join` is in the checks, so it is named as
    /// waiting for the others, not by a path into `checks/`.
    #[test]
    fn a_deadlock_says_where_each_thread_waits() {
        let message = r#"deadlock; threads = [(Id(0), Blocked(Location(Some(Location { file: "checks/step5-race-conditions/src/main.rs", line: 290, col: 12 })))), (Id(1), Blocked(Location(Some(Location { file: "exercises/step5-race-conditions/src/lib.rs", line: 119, col: 14 })))), (Id(2), Terminated)]"#;
        let failure = super::deadlock::explain(message).expect("a deadlock");
        assert_eq!(failure.cause.as_deref(), Some(super::DEADLOCK));
        let text = failure.message;
        assert!(
            text.contains("thread 0, the scenario's main thread: waiting in `join()` for the threads it started"),
            "{text}"
        );
        // No schedule was watched here, so which Mutex is not known.
        assert!(
            text.contains("thread 1, a thread calling your code: waiting at line 119\n"),
            "{text}"
        );
        assert!(
            text.contains("thread 2, a thread calling your code: finished"),
            "{text}"
        );
        assert!(!text.contains("checks/"), "{text}");
    }
}

/// Spawns a model thread running `f` (loom's thread under `--cfg loom`).
fn spawn<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> thread::JoinHandle<T> {
    thread::spawn(f)
}

fn join<T>(handle: thread::JoinHandle<T>) -> T {
    handle.join().expect("a thread of the scenario panicked")
}

/// Two model threads make the same call on one shared value, at once.
fn both<S, R>(shared: &Arc<S>, call: fn(&S) -> R) -> [R; 2]
where
    S: Send + Sync + 'static,
    R: Send + 'static,
{
    let [a, b] = [shared.clone(), shared.clone()].map(|s| spawn(move || call(&s)));
    [join(a), join(b)]
}

/// What [`seats_probe`] does, for [`seen_by_the_model`].
const SEATS_PROBE: &str = "one thread calls taken() while another calls claim_any()";

/// A seat claimed on this thread while a spawned one counts the seats
/// taken (a claim on the spawned thread might be one loom does not
/// interleave: tokio-rs/loom#392, see `same_account`).
fn seats_probe() {
    let seats = Arc::new(Seats::new(1));
    let looker = spawn({
        let seats = seats.clone();
        move || seats.taken()
    });
    seats.claim_any();
    join(looker);
}

/// What [`bank_probe`] does, for [`seen_by_the_model`].
const BANK_PROBE: &str =
    "one thread reads balances() while another moves 1 from checking to savings";

/// A transfer on this thread while a spawned one reads the balances, the
/// way round `same_account` explains.
fn bank_probe() {
    let bank = Arc::new(Bank::new(1, 0));
    let looker = spawn({
        let bank = bank.clone();
        move || bank.balances()
    });
    bank.transfer(Account::Checking, Account::Savings, 1);
    join(looker);
}

fn lost_update() -> CheckResult {
    let tally = explore("two threads each call hit() once on one Counter", || {
        let counter = Arc::new(Counter::new());
        both(&counter, |counter| counter.hit());
        let count = counter.get();
        (count != 2).then(|| format!("the count ended at {count}"))
    })?;
    seen_by_the_model(
        &tally,
        "one thread calls get() while another calls hit()",
        || {
            let counter = Arc::new(Counter::new());
            let looker = spawn({
                let counter = counter.clone();
                move || counter.get()
            });
            counter.hit();
            join(looker);
        },
    )?;
    ensure!(
        tally.bad == 0,
        "two threads each called hit() once, so the count must end at 2.\nloom explored all {} distinct schedules of the two threads; in {} of them {}: one hit was lost. The steps below are that schedule: both threads read the count before either had added its one.",
        tally.runs,
        tally.bad,
        tally.first_bad.unwrap_or_default()
    );
    Ok(())
}

fn claim_once() -> CheckResult {
    let tally = explore("two threads each call claim_any() on one seat", || {
        let seats = Arc::new(Seats::new(1));
        let got = both(&seats, |seats| seats.claim_any());
        let winners = got.iter().filter(|g| **g == Some(0)).count();
        let right = winners == 1 && got.contains(&None) && seats.taken() == 1;
        (!right).then(|| seat_outcome(got))
    })?;
    seen_by_the_model(&tally, SEATS_PROBE, seats_probe)?;
    let why = if tally.causes == [SEAT_TAKEN_TWICE] {
        ": both saw seat 0 free before either had taken it, so both believe it is theirs."
    } else {
        "."
    };
    tally.verdict(format!(
        "one seat, two threads calling claim_any(): exactly one should get Some(0), the other None.\nloom explored all {} distinct schedules; in {} of them {}{why}",
        tally.runs,
        tally.bad,
        tally.first_bad.clone().unwrap_or_default()
    ))
}

/// Two callers got the same seat.
const SEAT_TAKEN_TWICE: &str = "seat-taken-twice";

/// What the two `claim_any` calls of one schedule got, as a [`Bad`] that
/// names [`SEAT_TAKEN_TWICE`] when both got the same seat.
fn seat_outcome(got: [Option<usize>; 2]) -> Bad {
    let what = format!("the two threads got {:?} and {:?}", got[0], got[1]);
    let cause = (got[0].is_some() && got[0] == got[1]).then_some(SEAT_TAKEN_TWICE);
    Bad { what, cause }
}

fn claim_retry() -> CheckResult {
    let tally = explore("two threads each call claim_any() on two seats", || {
        let seats = Arc::new(Seats::new(2));
        let mut got = both(&seats, |seats| seats.claim_any());
        got.sort();
        let right = got == [Some(0), Some(1)];
        (!right).then(|| seat_outcome(got))
    })?;
    seen_by_the_model(&tally, SEATS_PROBE, seats_probe)?;
    let why = match tally.causes[..] {
        [SEAT_TAKEN_TWICE] => ": both saw the same seat free before either had taken it.",
        [""] => ": one gave up (None) although a seat was still free. When the seat you tried is taken under your feet, what about the next one?",
        _ => ".",
    };
    tally.verdict(format!(
        "two seats, two threads calling claim_any(): each should get a different seat, Some(0) and Some(1).\nloom explored all {} distinct schedules; in {} of them {}{why}",
        tally.runs,
        tally.bad,
        tally.first_bad.clone().unwrap_or_default()
    ))
}

fn no_overdraft() -> CheckResult {
    let tally = explore(
        "two threads each move 60 from checking (100) to savings",
        || {
            let bank = Arc::new(Bank::new(100, 0));
            let moved = both(&bank, |bank| {
                bank.transfer(Account::Checking, Account::Savings, 60)
            });
            let balances = bank.balances();
            let right = moved.iter().filter(|m| **m).count() == 1 && balances == [40, 60];
            (!right).then(|| {
                format!(
                    "the transfers returned {} and {}, and the balances ended as {balances:?}",
                    moved[0], moved[1]
                )
            })
        },
    )?;
    seen_by_the_model(&tally, BANK_PROBE, bank_probe)?;
    ensure!(
        tally.bad == 0,
        "checking holds 100; two threads each try to move 60 to savings. Only one can succeed; the balances must end as [40, 60].\nloom explored all {} distinct schedules; in {} of them {}: both saw 100 >= 60 before either took the money. (A u64 balance that goes below zero wraps around to a huge number.)",
        tally.runs,
        tally.bad,
        tally.first_bad.unwrap_or_default()
    );
    Ok(())
}

fn consistent_total() -> CheckResult {
    let tally = explore(
        "one thread moves 30 from checking to savings while another reads balances()",
        || {
            let bank = Arc::new(Bank::new(100, 100));
            let mover = spawn({
                let bank = bank.clone();
                move || bank.transfer(Account::Checking, Account::Savings, 30)
            });
            // The main thread looks while the transfer runs.
            let seen = bank.balances();
            let moved = join(mover);
            let end = bank.balances();
            let total = seen[0].wrapping_add(seen[1]);
            if total != 200 {
                Some(in_flight(format!(
                    "a look in the middle saw {seen:?}, a total of {total}"
                )))
            } else if !moved || end != [70, 130] {
                Some(Bad::from(format!(
                    "the transfer returned {moved} and the balances ended as {end:?}"
                )))
            } else {
                None
            }
        },
    )?;
    tally.verdict(format!(
        "the bank starts with [100, 100]; one thread moves 30 from checking to savings while another looks at balances(). Every look must add up to 200, and the end must be [70, 130].\nloom explored all {} distinct schedules; in {} of them {}: the money had left one account and not yet reached the other, or the two balances were read at different moments. Both balances must change, and be read, in one step.",
        tally.runs,
        tally.bad,
        tally.first_bad.clone().unwrap_or_default()
    ))
}

fn both_directions() -> CheckResult {
    let tally = explore(
        "one thread moves 30 from checking to savings while another moves 50 from savings to checking, and a third reads balances()",
        || {
            let bank = Arc::new(Bank::new(100, 100));
            let there = spawn({
                let bank = bank.clone();
                move || bank.transfer(Account::Checking, Account::Savings, 30)
            });
            let back = spawn({
                let bank = bank.clone();
                move || bank.transfer(Account::Savings, Account::Checking, 50)
            });
            // The main thread looks while both run, so this scenario needs
            // a design that works both ways, not just one that cannot
            // deadlock.
            let seen = bank.balances();
            let moved = [join(there), join(back)];
            let end = bank.balances();
            let total = seen[0].wrapping_add(seen[1]);
            if total != 200 {
                Some(in_flight(format!(
                    "a look in the middle saw {seen:?}, a total of {total}"
                )))
            } else if moved != [true, true] || end != [120, 80] {
                Some(Bad::from(format!(
                    "the transfers returned {} and {}, and the balances ended as {end:?}",
                    moved[0], moved[1]
                )))
            } else {
                None
            }
        },
    )?;
    seen_by_the_model(&tally, BANK_PROBE, bank_probe)?;
    tally.verdict(format!(
        "the bank starts with [100, 100]; one thread moves 30 from checking to savings while another moves 50 back from savings to checking, and a third looks at balances(). Both transfers have the money, so both must succeed, every look must add up to 200, and the balances must end as [120, 80].\nloom explored all {} distinct schedules; in {} of them {}.",
        tally.runs,
        tally.bad,
        tally.first_bad.clone().unwrap_or_default()
    ))
}

fn same_account() -> CheckResult {
    let tally = explore(
        "one thread moves 30 from checking to checking while another reads balances()",
        || {
            let bank = Arc::new(Bank::new(100, 100));
            // The look runs on the spawned thread and the transfer on this
            // one, not the other way round: loom 0.7 explores a single
            // schedule when a spawned thread loads an atomic and then
            // changes it (tokio-rs/loom#392), so a transfer made of
            // atomics on the spawned thread would never be seen half done.
            let looker = spawn({
                let bank = bank.clone();
                move || bank.balances()
            });
            let moved = bank.transfer(Account::Checking, Account::Checking, 30);
            let seen = join(looker);
            let end = bank.balances();
            let total = seen[0].wrapping_add(seen[1]);
            if total != 200 {
                Some(in_flight(format!(
                    "a look in the middle saw {seen:?}, a total of {total}"
                )))
            } else if seen != [100, 100] {
                Some(Bad::from(format!("a look in the middle saw {seen:?}")))
            } else if !moved || end != [100, 100] {
                Some(Bad::from(format!(
                    "the transfer returned {moved} and the balances ended as {end:?}"
                )))
            } else {
                None
            }
        },
    )?;
    ensure!(
        tally.bad == 0 || tally.causes != [MONEY_IN_FLIGHT],
        cause = MONEY_IN_FLIGHT,
        "the bank starts with [100, 100]; one thread moves 30 from checking to checking (`from` and `to` the same account) while another looks at balances(), which must see [100, 100] every time.\nloom tried all {} schedules; in {} of them {}: the money had left checking and not yet come back, as far as that look could tell.",
        tally.runs,
        tally.bad,
        tally.first_bad.clone().unwrap_or_default()
    );
    ensure!(
        tally.bad == 0,
        "the bank starts with [100, 100]; one thread moves 30 from checking to checking (`from` and `to` the same account) while another looks at balances(). Checking holds the money, so the transfer succeeds, and money paid into the account it came from is back where it was: every look, and the end, must be [100, 100].\nloom tried all {} schedules; in {} of them {}. Where does your transfer put the money: into `to`?",
        tally.runs,
        tally.bad,
        tally.first_bad.unwrap_or_default()
    );
    Ok(())
}
