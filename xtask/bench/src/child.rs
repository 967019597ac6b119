//! Child processes: the bench's own executable, started in a *role*
//! (`course-bench --role NAME ARGS...`), and a guard that never leaves one
//! behind.
//!
//! Every role that reads stdin stops at end of input, so even if the parent
//! is killed outright, its children see their stdin close and exit.

use std::io::{self, BufRead, BufWriter, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};

use crate::comm::Message;
use crate::scaling::count_primes;

/// The flag that puts the executable in a child role.
pub const ROLE_FLAG: &str = "--role";

/// A running child. Dropping it kills the child if it is still running and
/// always waits for it, so no process outlives its benchmark (nor a zombie).
pub struct Worker {
    child: Child,
}

impl Worker {
    /// Starts the own executable in `role`. `piped` gives the parent the
    /// child's stdin and stdout; otherwise both are closed/discarded.
    pub fn spawn(role: &str, args: &[String], piped: bool) -> io::Result<Worker> {
        let mut cmd = Command::new(std::env::current_exe()?);
        cmd.arg(ROLE_FLAG).arg(role).args(args);
        if piped {
            cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
        } else {
            cmd.stdin(Stdio::null()).stdout(Stdio::null());
        }
        Ok(Worker {
            child: cmd.spawn()?,
        })
    }

    /// The child's process id; only the Linux memory benchmark reads it
    /// (from /proc), so it exists only there.
    #[cfg(target_os = "linux")]
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// The child's stdin (taking it away and dropping it closes the pipe).
    pub fn take_stdin(&mut self) -> ChildStdin {
        self.child
            .stdin
            .take()
            .expect("child started without piped stdin")
    }

    pub fn take_stdout(&mut self) -> ChildStdout {
        self.child
            .stdout
            .take()
            .expect("child started without piped stdout")
    }

    /// Closes stdin (if still open) and waits for the child to exit.
    pub fn finish(mut self) -> io::Result<ExitStatus> {
        drop(self.child.stdin.take());
        self.child.wait()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Runs the role named on the command line; returns `None` if the process was
/// not started in a role (it is the bench itself).
pub fn run_role_if_requested() -> Option<io::Result<()>> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) != Some(ROLE_FLAG) {
        return None;
    }
    let role = args.get(2).cloned().unwrap_or_default();
    let rest = &args[3.min(args.len())..];
    Some(run_role(&role, rest))
}

fn number(args: &[String], i: usize) -> io::Result<u64> {
    args.get(i)
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| io::Error::other(format!("role argument {i} missing or not a number")))
}

fn run_role(role: &str, args: &[String]) -> io::Result<()> {
    let stdin = io::stdin().lock();
    let mut out = BufWriter::new(io::stdout().lock());
    match role {
        // Spawn cost: start, do nothing, exit.
        "noop" => Ok(()),
        // Memory: say "ready" once running, then sit idle until stdin closes.
        "idle" => {
            writeln!(out, "ready")?;
            out.flush()?;
            io::copy(&mut stdin.take(u64::MAX), &mut io::sink())?;
            Ok(())
        }
        // Throughput over JSON lines: parse every message, report the total.
        "json-sink" => {
            let (mut count, mut bytes) = (0u64, 0u64);
            for line in stdin.lines() {
                let message: Message = serde_json::from_str(&line?)?;
                count += 1;
                bytes += message.body.len() as u64;
            }
            writeln!(out, "{count} {bytes}")?;
            out.flush()
        }
        // Round trips over JSON lines: parse each message and send it back.
        "json-echo" => {
            for line in stdin.lines() {
                let message: Message = serde_json::from_str(&line?)?;
                serde_json::to_writer(&mut out, &message)?;
                out.write_all(b"\n")?;
                out.flush()?;
            }
            Ok(())
        }
        // Throughput over raw frames (id, length, bytes): no encoding at all.
        "raw-sink" => {
            let mut input = io::BufReader::new(stdin);
            let (mut count, mut bytes) = (0u64, 0u64);
            let mut body = Vec::new();
            while let Some(_id) = read_frame(&mut input, &mut body)? {
                count += 1;
                bytes += body.len() as u64;
            }
            writeln!(out, "{count} {bytes}")?;
            out.flush()
        }
        "raw-echo" => {
            let mut input = io::BufReader::new(stdin);
            let mut body = Vec::new();
            while let Some(id) = read_frame(&mut input, &mut body)? {
                write_frame(&mut out, id, &body)?;
                out.flush()?;
            }
            Ok(())
        }
        // Scaling and blocking: one worker's share of the CPU-bound job.
        "primes" => {
            let count = count_primes(number(args, 0)?, number(args, 1)?, number(args, 2)?);
            writeln!(out, "{count}")?;
            out.flush()
        }
        other => Err(io::Error::other(format!("unknown role `{other}`"))),
    }
}

/// A raw frame: 8-byte id and 4-byte length (little-endian), then the bytes.
pub fn write_frame(out: &mut impl Write, id: u64, body: &[u8]) -> io::Result<()> {
    out.write_all(&id.to_le_bytes())?;
    out.write_all(&(body.len() as u32).to_le_bytes())?;
    out.write_all(body)
}

/// Reads one frame into `body`; `None` at a clean end of input.
pub fn read_frame(input: &mut impl Read, body: &mut Vec<u8>) -> io::Result<Option<u64>> {
    let mut header = [0u8; 12];
    match input.read_exact(&mut header) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let id = u64::from_le_bytes(header[..8].try_into().expect("8 bytes"));
    let len = u32::from_le_bytes(header[8..].try_into().expect("4 bytes")) as usize;
    body.resize(len, 0);
    input.read_exact(body)?;
    Ok(Some(id))
}
