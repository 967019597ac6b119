//! What to undo when the program that runs checks is stopped early.
//!
//! A check runs in a process group of its own (see [`crate::runner`]), so a
//! terminal's Ctrl-C does not reach it: only the program that started it can
//! end it. Every running check (and every other child worth ending, such as a
//! cargo build) and every temporary file is listed here while it exists.
//! [`install_interrupt_handler`] makes SIGINT, SIGTERM and SIGHUP (Ctrl-C and
//! closing the console on Windows) end them all, remove the files, print one
//! line and exit with the signal's conventional status (130 for Ctrl-C).
//! [`stop_everything`] does the ending and removing for other reasons to
//! stop, such as a closed stdout.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

use crate::containment;

#[derive(Debug)]
enum Entry {
    /// A check process: the leader of a process group (Unix) or of a job
    /// (Windows); ending it ends everything it started. `run` is the mark
    /// its processes carry in their environment
    /// ([`crate::parent_watch::RUN_ENV`]), if it has one.
    Check { pid: u32, run: Option<String> },
    /// A plain child process (a build), ended on its own.
    Child(u32),
    /// A temporary file or directory.
    Path(PathBuf),
    /// An open file (a run folder's lock) that must be closed before the
    /// folder it is in can be removed on Windows: held here, so that
    /// [`stop_everything`] closes it first, and closed when its guard drops.
    Held { _file: std::fs::File },
}

struct Registry {
    entries: Vec<(u64, Entry)>,
    /// Set once shutdown has begun: nothing new may start.
    closing: bool,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    entries: Vec::new(),
    closing: false,
});
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes its entry from the list when dropped: the process was waited for,
/// or the file removed, the normal way.
#[must_use = "the entry is forgotten as soon as the guard is dropped"]
#[derive(Debug)]
pub struct Registered(u64);

impl Drop for Registered {
    fn drop(&mut self) {
        registry().entries.retain(|(id, _)| *id != self.0);
    }
}

fn add(entry: Entry) -> Registered {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    registry().entries.push((id, entry));
    Registered(id)
}

/// Starts `spawn` and lists the process it started, with no moment in
/// between at which an interrupt could leave it unlisted. `check` says
/// whether it leads a check's process group (ended with everything in it) or
/// is a plain child.
pub fn spawn_listed(
    check: bool,
    spawn: impl FnOnce() -> std::io::Result<std::process::Child>,
) -> std::io::Result<(std::process::Child, Registered)> {
    spawn_entry(spawn, |pid| {
        if check {
            Entry::Check { pid, run: None }
        } else {
            Entry::Child(pid)
        }
    })
}

/// Starts `spawn`, a check whose processes carry the mark `run` in their
/// environment, and lists it as [`spawn_listed`] does. While it is listed,
/// [`end_orphans`] spares the orphans that carry its mark: a daemon it
/// started lives as long as the check, even when other checks end first.
pub fn spawn_check(
    run: &str,
    spawn: impl FnOnce() -> std::io::Result<std::process::Child>,
) -> std::io::Result<(std::process::Child, Registered)> {
    spawn_entry(spawn, |pid| Entry::Check {
        pid,
        run: Some(run.to_string()).filter(|r| !r.is_empty()),
    })
}

fn spawn_entry(
    spawn: impl FnOnce() -> std::io::Result<std::process::Child>,
    entry: impl FnOnce(u32) -> Entry,
) -> std::io::Result<(std::process::Child, Registered)> {
    let mut reg = registry();
    if reg.closing {
        return Err(std::io::Error::other("the grader is stopping"));
    }
    let child = spawn()?;
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    reg.entries.push((id, entry(child.id())));
    Ok((child, Registered(id)))
}

/// Lists a temporary file or directory, removed if the program is stopped.
pub fn temp_path(path: PathBuf) -> Registered {
    add(Entry::Path(path))
}

/// Creates a temporary directory with `create` (which returns it, its path
/// and a file it holds open inside it) and lists both, with no moment in
/// between at which an interrupt could leave them unlisted: another thread
/// that is stopping everything either removes them or keeps them from being
/// made. The open file is kept in the list (closed when the second guard
/// drops, or before the removal when everything stops), since Windows
/// removes no folder that holds an open file.
pub fn create_listed<T>(
    create: impl FnOnce() -> std::io::Result<(T, PathBuf, std::fs::File)>,
) -> std::io::Result<(T, Registered, Registered)> {
    let mut reg = registry();
    if reg.closing {
        return Err(std::io::Error::other("the grader is stopping"));
    }
    let (made, path, file) = create()?;
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    reg.entries.push((id, Entry::Path(path)));
    let held_id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    reg.entries.push((held_id, Entry::Held { _file: file }));
    Ok((made, Registered(id), Registered(held_id)))
}

