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
