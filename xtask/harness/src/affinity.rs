//! Pinning the calling thread (and every process it starts afterwards) to one CPU.
//!
//! The mutant suite grades each mutant a second time on one CPU: a verdict
//! that changes with the number of CPUs depends on luck. Only Linux has a
//! portable way to do this from inside the process (`sched_setaffinity`);
//! elsewhere [`pin_to_one_cpu`] says it cannot.

/// The CPU set the thread had before it was pinned; dropping it restores
/// that set.
#[derive(Debug)]
pub struct Pinned {
    #[cfg(target_os = "linux")]
    before: libc::cpu_set_t,
    /// The CPU the process now runs on.
    pub cpu: usize,
}

/// Pins the calling thread to the first CPU it may run on. Children started
/// while the returned guard lives inherit the pin. `None` when the platform
/// has no such call or the call failed.
pub fn pin_to_one_cpu() -> Option<Pinned> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: cpu_set_t is plain data (an all-zero set is valid); the
        // calls only read or write the set we pass, with its true size, for
        // the calling thread (pid 0).
        unsafe {
            let mut before: libc::cpu_set_t = std::mem::zeroed();
            let size = std::mem::size_of::<libc::cpu_set_t>();
            if libc::sched_getaffinity(0, size, &mut before) != 0 {
                return None;
            }
            let cpu = (0..libc::CPU_SETSIZE as usize).find(|&c| libc::CPU_ISSET(c, &before))?;
            let mut one: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu, &mut one);
            if libc::sched_setaffinity(0, size, &one) != 0 {
                return None;
            }
            Some(Pinned { before, cpu })
        }
    }
    #[cfg(not(target_os = "linux"))]
    None
}

impl Drop for Pinned {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        // SAFETY: as above; `before` is the set sched_getaffinity filled in.
        unsafe {
            let _ =
                libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &self.before);
        }
    }
}
