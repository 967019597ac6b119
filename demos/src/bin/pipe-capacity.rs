//! How much does a pipe hold before a writer has to wait?
//!
//! Run: `cargo run -p demos --bin pipe-capacity`
//!
//! A thread writes one byte at a time into a pipe nobody reads, counting as it
//! goes. When the count stops moving, the pipe's kernel buffer is full and the
//! writer is blocked. Then we close the read end: the blocked write fails with
//! "broken pipe" and the writer thread ends.
//!
//! (This demo watches the count with a timer, which is fine for reading a
//! number off; never use timers like this to decide whether code is correct.)

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

fn main() -> std::io::Result<()> {
    let (reader, mut writer) = std::io::pipe()?;
    let written = Arc::new(AtomicUsize::new(0));

    let counter = Arc::clone(&written);
    let (done, writer_ended) = mpsc::channel();
    thread::spawn(move || {
        while writer.write_all(b"x").is_ok() {
            counter.fetch_add(1, Ordering::SeqCst);
        }
        // The write failed: the read end is gone. The thread can end.
        let _ = done.send(());
    });

    // Wait until the count has stood still for a while: the writer is blocked.
    let mut last = usize::MAX;
    loop {
        thread::sleep(Duration::from_millis(200));
        let now = written.load(Ordering::SeqCst);
        if now == last {
            break;
        }
        last = now;
    }
    println!(
        "the writer is blocked after {last} bytes ({} KiB) with nobody reading",
        last / 1024
    );

    drop(reader); // closing the read end wakes the writer with an error
    match writer_ended.recv_timeout(Duration::from_secs(2)) {
        Ok(()) => println!("read end closed: the blocked write failed, the writer ended"),
        // Returning from main ends the process, and the stuck thread with it.
        Err(_) => println!("read end closed, but the write is still blocked on this OS"),
    }
    Ok(())
}
