//! How many times each benchmark repeats, for the three run lengths.

/// Iteration counts. `quick` aims at well under 30 s on 2 cores, `full` at a
/// few minutes; `tiny` only exercises the code paths (for the tests).
#[derive(Clone, Debug)]
pub struct Plan {
    pub name: &'static str,
    /// Spawn cost: thread samples, spawns per thread sample, process samples.
    pub thread_samples: usize,
    pub spawns_per_sample: usize,
    pub process_samples: usize,
    /// Memory: rounds, idle threads per round, idle children per round.
    /// Only Linux measures memory (from /proc); elsewhere the rounds are
    /// not run, and the report shows only the counts.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub memory_rounds: usize,
    pub idle_threads: usize,
    pub idle_children: usize,
    /// Communication: rounds of the throughput test, messages per round
    /// (small, large), timed round trips (small, large).
    pub comm_rounds: usize,
    pub small_messages: usize,
    pub large_messages: usize,
    pub small_round_trips: usize,
    pub large_round_trips: usize,
    /// Scaling: the job's upper limit and the rounds per worker count.
    pub scaling_limit: u64,
    pub scaling_rounds: usize,
    /// Blocking: the heavy job's limit and the rounds per mode.
    pub blocking_limit: u64,
    pub blocking_rounds: usize,
}

impl Plan {
    pub fn full() -> Plan {
        Plan {
            name: "full",
            thread_samples: 200,
            spawns_per_sample: 100,
            process_samples: 1_000,
            memory_rounds: 10,
            idle_threads: 100,
            idle_children: 20,
            comm_rounds: 15,
            small_messages: 200_000,
            large_messages: 2_000,
            small_round_trips: 5_000,
            large_round_trips: 2_000,
            scaling_limit: 4_000_000,
            scaling_rounds: 10,
            blocking_limit: 1_500_000,
            blocking_rounds: 10,
        }
    }

    pub fn quick() -> Plan {
        Plan {
            name: "quick",
            thread_samples: 30,
            spawns_per_sample: 50,
            process_samples: 100,
            memory_rounds: 3,
            idle_threads: 50,
            idle_children: 8,
            comm_rounds: 5,
            small_messages: 20_000,
            large_messages: 300,
            small_round_trips: 500,
            large_round_trips: 200,
            scaling_limit: 1_000_000,
            scaling_rounds: 5,
            blocking_limit: 600_000,
            blocking_rounds: 5,
        }
    }

    pub fn tiny() -> Plan {
        Plan {
            name: "tiny",
            thread_samples: 3,
            spawns_per_sample: 3,
            process_samples: 3,
            memory_rounds: 2,
            idle_threads: 32,
            idle_children: 2,
            comm_rounds: 2,
            small_messages: 200,
            large_messages: 5,
            small_round_trips: 10,
            large_round_trips: 5,
            scaling_limit: 20_000,
            scaling_rounds: 2,
            blocking_limit: 20_000,
            blocking_rounds: 2,
        }
    }
}
