//! Making sure no process a check started outlives it, and that a check
//! cannot take all the memory of the machine.
//!
//! * Unix: the grader starts each check in a process group of its own and
//!   kills the whole group when the check ends (see [`crate::runner`]).
//! * Linux, in addition: the program that runs checks marks itself a *child
//!   subreaper* ([`adopt_orphans`]). A process that leaves the check's group
//!   (`setsid`, a daemon's double fork) is still a descendant, so when its
//!   parent dies it is handed to the grader instead of to `init`; after each
//!   check the grader kills every such adopted process ([`end_adopted`]).
//! * macOS has no subreaper: a descendant that calls `setsid` and whose
//!   parent exits can escape. The book's grader chapter says so.
//! * Windows has no process groups: there the check process puts itself into
//!   a job object that kills every process in it when the last handle closes,
//!   which happens when the check process exits or is killed. Processes in the
//!   job may not break away from it.
//!
//! Memory: on Unix the data-segment limit (`RLIMIT_DATA`, which on Linux
//! counts every private writable mapping, so every heap allocation) is set in
//! the check process before it starts, and on Linux the runner also sums the
//! whole group's memory (see [`crate::tree_memory`]); on Windows the job
//! limits the memory each of its processes may commit, and their sum. An
//! allocation past the limit fails, and Rust reports that as "memory
//! allocation of N bytes failed" before it aborts; the runner turns that
//! into a clear verdict.

/// The environment variable that passes the memory limit (bytes) to the
/// check process, which applies it itself on Windows.
pub const MEMORY_LIMIT_ENV: &str = "CHECK_HARNESS_MEMORY_LIMIT";

/// Called by the checks binary before it runs a check.
pub fn contain_descendants() {
    #[cfg(windows)]
    {
        let memory = std::env::var(MEMORY_LIMIT_ENV)
            .ok()
            .and_then(|v| v.parse::<usize>().ok());
        if let Err(e) = windows::join_new_job(memory) {
            eprintln!("warning: cannot put the check into a job object: {e}");
        }
    }
}

/// Puts the command in a new process group (Unix), so that it and everything
/// it starts can be killed together with [`kill_group`].
pub fn new_group(cmd: &mut std::process::Command) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    #[cfg(not(unix))]
    let _ = cmd;
}

/// Limits how much memory the command's process may allocate (see the
/// module docs for how, per OS).
pub fn limit_memory(cmd: &mut std::process::Command, bytes: u64) {
    cmd.env(MEMORY_LIMIT_ENV, bytes.to_string());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let limit = libc::rlimit {
            rlim_cur: bytes as libc::rlim_t,
            rlim_max: bytes as libc::rlim_t,
        };
        // SAFETY: setrlimit is async-signal-safe and touches only the
        // struct it is given, which the closure owns. A system that refuses
        // the limit still runs the check, unbounded, rather than not at all.
        unsafe {
            cmd.pre_exec(move || {
                libc::setrlimit(libc::RLIMIT_DATA, &limit);
                Ok(())
            });
        }
    }
}

/// Kills every process left in the group led by `child` (Unix). On Windows
/// the job object does this when the leader exits, so killing the leader is
/// enough.
pub fn kill_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    kill_unix_group(child.id());
    let _ = child.kill();
}

#[cfg(unix)]
fn kill_unix_group(pid: u32) {
    // SAFETY: kill(2) with a negative pid signals a process group; it
    // touches no memory of ours.
    unsafe {
        libc::kill(-(pid as libc::pid_t), libc::SIGKILL);
    }
}

/// Ends a check process that is a child of this one, with its whole group
/// (or job), and returns once it is dead. It is not reaped: the thread that
/// started it may be waiting for it, and gets its status.
pub fn end_tree(pid: u32) {
    #[cfg(unix)]
    {
        kill_unix_group(pid);
        end_without_reaping(pid);
    }
    #[cfg(windows)]
    windows::terminate(pid);
}

/// Kills a child process of this one and returns once it is dead, leaving
/// it to be reaped by whoever waits for it.
pub fn end_child(pid: u32) {
    #[cfg(unix)]
    end_without_reaping(pid);
    #[cfg(windows)]
    windows::terminate(pid);
}

#[cfg(unix)]
fn end_without_reaping(pid: u32) {
    // SAFETY: plain system calls on a pid; waitid writes only `info`.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGKILL);
        let mut info: libc::siginfo_t = std::mem::zeroed();
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOWAIT,
        );
    }
}

/// Kills a process this one adopted and reaps it.
#[cfg(target_os = "linux")]
fn end_adopted_process(pid: u32) {
    let mut status = 0;
    // SAFETY: plain system calls on a pid; waitpid writes only `status`.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGKILL);
        libc::waitpid(pid as libc::pid_t, &mut status, 0);
    }
}

/// Linux: asks to be handed every orphaned descendant (see the module docs).
/// Elsewhere a no-op. Safe to call more than once.
pub fn adopt_orphans() {
    #[cfg(target_os = "linux")]
    {
        static DONE: std::sync::Once = std::sync::Once::new();
        DONE.call_once(|| {
            // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes an integer flag.
            let ok = unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
            if ok != 0 {
                eprintln!(
                    "warning: cannot adopt orphaned processes ({}): a check's daemon could outlive it",
                    std::io::Error::last_os_error()
                );
            }
        });
    }
}

