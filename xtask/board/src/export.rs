//! `--export DIR`: each attendee's newest report as the file `cargo xtask
//! report` would have written, so that `class-report` reads them (and
//! `cargo xtask board --export` runs it).

use std::path::Path;

use crate::room::Room;

pub fn write(room: &Room, dir: &Path) -> Result<usize, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut n = 0;
    for (key, report) in room.reports() {
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
        let short: String = key.chars().take(6).collect();
        let path = dir.join(format!("report-{safe}-{short}.json"));
        let json = serde_json::to_string_pretty(report).map_err(|e| e.to_string())?;
        std::fs::write(&path, json + "\n")
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        n += 1;
    }
    Ok(n)
}
