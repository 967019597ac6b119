//! Did the code under test leave a child process behind?

/// `None` when this process has no child left: not a running one (it should
/// have ended or been killed) and not a zombie (it should have been waited
/// for). Otherwise a sentence saying which.
///
/// Windows has no zombies and no portable way to list a process's children;
/// there the collected exit status is the proof, and the grader's job object
/// kills anything left over when the check ends. So this part of a check
/// runs on Linux and macOS.
pub fn left_behind() -> Option<String> {
    #[cfg(unix)]
    {
        let mut status = 0;
        // SAFETY: waitpid only writes the status integer we pass it. With
        // WNOHANG it never blocks: -1 (ECHILD) means this process has no
        // child processes at all, 0 means a child is still running, and a
        // pid means a child had exited but was never waited for (it is
        // reaped now).
        let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        match pid {
            -1 => None,
            0 => Some("a child process was still running".to_string()),
            pid => Some(format!(
                "child process {pid} had ended but nobody had waited for it (a zombie)"
            )),
        }
    }
    #[cfg(not(unix))]
    None
}
