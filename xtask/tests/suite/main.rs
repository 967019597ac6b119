//! xtask's integration tests, in one test binary: cargo runs test binaries
//! one after another, and most of these tests wait (for a check process, a
//! build, a board that does not answer), so in one binary the others run
//! while `all_steps::` verifies the whole course. libtest starts tests in
//! the order of their names: `all_steps` comes first, so that its builds of
//! every step use the cores the other tests leave idle while they wait,
//! instead of running alone at the end.
//!
//! The tests that edit the fixture course in place (`editing`) take it for
//! themselves while they do, and the others wait for it meanwhile (see
//! `common::edits_fixture`): every other test grades the fixture as it is
//! in the repository.

mod all_steps;
mod attacks;
mod board;
#[cfg(unix)]
mod classroom50;
mod cli;
mod common;
mod editing;
mod promises;
mod workshop;
