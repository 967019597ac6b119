//! How many threads this process has, where the operating system says so
//! without extra dependencies.
//!
//! On Linux each thread is a directory in `/proc/self/task`. Elsewhere
//! [`count`] says `None`, and a check that uses it only to choose between two
//! explanations of a failure it has already proven falls back to the more
//! general one; the verdict never depends on it.

/// The number of threads of this process now, or `None` where it cannot be
/// read.
pub fn count() -> Option<usize> {
    #[cfg(target_os = "linux")]
    {
        std::fs::read_dir("/proc/self/task")
            .ok()
            .map(|tasks| tasks.filter(|task| task.is_ok()).count())
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn sees_every_thread_that_is_alive() {
        // Twenty threads held alive, and this one: whatever other tests do
        // meanwhile, at least these 21 exist while they are counted.
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        let stop_rx = std::sync::Arc::new(std::sync::Mutex::new(stop_rx));
        let (up_tx, up_rx) = std::sync::mpsc::channel();
        let held: Vec<_> = (0..20)
            .map(|_| {
                let (stop_rx, up_tx) = (stop_rx.clone(), up_tx.clone());
                std::thread::spawn(move || {
                    up_tx.send(()).unwrap();
                    let _ = stop_rx.lock().map(|rx| rx.recv());
                })
            })
            .collect();
        for _ in 0..20 {
            up_rx.recv().unwrap();
        }
        let during = count().expect("linux has /proc/self/task");
        drop(stop_tx);
        for thread in held {
            thread.join().unwrap();
        }
        assert!(during >= 21, "counted {during} threads");
    }

    #[test]
    #[cfg(not(target_os = "linux"))]
    fn says_nothing_where_it_cannot_tell() {
        assert_eq!(count(), None);
    }
}
