//! `--export DIR`: each attendee's newest report as the file `cargo xtask
//! report` would have written, so that `class-report` reads them (and
//! `cargo xtask board --export` runs it).
//!
//! `class-report` takes reports with the same name (in any case) for one
//! attendee's older and newer report, and keeps the newer. On the board two
//! people can pick the same name; their reports are exported with the start
//! of their key after the name, so they stay two rows.

use std::collections::HashMap;
use std::path::Path;

use crate::room::Room;

pub fn write(room: &Room, dir: &Path) -> Result<usize, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let reports = room.reports();
    let mut named: HashMap<String, usize> = HashMap::new();
    for (_, report) in &reports {
        *named.entry(report.name.to_lowercase()).or_default() += 1;
    }
    let mut n = 0;
    for (key, report) in reports {
        // 12 of the key's 16 hex digits; the name before it cut so that
        // the whole still shows (class-report cuts a name to NAME_MAX).
        let short: String = key.chars().take(12).collect();
        let safe: String = report
            .name
            .chars()
            .take(40)
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let mut report = report.clone();
        if named[&report.name.to_lowercase()] > 1 {
            let room_for = course::text::NAME_MAX - short.len() - 3;
            let name = course::text::shorten(report.name.trim(), room_for);
            report.name = format!("{name} ({short})");
        }
        let path = dir.join(format!("report-{safe}-{short}.json"));
        let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        std::fs::write(&path, json + "\n")
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        n += 1;
    }
    Ok(n)
}
