//! THE GIVEN API, PINNED. This file compiles only against the signatures the
//! exercise gives. If the compiler stops here, a signature in
//! exercises/step3-shared-atomics/src/lib.rs was changed: the line it shows
//! names the item, and its `// given:` comment is the signature to keep.
//! Change the exercise back (rustc's help about this file does not apply:
//! the checks are not yours to edit).

use std::ops::Range;
use std::sync::Arc;

use crate::subject::{self, Background, Histogram};

/// Never called: each line only has to compile.
#[allow(dead_code)]
fn plain_items() {
    let _: fn() -> Histogram = Histogram::new; // given: pub fn new() -> Histogram
    let _: fn(&Histogram, u8, u64) = Histogram::add; // given: pub fn add(&self, byte: u8, n: u64)
    let _: fn(&Histogram) -> Vec<u64> = Histogram::snapshot; // given: pub fn snapshot(&self) -> Vec<u64>
    let _: fn(&[u8]) -> Vec<u64> = subject::histogram_single; // given: pub fn histogram_single(data: &[u8]) -> Vec<u64>
    let _: fn(usize, usize) -> Vec<Range<usize>> = subject::split_ranges; // given: pub fn split_ranges(len: usize, parts: usize) -> Vec<Range<usize>>
    let _: fn(Background) -> Vec<u64> = Background::finish; // given: pub fn finish(self) -> Vec<u64>
}

/// `count_scoped` with exactly the bounds the exercise gives.
pub fn count_scoped<F>(data: &[u8], threads: usize, on_item: F) -> Vec<u64>
where
    F: Fn(u8) + Sync,
{
    subject::count_scoped(data, threads, on_item) // given: F: Fn(u8) + Sync, nothing more
}

/// `count_in_background` with exactly the bounds the exercise gives.
pub fn count_in_background<F>(data: Arc<[u8]>, threads: usize, on_item: F) -> Background
where
    F: Fn(u8) + Send + Sync + 'static,
{
    subject::count_in_background(data, threads, on_item) // given: F: Fn(u8) + Send + Sync + 'static
}
