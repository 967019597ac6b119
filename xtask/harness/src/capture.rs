//! What a check printed, kept within bounds: code under test may print
//! gigabytes (a loop that logs), and the grader shows a few KiB. Each of the
//! check's stdout and stderr is a pipe that a thread of the grader reads to
//! its end, keeping the first [`HEAD`] bytes and the last [`TAIL`] and
//! counting the rest, so nothing of it lands on disk and memory stays
//! bounded however much is printed.

use std::io::Read;
use std::sync::mpsc;
use std::time::Duration;

/// Bytes kept from the start of a stream.
pub const HEAD: usize = 4 * 1024;
/// Bytes kept from the end of a stream.
pub const TAIL: usize = 4 * 1024;

/// One stream as kept.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Kept {
    pub head: Vec<u8>,
    /// The last bytes, when more than `HEAD + TAIL` were printed.
    pub tail: Vec<u8>,
    /// Everything printed, in bytes.
    pub total: u64,
}

impl Kept {
    /// The text for people: everything, or the head, how much was cut,
    /// and the tail.
    pub fn text(&self) -> String {
        let head = String::from_utf8_lossy(&self.head);
        if self.tail.is_empty() {
            return head.into_owned();
        }
        let cut = self.total - (self.head.len() + self.tail.len()) as u64;
        if cut == 0 {
            let mut all = self.head.clone();
            all.extend(&self.tail);
            return String::from_utf8_lossy(&all).into_owned();
        }
        format!(
            "{}\n[... {cut} bytes cut ...]\n{}",
            head.trim_end(),
            String::from_utf8_lossy(&self.tail).trim_start()
        )
    }

    fn add(&mut self, bytes: &[u8], ring: &mut std::collections::VecDeque<u8>) {
        self.total += bytes.len() as u64;
        let room = HEAD.saturating_sub(self.head.len());
        let (to_head, rest) = bytes.split_at(room.min(bytes.len()));
        self.head.extend_from_slice(to_head);
        let rest = &rest[rest.len().saturating_sub(TAIL)..];
        ring.extend(rest);
        let over = ring.len().saturating_sub(TAIL);
        ring.drain(..over);
    }
}

/// A stream being read by a thread of its own.
pub struct Capture {
    done: mpsc::Receiver<Kept>,
}

impl Capture {
    pub fn start(mut from: impl Read + Send + 'static) -> Capture {
        let (tx, done) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("check-output".into())
            .spawn(move || {
                let mut kept = Kept::default();
                let mut ring = std::collections::VecDeque::with_capacity(TAIL);
                let mut buf = vec![0; 64 * 1024];
                loop {
                    match from.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => kept.add(&buf[..n], &mut ring),
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                }
                kept.tail = ring.into_iter().collect();
                let _ = tx.send(kept);
            });
        match spawned {
            Ok(_) => Capture { done },
            Err(_) => {
                let (_, done) = mpsc::channel();
                Capture { done }
            }
        }
    }

    /// What was kept, once the stream ended. Every process that could hold
    /// the pipe open has been killed by then; the wait is bounded only in
    /// case one escaped (a daemon on macOS), and then gives what it has not.
    pub fn finish(self) -> Kept {
        self.done
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keep(bytes: &[u8]) -> Kept {
        Capture::start(std::io::Cursor::new(bytes.to_vec())).finish()
    }

    #[test]
    fn short_output_is_kept_whole() {
        let kept = keep(b"hello\n");
        assert_eq!(kept.text(), "hello\n");
        assert_eq!(kept.total, 6);
    }

    #[test]
    fn long_output_keeps_head_and_tail_and_says_how_much_was_cut() {
        let mut bytes = vec![b'a'; HEAD];
        bytes.extend(vec![b'b'; 1_000_000]);
        bytes.extend(vec![b'c'; TAIL]);
        let kept = keep(&bytes);
        assert_eq!(kept.head, vec![b'a'; HEAD]);
        assert_eq!(kept.tail, vec![b'c'; TAIL]);
        assert!(kept.text().contains("[... 1000000 bytes cut ...]"));
    }

    #[test]
    fn output_just_over_the_head_keeps_every_byte_once() {
        let bytes: Vec<u8> = (0..HEAD + 10).map(|i| (i % 251) as u8).collect();
        let kept = keep(&bytes);
        let mut both = kept.head.clone();
        both.extend(&kept.tail);
        assert_eq!(both, bytes);
    }
}
