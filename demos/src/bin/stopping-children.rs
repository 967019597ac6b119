//! Stopping child processes: politely first, then for sure, and the whole
//! tree, not just the child you know about.
//!
//! Run: `cargo run -p demos --bin stopping-children` (Unix; on Windows it
//! explains what to use instead).
//!
//! 1. `stop`: SIGTERM, wait up to a grace period, then SIGKILL. One child
//!    handles SIGTERM and finishes cleanly; one ignores it and is killed.
//! 2. A child in a process group of its own starts a grandchild; killing the
//!    child alone leaves the grandchild running, killing the group ends both.
//! 3. Linux: a grandchild that asked for `PR_SET_PDEATHSIG` is killed by the
//!    kernel when its parent dies; one that did not ask lives on as an orphan.
//!
//! Every line it prints about a process is what it observed, not assumed.

#[cfg(unix)]
fn main() {
    unix::main();
}

#[cfg(not(unix))]
fn main() {
    println!(
        "This demo uses Unix signals and process groups. On Windows, put the children in a\n\
         job object with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE: when the last handle to the job\n\
         closes (the parent exits or is killed), every process in it is ended. The grader\n\
         does this: xtask/harness/src/containment.rs, `join_new_job`."
    );
}

#[cfg(unix)]
mod unix {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::CommandExt;
    use std::process::{Child, Command, ExitStatus, Stdio};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::thread::sleep;
    use std::time::{Duration, Instant};

    use demos::{role, ROLE_FLAG};