/// Ends the orphans this process adopted ([`containment::end_adopted`]),
/// sparing every listed process, and every orphan that carries the mark of
/// a listed check: a check that runs while others end (a step may run
/// several at once) keeps its daemons until it ends itself. The list is
/// held still during each round, so a check that another thread starts
/// meanwhile (the mutant suite grades two at once) is never taken for an
/// orphan. Returns how many it ended.
pub fn end_orphans() -> usize {
    containment::in_rounds(|| {
        let reg = registry();
        let mut keep = Vec::new();
        let mut marks = Vec::new();
        for (_, entry) in &reg.entries {
            match entry {
                Entry::Check { pid, run } => {
                    keep.push(*pid);
                    marks.extend(
                        run.iter()
                            .map(|r| format!("{}={r}", crate::parent_watch::RUN_ENV)),
                    );
                }
                Entry::Child(pid) => keep.push(*pid),
                Entry::Path(_) | Entry::Held { .. } => {}
            }
        }
        // `reg` is held until the round is over.
        containment::end_adopted_round(&keep, &marks)
    })
}

/// Ends every listed process and everything it started, removes every
/// listed file, and keeps anything new from starting; the caller then exits.
/// Returns how many processes it ended.
pub fn stop_everything() -> usize {
    let mut reg = registry();
    reg.closing = true;
    let entries = std::mem::take(&mut reg.entries);
    let mut ended = Vec::new();
    for (_, entry) in &entries {
        match entry {
            Entry::Check { pid, .. } => {
                containment::end_tree(*pid);
                ended.push(*pid);
            }
            Entry::Child(pid) => {
                containment::end_child(*pid);
                ended.push(*pid);
            }
            Entry::Path(_) | Entry::Held { .. } => {}
        }
    }
    // What the ended processes had started, and what escaped their groups,
    // was handed to this process (Linux); end it too. The ended processes
    // themselves are left for the threads that wait for them.
    containment::end_adopted(&ended);
    let ended = ended.len();
    // Open files first: a folder that holds one cannot be removed on Windows.
    let (held, entries): (Vec<_>, Vec<_>) = entries
        .into_iter()
        .partition(|(_, entry)| matches!(entry, Entry::Held { .. }));
    drop(held);
    for (_, entry) in &entries {
        if let Entry::Path(path) = entry {
            if path.is_dir() {
                let _ = std::fs::remove_dir_all(path);
            } else {
                let _ = std::fs::remove_file(path);
            }
        }
    }
    // Keep the lock: nothing may be listed any more.
    std::mem::forget(reg);
    ended
}

static INSTALLED: OnceLock<()> = OnceLock::new();

/// Makes an interrupt (Ctrl-C, SIGTERM, SIGHUP; on Windows Ctrl-C, Ctrl-Break
/// and closing the console) end the running checks cleanly. Safe to call more
/// than once.
pub fn install_interrupt_handler() {
    INSTALLED.get_or_init(platform::install);
}

/// The message and exit status for an interrupt by `signal`.
pub fn interrupted(signal_name: &str, code: i32) -> ! {
    let ended = stop_everything();
    let what = match ended {
        0 => "nothing was left running".to_string(),
        1 => "stopped the running check and removed its temporary files".to_string(),
        n => format!("stopped the {n} running checks and removed their temporary files"),
    };
    // Not eprintln!, which panics when stderr is gone (a closed terminal's
    // SIGHUP): this thread would end without exiting, and every other
    // thread wait for ever for the list `stop_everything` keeps locked.
    let _ = writeln!(std::io::stderr(), "\ninterrupted ({signal_name}): {what}.");
    std::process::exit(code)
}

#[cfg(unix)]
mod platform {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    use signal_hook::iterator::Signals;

    pub fn install() {
        let mut signals = match Signals::new([SIGINT, SIGTERM, SIGHUP]) {
            Ok(s) => s,
            Err(e) => {
                eprintln!(
                    "warning: cannot handle Ctrl-C ({e}); an interrupted check may keep running"
                );
                return;
            }
        };
        let started = std::thread::Builder::new()
            .name("interrupts".into())
            .spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    let name = match signal {
                        SIGINT => "Ctrl-C",
                        SIGTERM => "SIGTERM",
                        _ => "SIGHUP",
                    };
                    super::interrupted(name, 128 + signal);
                }
            });
        if let Err(e) = started {
            eprintln!("warning: cannot handle Ctrl-C ({e}); an interrupted check may keep running");
        }
    }
}

#[cfg(windows)]
mod platform {
    use windows_sys::Win32::Foundation::{BOOL, TRUE};
    use windows_sys::Win32::System::Console::SetConsoleCtrlHandler;

    unsafe extern "system" fn on_ctrl(kind: u32) -> BOOL {
        // CTRL_C_EVENT is 0; the others (Ctrl-Break, close, logoff,
        // shutdown) end the program too.
        let name = if kind == 0 {
            "Ctrl-C"
        } else {
            "console closed"
        };
        super::interrupted(name, 130)
    }

    pub fn install() {
        // SAFETY: registers a handler function with the static lifetime.
        let ok = unsafe { SetConsoleCtrlHandler(Some(on_ctrl), TRUE) };
        if ok == 0 {
            eprintln!("warning: cannot handle Ctrl-C; an interrupted check may keep running");
        }
    }
}

#[cfg(not(any(unix, windows)))]
mod platform {
    pub fn install() {}
}
