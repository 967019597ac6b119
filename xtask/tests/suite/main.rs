//! xtask's integration tests, in one test binary: cargo runs test binaries
//! one after another, and most of these tests wait (for a check process, a
//! build, a board that does not answer), so in one binary the others run
//! while `verify::` verifies the whole course.
//!
//! The tests that edit the fixture course's exercise in place are the one
//! binary of their own (`tests/editing.rs`): every test here grades that
//! exercise as it is in the repository.

mod attacks;
mod board;
#[cfg(unix)]
mod classroom50;
mod cli;
mod common;
mod promises;
mod verify;
mod workshop;
