//! Was a worker started through a shell?
//!
//! A check cannot see how the learner's code starts a worker, but the
//! worker (this same checks binary) can look at what it was given. A shell
//! (sh, bash, dash, zsh) puts `PWD` into the environment of the programs it
//! starts. So the check removes `PWD` from its own environment and arms a
//! probe ([`ShellProbe::arm`]); each worker notes in the probe's file
//! whether it finds `PWD` set ([`note_if_started_by_shell`]), then works as
//! usual.
//! (`cmd.exe` sets no such variable; on Windows the check can only look at
//! the command it is given.)

use std::path::PathBuf;

/// The environment variable that names the probe's file.
const ENV: &str = "COURSE_SHELL_PROBE";

/// Worker side, first thing in `main`: if this process was started as a
/// worker (its first argument is `role`) while a probe is armed, note
/// whether a shell started it.
///
/// A worker whose first argument is `role` with more after a space (the
/// role and the rest passed as one argument) notes "joined".
pub fn note_if_started_by_shell(role: &str) {
    let first = std::env::args().nth(1).unwrap_or_default();
    let joined = first
        .strip_prefix(role)
        .is_some_and(|rest| rest.starts_with(' '));
    if first != role && !joined {
        return;
    }
    if let Some(probe) = std::env::var_os(ENV) {
        let how = if joined {
            "joined\n"
        } else if std::env::var_os("PWD").is_some() {
            "shell\n"
        } else {
            "direct\n"
        };
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(probe)
        {
            let _ = std::io::Write::write_all(&mut file, how.as_bytes());
        }
    }
}

/// The check's side: armed while it lives.
#[derive(Debug)]
pub struct ShellProbe {
    path: PathBuf,
}

impl ShellProbe {
    /// Arms the probe for the workers started from now on. Call it before
    /// the code under test starts threads (a check runs in a process of its
    /// own, so this is the start of the check).
    pub fn arm() -> ShellProbe {
        let path = std::env::temp_dir().join(format!("course-shell-probe-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        std::env::remove_var("PWD");
        std::env::set_var(ENV, &path);
        ShellProbe { path }
    }

    /// Did a worker started since [`ShellProbe::arm`] come through a shell?
    pub fn found_a_shell(&self) -> bool {
        self.workers_seen().contains(&true)
    }

    /// For each worker started since [`ShellProbe::arm`], in order: did it
    /// come through a shell?
    pub fn workers_seen(&self) -> Vec<bool> {
        self.notes().iter().map(|l| l == "shell").collect()
    }

    /// Did a worker get its role and the rest as one argument, with a space
    /// in it (`.arg("--worker 5")` instead of two `.arg`s)?
    pub fn found_joined_arguments(&self) -> bool {
        self.notes().iter().any(|l| l == "joined")
    }

    fn notes(&self) -> Vec<String> {
        std::fs::read_to_string(&self.path)
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }
}

impl Drop for ShellProbe {
    fn drop(&mut self) {
        std::env::remove_var(ENV);
        let _ = std::fs::remove_file(&self.path);
    }
}
