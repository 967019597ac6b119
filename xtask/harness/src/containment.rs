//! Making sure no process a check started outlives it.
//!
//! On Unix the grader starts each check in a process group of its own and
//! kills the whole group when the check ends (see [`crate::runner`]). Windows
//! has no process groups: there the check process puts itself into a job
//! object that kills every process in it when the last handle closes, which
//! happens when the check process exits or is killed.

/// Called by the checks binary before it runs a check.
pub fn contain_descendants() {
    #[cfg(windows)]
    {
        let mut info = win32job::ExtendedLimitInfo::new();
        info.limit_kill_on_job_close();
        match win32job::Job::create_with_limit_info(&info) {
            Ok(job) => {
                if let Err(e) = job.assign_current_process() {
                    eprintln!("warning: cannot join a job object: {e:?}");
                }
                // Keep the handle open for the life of this process: closing
                // it is what kills the descendants.
                std::mem::forget(job);
            }
            Err(e) => eprintln!("warning: cannot create a job object: {e:?}"),
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

/// Kills every process left in the group led by `pid` (Unix). On Windows the
/// job object does this when the leader exits, so killing the leader is enough.
pub fn kill_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        let pgid = child.id() as libc::pid_t;
        // SAFETY: kill(2) with a negative pid signals a process group; it
        // touches no memory of ours.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
}