    // ANCHOR: stop
    /// Asks `child` to stop (SIGTERM), waits up to `grace` for it to exit,
    /// then kills it (SIGKILL, which cannot be caught or ignored). Returns
    /// how it ended and whether it had to be killed.
    pub fn stop(child: &mut Child, grace: Duration) -> std::io::Result<(ExitStatus, bool)> {
        // SAFETY: kill(2) sends a signal to a pid; it touches no memory.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Some(status) = child.try_wait()? {
                return Ok((status, false));
            }
            sleep(Duration::from_millis(10));
        }
        child.kill()?; // SIGKILL on Unix
        Ok((child.wait()?, true))
    }
    // ANCHOR_END: stop

    static TERM_ASKED: AtomicBool = AtomicBool::new(false);

    extern "C" fn on_sigterm(_: libc::c_int) {
        // Only async-signal-safe work in a handler: set a flag, nothing else.
        TERM_ASKED.store(true, Ordering::SeqCst);
    }

    fn me() -> Command {
        Command::new(std::env::current_exe().expect("where is my own executable?"))
    }

    fn started(role: &str) -> Child {
        let mut child = me()
            .args([ROLE_FLAG, role])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start a child");
        // Each child prints one line once it is ready (its handlers are set,
        // its own child started), so the parent never signals too early.
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        child
    }

    /// Starts `role` and returns it with the pid of the grandchild it printed.
    fn started_with_grandchild(cmd: &mut Command) -> (Child, u32) {
        let mut child = cmd.stdout(Stdio::piped()).spawn().expect("start a child");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let pid = line
            .trim()
            .parse()
            .expect("the child prints its child's pid");
        (child, pid)
    }

    /// Whether `pid` is a running process. A zombie (dead, not yet reaped by
    /// whoever adopted it) counts as gone.
    fn alive(pid: u32) -> bool {
        #[cfg(target_os = "linux")]
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            // The state is the first field after the parenthesised name.
            let state = stat
                .rsplit(')')
                .next()
                .and_then(|r| r.trim().chars().next());
            return state != Some('Z');
        }
        // SAFETY: signal 0 only checks that the process exists.
        unsafe { libc::kill(pid as libc::pid_t, 0) == 0 }
    }

    /// Waits up to a second for `pid` to be gone.
    fn gone_soon(pid: u32) -> bool {
        let deadline = Instant::now() + Duration::from_secs(1);
        while Instant::now() < deadline {
            if !alive(pid) {
                return true;
            }
            sleep(Duration::from_millis(10));
        }
        false
    }

    fn kill(pid: u32) {
        // SAFETY: as above.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
    }

    fn say(pid: u32) -> &'static str {
        if gone_soon(pid) {
            "gone"
        } else {
            "STILL RUNNING"
        }
    }

    fn child_roles(role: &str) {
        let ready = || println!("ready");
        match role {
            "polite" => {
                // SAFETY: installs a handler that only stores to an atomic.
                unsafe {
                    libc::signal(libc::SIGTERM, on_sigterm as *const () as libc::sighandler_t)
                };
                ready();
                while !TERM_ASKED.load(Ordering::SeqCst) {
                    sleep(Duration::from_millis(5));
                }
                // A real worker would finish its request, flush, remove temp files.
                std::process::exit(0);
            }
            "stubborn" => {
                // SAFETY: SIG_IGN is always a valid disposition.
                unsafe { libc::signal(libc::SIGTERM, libc::SIG_IGN) };
                ready();
                loop {
                    sleep(Duration::from_secs(1));
                }
            }
            "sleeper" => loop {
                sleep(Duration::from_secs(1));
            },
            "parent" => {
                let mut grandchild = me().args([ROLE_FLAG, "sleeper"]).spawn().unwrap();
                println!("{}", grandchild.id());
                // Waits for ever: the sleeper never ends by itself.
                let _ = grandchild.wait();
            }
            #[cfg(target_os = "linux")]
            "parent-pdeathsig" | "parent-plain" => {
                let mut cmd = me();
                cmd.args([ROLE_FLAG, "sleeper"]);
                if role == "parent-pdeathsig" {
                    let parent = std::process::id();
                    // ANCHOR: pdeathsig
                    // SAFETY: prctl and getppid are async-signal-safe, so they
                    // may run between fork and exec.
                    unsafe {
                        cmd.pre_exec(move || {
                            // "Send me SIGKILL when the thread that started me dies."
                            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                                return Err(std::io::Error::last_os_error());
                            }
                            // The parent may have died before the call above.
                            if libc::getppid() as u32 != parent {
                                return Err(std::io::Error::other("parent already gone"));
                            }
                            Ok(())
                        });
                    }
                    // ANCHOR_END: pdeathsig
                }
                let grandchild = cmd.spawn().unwrap();
                println!("{}", grandchild.id());
                // Exits at once: the grandchild is orphaned.
                std::process::exit(0);
            }
            other => panic!("unknown role {other}"),
        }
    }

    pub fn main() {
        if let Some(role) = role() {
            return child_roles(&role);
        }
        let grace = Duration::from_millis(500);

        println!("1. SIGTERM, then SIGKILL after {} ms", grace.as_millis());
        for role in ["polite", "stubborn"] {
            let mut child = started(role);
            let asked = Instant::now();
            let (status, killed) = stop(&mut child, grace).unwrap();
            println!(
                "  {role:<9} {} after {} ms: {status}",
                if killed { "killed" } else { "exited by itself" },
                asked.elapsed().as_millis()
            );
        }

        println!("\n2. a child and its own child (a grandchild)");
        for whole_group in [false, true] {
            let mut cmd = me();
            cmd.args([ROLE_FLAG, "parent"]).process_group(0); // its own group
            let (mut child, grandchild) = started_with_grandchild(&mut cmd);
            if whole_group {
                // SAFETY: a negative pid signals every process of that group.
                unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
            } else {
                child.kill().unwrap();
            }
            child.wait().unwrap();
            let how = if whole_group {
                "killed the group"
            } else {
                "killed the child"
            };
            println!("  {how:<18} grandchild {grandchild}: {}", say(grandchild));
            kill(grandchild); // clean up whatever the demo left
        }

        #[cfg(target_os = "linux")]
        {
            println!("\n3. the parent exits; its child is orphaned (Linux: PR_SET_PDEATHSIG)");
            for role in ["parent-plain", "parent-pdeathsig"] {
                let mut cmd = me();
                cmd.args([ROLE_FLAG, role]);
                let (mut child, grandchild) = started_with_grandchild(&mut cmd);
                child.wait().unwrap();
                let asked = if role == "parent-plain" {
                    "without PDEATHSIG"
                } else {
                    "with PDEATHSIG"
                };
                println!("  {asked:<18} grandchild {grandchild}: {}", say(grandchild));
                kill(grandchild);
            }
        }
    }
}
