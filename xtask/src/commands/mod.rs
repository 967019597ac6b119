//! One module per verb of `cargo xtask`.

pub mod bench;
pub mod book;
pub mod check;
pub mod freeze;
pub mod hint;
pub mod list;
pub mod reset;
pub mod solution;
pub mod verify;
pub mod watch;
