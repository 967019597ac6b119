//! Text from outside the grader (learner output, names in reports) made
//! safe to show: control characters escaped, long names cut.

/// `text` with every control character shown as an escape (`\x1b`, `\r`,
/// `\u{202e}`), never sent to the terminal as it is: learner output and
/// report files can hold escape sequences that would clear the screen, move
/// the cursor or forge lines. Newlines and tabs are kept when `lines` is
/// true.
pub fn printable(text: &str, lines: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\t' if lines => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Bidirectional overrides and isolates reorder what follows.
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c if c.is_control() && (c as u32) < 0x80 => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters of `text`, with an ellipsis when cut.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The most characters of an attendee's name shown; a longer one is cut
/// with "…".
pub const NAME_MAX: usize = 40;

/// An attendee's name as it may be shown: control characters escaped (so a
/// name cannot colour the terminal or start a new table row) and cut to
/// [`NAME_MAX`] characters.
pub fn display_name(name: &str) -> String {
    shorten(&printable(name.trim(), false), NAME_MAX)
}
