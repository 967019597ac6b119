//! A check must not outlive the grader that started it. When the grader is
//! killed (`kill -9`, a closed terminal, code under test killing it) it
//! cannot end its check; the check then notices by itself and ends
//! everything it started, and removes the grader's temporary folder.
//!
//! How the check notices, without polling:
//! * Unix: the grader keeps the writing end of a pipe open for as long as
//!   the check runs; the check holds the reading end (as fd 3, named by
//!   [`FD_ENV`]) and a thread of its own blocks reading it. Reading returns
//!   end-of-file once every writing end is closed, which the kernel does
//!   when the grader dies, however it dies (and at once if it is gone
//!   already).
//! * Windows: a thread waits on a handle to the grader's process
//!   ([`PID_ENV`]).
//!
//! Then the check kills what it started, then its own process group,
//! itself included. On Linux "what it started" is every descendant and
//! every process whose environment carries this run's mark ([`RUN_ENV`],
//! which the code under test inherits): a `setsid` daemon whose parent
//! exited was adopted by the grader and is nobody's descendant once the
//! grader is gone. On macOS it is the process group (a daemon that left it
//! escapes, as the grader chapter says). On Windows exiting closes the job
//! object, which ends every process in it.
//! `PR_SET_PDEATHSIG` is not used: it fires when the parent *thread* that
//! started the child ends, which is not the same as the grader ending.

use std::path::Path;

/// The environment variable that names the check's end of the pipe (Unix).
pub const FD_ENV: &str = "CHECK_HARNESS_PARENT_FD";
/// The environment variable that names the grader's process id (Windows).
pub const PID_ENV: &str = "CHECK_HARNESS_PARENT_PID";
/// The environment variable that marks every process of one check run.
pub const RUN_ENV: &str = "CHECK_HARNESS_RUN";

/// The fd the grader's pipe is given as in the check process (Unix).
#[cfg(unix)]
pub const CHILD_FD: i32 = 3;

/// The grader's side: what keeps the check's watch quiet while it lives.
pub struct Lifeline {
    #[cfg(unix)]
    _writer: Option<std::io::PipeWriter>,
}

impl Lifeline {
    /// The check has ended: the grader lets go of its end.
    pub fn end(self) {}
}

