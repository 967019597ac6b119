//! One module per verb of `cargo xtask`.

pub mod bench;
pub mod board;
pub mod board_send;
pub mod book;
pub mod book_traces;
pub mod check;
pub mod class_report;
pub mod classroom50;
pub mod doctor;
pub mod freeze;
pub mod gen_autograde;
pub mod hint;
pub mod join;
pub mod leave;
pub mod list;
pub mod mutants;
pub mod report;
pub mod reset;
pub mod scan_objects;
pub mod score;
pub mod solution;
pub mod take_exercises;
pub mod verify;
pub mod watch;
