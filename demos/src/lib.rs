//! Shared helpers for the book's demonstrations. Each demo is a binary in
//! `src/bin/`, named after the chapter that shows it.
