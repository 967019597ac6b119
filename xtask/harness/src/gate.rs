//! A gate a check holds across processes.
//!
//! A check's workers are often this same checks binary, started by the
//! learner's code, so the check cannot hand them arguments; they inherit its
//! environment, though. [`Gate::hold`] creates a file, takes an exclusive
//! lock on it and names it in an environment variable. A worker that calls
//! [`pass`] with that variable takes a shared lock on the file, so it stops
//! there for as long as the check holds the gate, however fast the machine
//! is, and goes on the moment the check lets go ([`Gate::release`], or
//! dropping the gate). With the variable unset, [`pass`] returns at once.

use std::fs::File;
use std::path::PathBuf;

/// The check's side of a gate. Dropping it opens the gate and removes the
/// file.
#[derive(Debug)]
pub struct Gate {
    env: &'static str,
    path: PathBuf,
    lock: Option<File>,
}

impl Gate {
    /// Creates the gate, closed, and names it in the environment variable
    /// `env` for the processes started from now on.
    ///
    /// Call it before the code under test starts threads that read the
    /// environment (a check runs in a process of its own, so this is the
    /// start of the check).
    pub fn hold(env: &'static str) -> Gate {
        let path = std::env::temp_dir().join(format!(
            "course-gate-{}-{}",
            env.to_lowercase(),
            std::process::id()
        ));
        let file = File::create(&path).expect("create a gate file");
        file.lock().expect("lock the gate file");
        std::env::set_var(env, &path);
        Gate {
            env,
            path,
            lock: Some(file),
        }
    }

    /// Opens the gate: every process waiting in [`pass`] goes on, and later
    /// ones do not stop.
    pub fn release(&mut self) {
        // Closing the file releases the lock.
        self.lock = None;
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        self.release();
        std::env::remove_var(self.env);
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The worker's side: waits while the gate named in `env` is held. Returns
/// at once when `env` is not set, or the gate is already open.
pub fn pass(env: &str) {
    let Some(path) = std::env::var_os(env) else {
        return;
    };
    if let Ok(gate) = File::open(path) {
        // An error (a file system without locks) means no hold.
        let _ = gate.lock_shared();
    }
}

/// For a worker about to exit, if the gate named in `env` is set: closes
/// this process's standard input and output, the way a dying process's
/// pipes close before the process has exited, and stays alive until its
/// parent waits for it, or the check opens the gate, or [`LINGER_LIMIT`].
///
/// Whoever reads the worker's output sees end-of-file while the process is
/// still alive: only code that waits for the process gets its exit status;
/// code that asks once whether it has exited (`try_wait`) hears "not yet",
/// every time. On Linux the worker sees its parent wait (a thread of the
/// parent sleeping in the kernel's `do_wait`, from `/proc`) and exits at
/// once; elsewhere, or if `/proc` does not say, it exits after
/// [`LINGER_LIMIT`]. Flush stdout first.
pub fn close_pipes_and_linger(env: &str) {
    let Some(path) = std::env::var_os(env) else {
        return;
    };
    // Opened before the standard handles are closed, so that it cannot
    // take their place.
    let Ok(gate) = File::open(path) else {
        return;
    };
    close_standard_pipes();
    linger(&gate);
}

/// For a worker about to exit, if the gate named in `env` is set: stays
/// alive until its parent waits for it, or the check opens the gate, or
/// [`LINGER_LIMIT`], as [`close_pipes_and_linger`] does, but with its pipes
/// left as they are. A parent that kills the worker instead of waiting for
/// it then always finds it still alive, however fast the worker would have
/// exited on its own.
pub fn linger_until_waited(env: &str) {
    let Some(path) = std::env::var_os(env) else {
        return;
    };
    if let Ok(gate) = File::open(path) {
        linger(&gate);
    }
}

fn linger(gate: &File) {
    let started = std::time::Instant::now();
    loop {
        if gate.try_lock_shared().is_ok() || parent_is_waiting() == Some(true) {
            return;
        }
        if started.elapsed() >= LINGER_LIMIT {
            return;
        }
        // Paces the looking; the decision is made by what is seen.
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// How long [`close_pipes_and_linger`] stays when it cannot see its parent.
pub const LINGER_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Is a thread of this process's parent waiting for a child? `None` when
/// this platform (or `/proc`) cannot tell.
fn parent_is_waiting() -> Option<bool> {
    #[cfg(target_os = "linux")]
    {
        let parent = std::os::unix::process::parent_id();
        let mut known = false;
        for task in std::fs::read_dir(format!("/proc/{parent}/task"))
            .ok()?
            .flatten()
        {
            let Ok(wchan) = std::fs::read_to_string(task.path().join("wchan")) else {
                continue;
            };
            let wchan = wchan.trim();
            if wchan == "do_wait" || wchan == "kernel_waitid" || wchan == "__do_sys_wait4" {
                return Some(true);
            }
            // "0" means the kernel hides it.
            known |= !wchan.is_empty() && wchan != "0";
        }
        known.then_some(false)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

fn close_standard_pipes() {
    #[cfg(unix)]
    {
        use std::os::fd::{AsRawFd, FromRawFd};
        // SAFETY: the standard descriptors are open; each File takes one
        // over and closes it when dropped. Nothing reads or writes them
        // afterwards: the process exits next.
        unsafe {
            drop(File::from_raw_fd(std::io::stdout().as_raw_fd()));
            drop(File::from_raw_fd(std::io::stdin().as_raw_fd()));
        }
    }
    #[cfg(windows)]
    {
        use std::os::windows::io::{AsRawHandle, FromRawHandle};
        // SAFETY: as above, for the process's standard handles.
        unsafe {
            drop(File::from_raw_handle(std::io::stdout().as_raw_handle()));
            drop(File::from_raw_handle(std::io::stdin().as_raw_handle()));
        }
    }
}
