//! THE GIVEN API, PINNED. This file compiles only against the signatures the
//! exercise gives. If the compiler stops here, a signature in the exercise
//! (exercises/step5-race-conditions/src/lib.rs) was changed: the error names the item, and the
//! `// given:` comment on the line it shows is the signature to keep. Change
//! the exercise back; rustc's help about this file does not apply (the
//! checks are not yours to edit).

use crate::subject::{Account, Bank, Counter, Seats};

/// Never called: each line only has to compile.
#[allow(dead_code)]
fn plain_items() {
    let _: fn() -> Counter = Counter::new; // given: pub fn new() -> Counter
    let _: fn(&Counter) = Counter::hit; // given: pub fn hit(&self)
    let _: fn(&Counter) -> usize = Counter::get; // given: pub fn get(&self) -> usize
    let _: fn(usize) -> Seats = Seats::new; // given: pub fn new(n: usize) -> Seats
    let _: fn(&Seats) -> Option<usize> = Seats::claim_any; // given: pub fn claim_any(&self) -> Option<usize>
    let _: fn(&Seats) -> usize = Seats::taken; // given: pub fn taken(&self) -> usize
    let _: fn(u64, u64) -> Bank = Bank::new; // given: pub fn new(checking: u64, savings: u64) -> Bank
    let _: fn(&Bank, Account, Account, u64) -> bool = Bank::transfer; // given: pub fn transfer(&self, from: Account, to: Account, amount: u64) -> bool
    let _: fn(&Bank) -> [u64; 2] = Bank::balances; // given: pub fn balances(&self) -> [u64; 2]
}
