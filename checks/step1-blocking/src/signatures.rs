//! THE GIVEN API, PINNED. This file compiles only against the signatures the
//! exercise gives. If the compiler stops here, a signature in the exercise
//! (exercises/step1-blocking/src/lib.rs) was changed: the error names the item, and the
//! `// given:` comment on the line it shows is the signature to keep. Change
//! the exercise back; rustc's help about this file does not apply (the
//! checks are not yours to edit).

use std::time::Duration;

use crate::subject::{self, Blame, Clock, Context, EventLoop, Handled, ManualClock, SystemClock};

/// Never called: each line only has to compile.
#[allow(dead_code)]
fn plain_items() {
    let _: fn() -> SystemClock = SystemClock::new; // given: pub fn new() -> SystemClock
    let _: fn() -> ManualClock = ManualClock::new; // given: pub fn new() -> ManualClock
    let _: fn(&ManualClock, Duration) = ManualClock::advance; // given: pub fn advance(&self, by: Duration)
    let _: fn(&ManualClock) -> Duration = <ManualClock as Clock>::now; // given: fn now(&self) -> Duration
    let _: fn(&Handled) -> Duration = Handled::waited; // given: pub fn waited(&self) -> Duration
    let _: fn(&Handled) -> Duration = Handled::ran; // given: pub fn ran(&self) -> Duration
    let _: fn(ManualClock) -> EventLoop<ManualClock> = EventLoop::new; // given: pub fn new(clock: C) -> EventLoop<C>
    let _: fn(&mut EventLoop<ManualClock>) -> Vec<Handled> = EventLoop::run; // given: pub fn run(&mut self) -> Vec<Handled>
    let _: fn(&[Handled]) -> Option<Blame> = subject::find_blocker; // given: pub fn find_blocker(report: &[Handled]) -> Option<Blame>
}

/// `EventLoop::post` as given.
#[allow(dead_code)]
fn post<C: Clock>(
    event_loop: &mut EventLoop<C>,
    name: &str,
    handler: impl FnOnce(&mut Context<'_>) + 'static,
) {
    event_loop.post(name, handler) // given: handler: impl FnOnce(&mut Context<'_>) + 'static
}

/// `Context::post` as given.
#[allow(dead_code)]
fn post_from_handler(
    cx: &mut Context<'_>,
    name: &str,
    handler: impl FnOnce(&mut Context<'_>) + 'static,
) {
    cx.post(name, handler) // given: handler: impl FnOnce(&mut Context<'_>) + 'static
}
