//! Proving that a check's result came from the harness.
//!
//! The learner's code runs in the check process and can see its command line,
//! so it can find the result file and write `{"status":"pass"}` there itself.
//! To tell that apart, the runner makes a fresh random token for every run and
//! hands it to the check process as the first line of its stdin, which the
//! harness reads before any learner code runs. The harness then writes the
//! outcome together with a seal: a hash of the token and the outcome. The
//! runner accepts the outcome only if the seal matches.
//!
//! Without the token, a seal cannot be made, and reading the seal of a failing
//! outcome does not help to make one for a passing outcome. This stops a
//! result file written by the code under test, and code that edits the real
//! one. It does not stop code that searches its own process's memory for the
//! token: code running in the same process can always cheat with enough
//! effort. The grader is a teaching aid, not an exam proctor.
//!
//! The token is read as the first thing `main` does; code that runs before
//! `main` (a constructor, a global allocator…) could read it first. The
//! grader refuses to grade a build that has such code (see xtask's
//! `before_main`), and nothing public in this crate makes a seal.

use std::hash::{BuildHasher, Hasher};

use serde::{Deserialize, Serialize};

use crate::trace::Trace;
use crate::Outcome;

/// What the harness writes to the result file. The trace is optional (a
/// result file without one reads as before) and sealed with the outcome, so
/// the picture the grader draws is the one the harness recorded.
#[derive(Debug, Serialize, Deserialize)]
pub struct Sealed {
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<Trace>,
    pub seal: String,
}

impl Sealed {
    /// Only the harness seals (not public: nothing a learner's crate can
    /// call makes a seal).
    #[cfg(test)]
    pub(crate) fn new(outcome: Outcome, token: &str) -> Sealed {
        Sealed::with_trace(outcome, None, token)
    }

    pub(crate) fn with_trace(outcome: Outcome, trace: Option<Trace>, token: &str) -> Sealed {
        let seal = seal(token, &outcome, trace.as_ref());
        Sealed {
            outcome,
            trace,
            seal,
        }
    }

    /// The outcome, if its seal was made with `token`.
    pub fn open(self, token: &str) -> Option<Outcome> {
        self.open_with_trace(token).map(|(outcome, _)| outcome)
    }

    /// The outcome and its trace, if their seal was made with `token`.
    pub fn open_with_trace(self, token: &str) -> Option<(Outcome, Option<Trace>)> {
        (!token.is_empty() && seal(token, &self.outcome, self.trace.as_ref()) == self.seal)
            .then_some((self.outcome, self.trace))
    }
}

/// 128 random bits as hex. `RandomState` is seeded from the operating
/// system's randomness once per thread and differs at every call.
pub fn new_token() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    (0..2u8)
        .map(|part| {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u128(nanos);
            h.write_u32(std::process::id());
            h.write_u8(part);
            format!("{:016x}", h.finish())
        })
        .collect()
}

/// A keyed hash of the outcome: SHA-1 of the token and the SHA-1 of the token
/// and the outcome's JSON, then the trace's (the nesting rules out extending
/// a known seal). Without a trace, the seal is what it was before traces.
fn seal(token: &str, outcome: &Outcome, trace: Option<&Trace>) -> String {
    let json = serde_json::to_string(outcome).expect("an outcome serializes");
    let mut inner = sha1_smol::Sha1::new();
    inner.update(token.as_bytes());
    inner.update(b"\n");
    inner.update(json.as_bytes());
    if let Some(trace) = trace {
        inner.update(b"\n");
        inner.update(
            serde_json::to_string(trace)
                .expect("a trace serializes")
                .as_bytes(),
        );
    }
    let mut outer = sha1_smol::Sha1::new();
    outer.update(token.as_bytes());
    outer.update(&inner.digest().bytes());
    outer.digest().to_string()
}

/// Reads the token the runner put on stdin: one line, before anything else
/// reads stdin. Empty when stdin is a terminal (a person ran `--run` by hand)
/// or holds nothing.
pub(crate) fn read_token() -> String {
    use std::io::{BufRead, IsTerminal};
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return String::new();
    }
    let mut line = String::new();
    let _ = stdin.lock().read_line(&mut line);
    line.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_token_opens_a_seal() {
        let token = new_token();
        assert_eq!(token.len(), 32);
        assert_ne!(token, new_token());
        let pass = Sealed::new(Outcome::Pass, &token);
        assert_eq!(pass.open(&token), Some(Outcome::Pass));
        let other = Sealed::new(Outcome::Pass, "another token");
        assert_eq!(other.open(&token), None);
        // Changing the outcome of a real seal breaks it.
        let fail = Sealed::new(
            Outcome::Fail {
                message: "no".into(),
                cause: None,
            },
            &token,
        );
        let edited = Sealed {
            outcome: Outcome::Pass,
            trace: None,
            seal: fail.seal,
        };
        assert_eq!(edited.open(&token), None);
        assert_eq!(Sealed::new(Outcome::Pass, "").open(""), None);
        // So does changing the cause a failure names.
        let because = |cause: Option<&str>| Outcome::Fail {
            message: "no".into(),
            cause: cause.map(String::from),
        };
        let named = Sealed::new(because(Some("queue-not-closed")), &token);
        assert_eq!(
            Sealed::new(because(Some("queue-not-closed")), &token).open(&token),
            Some(because(Some("queue-not-closed")))
        );
        let recaused = Sealed {
            outcome: because(Some("another-cause")),
            trace: None,
            seal: named.seal,
        };
        assert_eq!(recaused.open(&token), None);
        // A failure without a cause is written as before causes existed.
        let json = serde_json::to_string(&because(None)).unwrap();
        assert_eq!(json, r#"{"status":"fail","message":"no"}"#);
    }

    #[test]
    fn the_trace_is_sealed_with_the_outcome_and_may_be_absent() {
        let token = new_token();
        let trace = crate::trace::Trace {
            end_us: 5,
            ..Default::default()
        };
        let sealed = Sealed::with_trace(Outcome::Pass, Some(trace.clone()), &token);
        let json = serde_json::to_string(&sealed).unwrap();
        let back: Sealed = serde_json::from_str(&json).unwrap();
        assert_eq!(
            back.open_with_trace(&token),
            Some((Outcome::Pass, Some(trace.clone())))
        );
        // An edited trace breaks the seal.
        let mut edited: Sealed = serde_json::from_str(&json).unwrap();
        edited.trace.as_mut().unwrap().end_us = 6;
        assert_eq!(edited.open(&token), None);
        // A result file from before traces still opens.
        let old = Sealed::new(Outcome::Pass, &token);
        let old_json = format!(r#"{{"outcome":{{"status":"pass"}},"seal":"{}"}}"#, old.seal);
        let back: Sealed = serde_json::from_str(&old_json).unwrap();
        assert_eq!(back.open_with_trace(&token), Some((Outcome::Pass, None)));
    }
}
