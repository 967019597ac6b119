//! Printing like cargo does: colour only on a terminal, `NO_COLOR` and
//! `CLICOLOR` respected (anstream strips the styles otherwise).

use anstyle::{AnsiColor, Style};

pub const OK: Style = AnsiColor::Green.on_default().bold();
pub const BAD: Style = AnsiColor::Red.on_default().bold();
pub const WARN: Style = AnsiColor::Yellow.on_default().bold();
pub const NOTE: Style = AnsiColor::Cyan.on_default().bold();
pub const BOLD: Style = Style::new().bold();
pub const DIM: Style = Style::new().dimmed();

/// `text` in `style`, as a string that anstream renders or strips.
pub fn paint(style: Style, text: impl std::fmt::Display) -> String {
    format!("{style}{text}{style:#}")
}

/// `error: …` on stderr, one line per line of `message`.
pub fn error(message: &str) {
    anstream::eprintln!("{} {message}", paint(BAD, "error:"));
}

/// `warning: …` on stderr.
pub fn warning(message: &str) {
    anstream::eprintln!("{} {message}", paint(WARN, "warning:"));
}

/// Indents every line of `text` by `n` spaces.
pub fn indent(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether stdout goes to a terminal (for prompts and screen clearing).
pub fn stdout_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal()
}

/// Whether colours will be shown on stdout.
pub fn colour_on_stdout() -> bool {
    anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
}

static STDOUT_GONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Prints one line on stdout like `anstream::println!`, except that a closed
/// stdout (`cargo xtask check step1 | head -3`) is remembered instead of
/// ending the process: the run goes on quietly, so its result is still
/// recorded in progress, and [`end_if_stdout_gone`] then exits the way a
/// broken pipe does.
macro_rules! say {
    () => {
        $crate::ui::say_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::ui::say_line(format_args!($($arg)*))
    };
}
pub(crate) use say;

pub fn say_line(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    use std::sync::atomic::Ordering::Relaxed;
    if STDOUT_GONE.load(Relaxed) {
        return;
    }
    if writeln!(anstream::stdout(), "{line}").is_err() {
        STDOUT_GONE.store(true, Relaxed);
    }
}

/// After a run printed with [`say!`] and recorded its result: a closed
/// stdout ends the process now, as a broken pipe would.
pub fn end_if_stdout_gone() {
    if STDOUT_GONE.load(std::sync::atomic::Ordering::Relaxed) {
        exit_as_broken_pipe();
    }
}

/// A closed stdout (`cargo xtask list | head -1`) ends the grader quietly,
/// the way a broken pipe ends other command-line tools, after ending the
/// running check and removing its files. `println!` panics on a closed
/// stdout; this hook turns exactly that panic into the quiet exit and leaves
/// every other panic to the default hook.
pub fn quiet_on_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.starts_with("failed printing to stdout") {
            check_harness::cleanup::stop_everything();
            exit_as_broken_pipe();
        }
        default(info);
    }));
}

/// Ends the process the way SIGPIPE would (status 141 in a shell) on Unix;
/// elsewhere exits with 1.
fn exit_as_broken_pipe() -> ! {
    #[cfg(unix)]
    {
        // SAFETY: restores the default action of SIGPIPE and raises it,
        // which ends the process; no memory is touched.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            libc::raise(libc::SIGPIPE);
        }
    }
    std::process::exit(1)
}

pub use course::text::{printable, shorten};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_shown_not_sent() {
        assert_eq!(printable("a\x1b[2Jb", true), "a\\x1b[2Jb");
        assert_eq!(printable("one\ntwo\r\n", true), "one\ntwo\\r\n");
        assert_eq!(printable("one\ntwo", false), "one\\ntwo");
        assert_eq!(
            printable("\u{202e}evil\u{9b}", true),
            "\\u{202e}evil\\u{9b}"
        );
        assert_eq!(printable("plain ✓ text", false), "plain ✓ text");
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten(&"x".repeat(70_000), 40).chars().count(), 40);
    }
}
