//! xtask's integration tests, in one test binary: cargo runs test binaries
//! one after another, and most of these tests wait (for a check process, a
//! build, a board that does not answer), so in one binary the others run
//! while `all_steps::` verifies the whole course.
//!
//! The tests that edit the fixture course in place (`after_edits`) take it
//! for themselves while they do, and the others wait for it meanwhile (see
//! `common::edits_fixture`): every other test grades the fixture as it is
//! in the repository.
//!
//! libtest starts tests in the order of their names, as many at once as
//! there are cores. `after_edits` and `all_steps` come first: the one runs
//! its tests one after another on the fixture, the other builds and grades
//! the real course, so they run side by side. At the end they would run
//! alone, `after_edits` one test at a time and `all_steps` beside nothing.

mod after_edits;
mod all_steps;
mod attacks;
mod board;
#[cfg(unix)]
mod classroom50;
mod cli;
mod common;
mod promises;
mod workshop;
