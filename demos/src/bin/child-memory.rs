//! Myth: "a child process shares the parent's memory."
//!
//! Run: `cargo run -p demos --bin child-memory`
//!
//! Part 1 (every OS): the program re-runs its own executable as a child. The
//! child changes a static; the parent's copy does not move. The child does not
//! even see the parent's change: it is a fresh run of the program.
//!
//! Part 2 (Unix only): two processes *can* share memory when they ask the OS
//! for it. Parent and child map the same file with `MAP_SHARED`; what the child
//! writes there, the parent reads.

use demos::role;

fn main() {
    match role().as_deref() {
        Some("child") => child(),
        Some("mapped-child") => shared::child(),
        _ => {
            parent();
            println!();
            shared::parent();
        }
    }
}

// ANCHOR: private
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

/// One value per process: every process that runs this program gets its own.
static VALUE: AtomicU64 = AtomicU64::new(1);

/// Sets VALUE, runs this same program as a child, then looks at VALUE again.
fn parent() {
    VALUE.store(10, Ordering::SeqCst);
    println!(
        "parent pid {}: VALUE = {}",
        std::process::id(),
        VALUE.load(Ordering::SeqCst)
    );

    let me = std::env::current_exe().expect("where is my own executable?");
    let status = Command::new(me)
        .args(["--role", "child"]) // what `main` checks to pick the child's job
        .status()
        .expect("could not start the child");
    assert!(status.success(), "child failed: {status}");

    println!(
        "parent pid {}: VALUE = {} (the child's store did not reach us)",
        std::process::id(),
        VALUE.load(Ordering::SeqCst)
    );
}

/// The child: a fresh run of the same program, in the role "child".
fn child() {
    let pid = std::process::id();
    // A fresh run of the program: the static has its initial value, not the 10
    // the parent stored. Nothing was copied from the parent's memory.
    println!(
        "  child pid {pid}: VALUE = {} at start",
        VALUE.load(Ordering::SeqCst)
    );
    VALUE.store(42, Ordering::SeqCst);
    println!(
        "  child pid {pid}: VALUE = {} after my store",
        VALUE.load(Ordering::SeqCst)
    );
}
// ANCHOR_END: private

#[cfg(unix)]
mod shared {
    //! A shared file mapping: the one piece of memory both processes agree to
    //! share. Everything else stays private to each of them.

    use std::fs::{File, OpenOptions};
    use std::os::fd::AsRawFd;
    use std::path::{Path, PathBuf};
    use std::process::Command;
    use std::sync::atomic::{AtomicU64, Ordering};

    use demos::ROLE_FLAG;

    const LEN: usize = 4096;

    /// A file mapped into this process with `MAP_SHARED`: writes go to the
    /// file's pages, which every process mapping the file sees.
    struct SharedMap {
        ptr: *mut libc::c_void,
    }

    impl SharedMap {
        fn open(path: &Path) -> std::io::Result<SharedMap> {
            let file: File = OpenOptions::new().read(true).write(true).open(path)?;
            // SAFETY: we ask for a fresh mapping (address chosen by the OS) of
            // LEN bytes of a file that is at least LEN long; the result is
            // checked against MAP_FAILED before use.
            let ptr = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    LEN,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED,
                    file.as_raw_fd(),
                    0,
                )
            };
            if ptr == libc::MAP_FAILED {
                return Err(std::io::Error::last_os_error());
            }
            Ok(SharedMap { ptr }) // the mapping stays valid after `file` closes
        }

        /// The first 8 bytes of the mapping, seen as an atomic counter.
        fn counter(&self) -> &AtomicU64 {
            // SAFETY: the mapping is page-aligned (so 8-aligned), at least 8
            // bytes long, lives as long as `self`, and is only ever accessed
            // through atomics by both processes.
            unsafe { AtomicU64::from_ptr(self.ptr.cast()) }
        }
    }

    impl Drop for SharedMap {
        fn drop(&mut self) {
            // SAFETY: `ptr` came from a successful mmap of LEN bytes and no
            // reference from `counter` can outlive `self`.
            unsafe { libc::munmap(self.ptr, LEN) };
        }
    }

    pub fn parent() {
        let path: PathBuf =
            std::env::temp_dir().join(format!("child-memory-demo-{}", std::process::id()));
        File::create(&path)
            .and_then(|f| f.set_len(LEN as u64))
            .expect("could not create the file to map");

        let map = SharedMap::open(&path).expect("mmap failed");
        map.counter().store(10, Ordering::SeqCst);
        println!(
            "parent: shared counter = {}",
            map.counter().load(Ordering::SeqCst)
        );

        let me = std::env::current_exe().expect("where is my own executable?");
        let status = Command::new(me)
            .args([ROLE_FLAG, "mapped-child"])
            .arg(&path)
            .status()
            .expect("could not start the child");
        assert!(status.success(), "child failed: {status}");

        println!(
            "parent: shared counter = {} (the child's write is visible here)",
            map.counter().load(Ordering::SeqCst)
        );
        drop(map);
        let _ = std::fs::remove_file(&path);
    }

    pub fn child() {
        // Arguments: <exe> --role mapped-child <path>
        let path = std::env::args()
            .nth(3)
            .expect("the parent passes the file path");
        let map = SharedMap::open(Path::new(&path)).expect("mmap failed");
        let before = map.counter().load(Ordering::SeqCst);
        map.counter().store(42, Ordering::SeqCst);
        println!("  child: shared counter was {before}, I stored 42");
    }
}

#[cfg(not(unix))]
mod shared {
    pub fn parent() {
        println!(
            "Part 2 (a shared file mapping) runs on Unix only. On Windows the same idea is\n\
             CreateFileMapping + MapViewOfFile with a named mapping; see the chapter."
        );
    }

    pub fn child() {}
}
