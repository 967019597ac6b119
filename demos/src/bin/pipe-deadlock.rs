//! Pitfall: the pipe deadlock.
//!
//! Run: `cargo run -p demos --bin pipe-deadlock`
//!
//! The child is this same program in the role "echo": it copies its stdin to
//! its stdout as it reads, like `cat`. The parent sends it 1 MiB.
//!
//! Wrong: write everything to the child's stdin, then read its stdout. The
//! child blocks writing to a full stdout pipe (nobody reads it yet), so it
//! stops reading stdin; the parent blocks writing to a full stdin pipe. Both
//! wait for ever. (Here a watchdog kills the child after 3 s so the demo ends.)
//!
//! Right: write stdin on another thread while this thread reads stdout.

use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use demos::role;

const SIZE: usize = 1024 * 1024;

// ANCHOR: wrong
use std::io::{self, Read, Write};
use std::process::{ChildStdin, ChildStdout};

/// Writes all the input, and only then reads the output.
fn write_all_then_read(
    mut stdin: ChildStdin,
    mut stdout: ChildStdout,
    input: &[u8],
) -> io::Result<Vec<u8>> {
    stdin.write_all(input)?; // blocks for ever once both pipes are full
    drop(stdin); // closing it tells the child "end of input"
    let mut output = Vec::new();
    stdout.read_to_end(&mut output)?;
    Ok(output)
}
// ANCHOR_END: wrong

// ANCHOR: right
/// Writes on a second thread while this one reads: neither pipe stays full.
fn write_and_read_together(
    mut stdin: std::process::ChildStdin,
    mut stdout: std::process::ChildStdout,
    input: Vec<u8>,
) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Write};

    // The writer thread owns stdin and drops (closes) it when it is done.
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let mut output = Vec::new();
    stdout.read_to_end(&mut output)?;
    writer.join().expect("the writer thread panicked")?;
    Ok(output)
}
// ANCHOR_END: right

fn start_echo_child() -> io::Result<(Child, ChildStdin, ChildStdout)> {
    let mut child = Command::new(std::env::current_exe()?)
        .args(["--role", "echo"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let stdin = child.stdin.take().expect("stdin was piped");
    let stdout = child.stdout.take().expect("stdout was piped");
    Ok((child, stdin, stdout))
}

fn main() -> io::Result<()> {
    if role().as_deref() == Some("echo") {
        // Copy as we read. Errors (the parent went away) just end the child.
        let _ = io::copy(&mut io::stdin().lock(), &mut io::stdout().lock());
        return Ok(());
    }
    let input = vec![b'x'; SIZE];
    println!("sending {SIZE} bytes through a child that echoes them back\n");

    // The wrong way, on a thread we can give up on.
    let (mut child, stdin, stdout) = start_echo_child()?;
    let (done, finished) = mpsc::channel();
    let data = input.clone();
    let stuck = std::thread::spawn(move || {
        let _ = done.send(write_all_then_read(stdin, stdout, &data).map(|o| o.len()));
    });
    match finished.recv_timeout(Duration::from_secs(3)) {
        Ok(result) => println!("write all, then read:         finished: {result:?}"),
        Err(_) => {
            println!("write all, then read:         still stuck after 3 s: deadlock");
            child.kill()?; // the blocked write now fails with a broken pipe
        }
    }
    let status = child.wait()?; // always reap the child
    stuck.join().expect("the stuck thread panicked");
    println!("                              (child ended: {status})");

    let (mut child, stdin, stdout) = start_echo_child()?;
    let output = write_and_read_together(stdin, stdout, input)?;
    let status = child.wait()?;
    let correct = output.len() == SIZE && output.iter().all(|&b| b == b'x');
    println!(
        "write on a thread, read here: {} bytes back, correct: {correct} ({status})",
        output.len()
    );
    Ok(())
}