/// Prepares `cmd` so that the check it starts can tell when this process
/// is gone; `run` marks this run's processes. Keep the returned
/// [`Lifeline`] until the check has ended.
pub fn lifeline(cmd: &mut std::process::Command, run: &str) -> Lifeline {
    cmd.env(RUN_ENV, run);
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        use std::os::unix::process::CommandExt;
        let Ok((reader, writer)) = std::io::pipe() else {
            return Lifeline { _writer: None };
        };
        let fd = reader.as_raw_fd();
        cmd.env(FD_ENV, CHILD_FD.to_string());
        // SAFETY: dup2 and fcntl are async-signal-safe and touch no memory.
        // The reading end is moved into the closure so that it stays open
        // until the child has it; std closes the closure's copy after the
        // spawn, when `cmd` is dropped.
        unsafe {
            cmd.pre_exec(move || {
                let _keep = &reader;
                if fd == CHILD_FD {
                    // dup2 onto itself would keep close-on-exec set.
                    libc::fcntl(fd, libc::F_SETFD, 0);
                } else if libc::dup2(fd, CHILD_FD) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        Lifeline {
            _writer: Some(writer),
        }
    }
    #[cfg(not(unix))]
    {
        cmd.env(PID_ENV, std::process::id().to_string());
        Lifeline {}
    }
}

/// The check's side, called by the harness before the check runs: starts
/// the thread that ends everything when the grader is gone. `result_file`
/// is in the grader's temporary folder for this check, which is removed
/// then too.
pub fn watch(result_file: &Path) {
    let folder = result_file
        .parent()
        .filter(|dir| {
            dir.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("course-check-"))
        })
        .map(Path::to_path_buf);
    #[cfg(unix)]
    {
        use std::io::Read;
        use std::os::fd::FromRawFd;
        let Some(fd) = std::env::var(FD_ENV)
            .ok()
            .and_then(|v| v.parse::<i32>().ok())
        else {
            return;
        };
        // SAFETY: the grader gave this process the fd (see `lifeline`);
        // nothing else in it uses the fd, and from here on the File owns it.
        // Close-on-exec: what the code under test starts does not get it.
        let mut pipe = unsafe {
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
            std::fs::File::from_raw_fd(fd)
        };
        let _ = std::thread::Builder::new()
            .name("grader-watch".into())
            .spawn(move || {
                let mut byte = [0u8; 1];
                // Nothing is ever written: this returns when the grader dies.
                while let Ok(1) = pipe.read(&mut byte) {}
                grader_gone(folder.as_deref());
            });
    }
    #[cfg(windows)]
    {
        let Some(pid) = std::env::var(PID_ENV)
            .ok()
            .and_then(|v| v.parse::<u32>().ok())
        else {
            return;
        };
        let _ = std::thread::Builder::new()
            .name("grader-watch".into())
            .spawn(move || {
                windows::wait_for_exit(pid);
                grader_gone(folder.as_deref());
            });
    }
}

/// The grader is gone: remove its temporary folder, end every process this
/// check started, then this one.
fn grader_gone(folder: Option<&Path>) -> ! {
    if let Some(folder) = folder {
        let _ = std::fs::remove_dir_all(folder);
    }
    #[cfg(target_os = "linux")]
    {
        let mark = std::env::var(RUN_ENV).ok().filter(|m| !m.is_empty());
        crate::containment::in_rounds(|| {
            let mut pids = linux::descendants_of(std::process::id());
            if let Some(mark) = &mark {
                pids.extend(linux::marked(&format!("{RUN_ENV}={mark}")));
            }
            pids.retain(|&p| p != std::process::id());
            pids.sort_unstable();
            pids.dedup();
            for &pid in &pids {
                // SAFETY: kill(2) on a pid; no memory is touched.
                unsafe {
                    libc::kill(pid as libc::pid_t, libc::SIGKILL);
                }
            }
            pids.len()
        });
    }
    #[cfg(unix)]
    // SAFETY: kill(2) on our own process group, which we lead.
    unsafe {
        libc::kill(0, libc::SIGKILL);
    }
    // Windows: exiting closes the job object, which ends its processes.
    std::process::exit(1)
}

#[cfg(target_os = "linux")]
mod linux {
    /// Every living descendant of `pid`, read from /proc (zombies, which
    /// hold nothing, are left out).
    pub fn descendants_of(pid: u32) -> Vec<u32> {
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        let parents: Vec<(u32, u32)> = dir
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter_map(|p| Some((p, parent_if_alive(p)?)))
            .collect();
        let mut found = vec![pid];
        let mut i = 0;
        while i < found.len() {
            let parent = found[i];
            found.extend(
                parents
                    .iter()
                    .filter(|(_, pp)| *pp == parent)
                    .map(|(p, _)| *p),
            );
            i += 1;
        }
        found.remove(0);
        found
    }

    /// Every living process whose environment holds `entry` (`NAME=value`).
    pub fn marked(entry: &str) -> Vec<u32> {
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        let entries = [entry.to_string()];
        dir.flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|&pid| parent_if_alive(pid).is_some())
            .filter(|&pid| crate::containment::environment_holds(pid, &entries))
            .collect()
    }

    fn parent_if_alive(pid: u32) -> Option<u32> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let rest = &stat[stat.rfind(')')? + 1..];
        let mut fields = rest.split_whitespace();
        let state = fields.next()?;
        if state == "Z" || state == "X" {
            return None;
        }
        fields.next()?.parse().ok()
    }
}

#[cfg(windows)]
mod windows {
    use windows_sys::Win32::Foundation::{CloseHandle, FALSE};
    use windows_sys::Win32::System::Threading::{
        OpenProcess, WaitForSingleObject, INFINITE, PROCESS_SYNCHRONIZE,
    };

    /// Returns when process `pid` has ended (at once if it cannot be
    /// opened: then it is gone already).
    pub fn wait_for_exit(pid: u32) {
        // SAFETY: plain Win32 calls on a handle we open and close here.
        unsafe {
            let handle = OpenProcess(PROCESS_SYNCHRONIZE, FALSE, pid);
            if handle.is_null() {
                return;
            }
            WaitForSingleObject(handle, INFINITE);
            CloseHandle(handle);
        }
    }
}