/// Linux: kills and waits for every child of this process except `keep`:
/// after a check, those are the processes [`adopt_orphans`] brought in. What
/// they started is adopted in turn as they die, so this repeats until no
/// child is left. Returns how many it ended. Elsewhere it does nothing.
///
/// Only for when no new child can start meanwhile (the grader is stopping):
/// otherwise use [`end_adopted_round`] with the list of running processes
/// held still, as [`crate::cleanup::end_orphans`] does.
pub fn end_adopted(keep: &[u32]) -> usize {
    in_rounds(|| end_adopted_round(keep, &[]))
}

/// Runs `round` until it ends nothing, and adds up what it ended. Every
/// round kills at least one process; a fork bomb cannot outrun SIGKILL for
/// long, but the rounds are bounded all the same.
pub fn in_rounds(mut round: impl FnMut() -> usize) -> usize {
    let mut ended = 0;
    for _ in 0..10_000 {
        match round() {
            0 => break,
            n => ended += n,
        }
    }
    ended
}

/// One round of [`end_adopted`]: kills and waits for the children of this
/// process that are not in `keep` now and whose environment holds none of
/// `marks` (`NAME=value` entries), and returns how many there were.
pub fn end_adopted_round(keep: &[u32], marks: &[String]) -> usize {
    #[cfg(target_os = "linux")]
    {
        let children: Vec<u32> = linux::children_of(std::process::id())
            .into_iter()
            .filter(|pid| !keep.contains(pid))
            .filter(|&pid| marks.is_empty() || !environment_holds(pid, marks))
            .collect();
        for &pid in &children {
            end_adopted_process(pid);
        }
        children.len()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (keep, marks);
        0
    }
}

/// Linux: whether the environment process `pid` started with holds one of
/// `entries` (`NAME=value`). False when it cannot be read (the process is
/// gone, or belongs to someone else).
#[cfg(target_os = "linux")]
pub fn environment_holds(pid: u32, entries: &[String]) -> bool {
    std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|env| {
        env.split(|&b| b == 0)
            .any(|e| entries.iter().any(|entry| e == entry.as_bytes()))
    })
}

#[cfg(target_os = "linux")]
mod linux {
    /// The pids whose parent is `parent`, read from /proc.
    pub fn children_of(parent: u32) -> Vec<u32> {
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        dir.flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| parent_of(*pid) == Some(parent))
            .collect()
    }

    /// The fourth field of /proc/<pid>/stat; the second (the command name,
    /// in parentheses) may hold spaces and parentheses, so parse after the
    /// last `)`.
    fn parent_of(pid: u32) -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let rest = &stat[stat.rfind(')')? + 1..];
        rest.split_whitespace().nth(1)?.parse().ok()
    }
}

#[cfg(windows)]
mod windows {
    use windows_sys::Win32::Foundation::{CloseHandle, FALSE};
    use windows_sys::Win32::System::JobObjects::{
        AssignProcessToJobObject, CreateJobObjectW, JobObjectExtendedLimitInformation,
        SetInformationJobObject, JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JOB_OBJECT_LIMIT_JOB_MEMORY,
        JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE, JOB_OBJECT_LIMIT_PROCESS_MEMORY,
    };
    use windows_sys::Win32::System::Threading::{
        GetCurrentProcess, OpenProcess, TerminateProcess, WaitForSingleObject, PROCESS_SYNCHRONIZE,
        PROCESS_TERMINATE,
    };

    /// Creates a job that kills its processes when its last handle closes
    /// (and limits each one's memory and their sum), and puts this process
    /// in it. The
    /// handle is kept open for the life of the process on purpose.
    pub fn join_new_job(memory: Option<usize>) -> Result<(), std::io::Error> {
        // SAFETY: plain Win32 calls; the limit structure is a plain C struct
        // for which all-zero is "no limits", and it outlives the call.
        unsafe {
            let job = CreateJobObjectW(std::ptr::null(), std::ptr::null());
            if job.is_null() {
                return Err(std::io::Error::last_os_error());
            }
            let mut info: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = std::mem::zeroed();
            info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
            if let Some(bytes) = memory {
                // Each process, and all of them together (a check's
                // children share one limit).
                info.BasicLimitInformation.LimitFlags |=
                    JOB_OBJECT_LIMIT_PROCESS_MEMORY | JOB_OBJECT_LIMIT_JOB_MEMORY;
                info.ProcessMemoryLimit = bytes;
                info.JobMemoryLimit = bytes;
            }
            let set = SetInformationJobObject(
                job,
                JobObjectExtendedLimitInformation,
                std::ptr::addr_of!(info).cast(),
                std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>() as u32,
            );
            if set == 0 {
                let e = std::io::Error::last_os_error();
                CloseHandle(job);
                return Err(e);
            }
            if AssignProcessToJobObject(job, GetCurrentProcess()) == 0 {
                let e = std::io::Error::last_os_error();
                CloseHandle(job);
                return Err(e);
            }
        }
        Ok(())
    }

    /// Ends the process `pid` (its job then ends its descendants) and, like
    /// the Unix side, returns once it is dead: `TerminateProcess` only starts
    /// the ending, and files the process holds open cannot be removed until
    /// it is over. The wait is bounded (10 s) so that an interrupt never
    /// hangs on a process that will not die.
    pub fn terminate(pid: u32) {
        // SAFETY: plain Win32 calls on a handle we open and close here.
        unsafe {
            let handle = OpenProcess(PROCESS_TERMINATE | PROCESS_SYNCHRONIZE, FALSE, pid);
            if !handle.is_null() {
                TerminateProcess(handle, 1);
                WaitForSingleObject(handle, 10_000);
                CloseHandle(handle);
            }
        }
    }
}
