//! Did the code under test leave a child process behind?

/// A child process the code under test left behind (see [`left_behind`]).
/// It displays as a sentence for a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftBehind {
    /// The child had ended and was a zombie (it is reaped now); otherwise it
    /// was still running.
    pub ended: bool,
    /// The zombie's process id, where known.
    pub pid: Option<u32>,
}

impl std::fmt::Display for LeftBehind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.ended, self.pid) {
            (true, Some(pid)) => write!(
                f,
                "child process {pid} had ended but nobody had waited for it (a zombie)"
            ),
            (true, None) => write!(
                f,
                "a child process had ended but nobody had waited for it (a zombie)"
            ),
            (false, _) => write!(f, "a child process was still running"),
        }
    }
}

/// `None` when this process has no child left: not a running one (it should
/// have ended or been killed) and not a zombie (it should have been waited
/// for). Otherwise which of the two it found.
///
/// Windows has no zombies and no portable way to list a process's children;
/// there the collected exit status is the proof, and the grader's job object
/// kills anything left over when the check ends. So this part of a check
/// runs on Linux and macOS.
pub fn left_behind() -> Option<LeftBehind> {
    #[cfg(unix)]
    {
        // A child that was just killed is still running for a moment, on
        // its way to being a zombie. So a "still running" is final only
        // once every process and thread involved is asleep (see `settle`):
        // a child that is dying is not, one that hangs is.
        reap().map(|first| {
            if first.ended {
                return first;
            }
            crate::settle::settled(&|| Some(crate::settle::descendants()), SETTLE_LIMIT);
            reap().unwrap_or(first)
        })
    }
    #[cfg(not(unix))]
    None
}

/// How long [`left_behind`] lets a child that is still running settle.
#[cfg(unix)]
const SETTLE_LIMIT: std::time::Duration = std::time::Duration::from_secs(3);

/// One look: `None` without children, otherwise a child still running or
/// a zombie (which this reaps).
#[cfg(unix)]
fn reap() -> Option<LeftBehind> {
    let mut status = 0;
    // SAFETY: waitpid only writes the status integer we pass it. With
    // WNOHANG it never blocks: -1 (ECHILD) means this process has no child
    // processes at all, 0 means a child is still running, and a pid means a
    // child had exited but was never waited for (it is reaped now).
    let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
    match pid {
        -1 => None,
        0 => Some(LeftBehind {
            ended: false,
            pid: None,
        }),
        pid => Some(LeftBehind {
            ended: true,
            pid: u32::try_from(pid).ok(),
        }),
    }
}
