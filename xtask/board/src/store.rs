//! The room's SQLite file: every post the board acknowledged, as received,
//! in the order it arrived. The board's state is rebuilt from it when the
//! room is reopened, and `--export` reads it.
//!
//! A post is acknowledged only after its transaction committed with
//! `synchronous = FULL` in WAL mode, so a board killed at any moment keeps
//! every post it said yes to.

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

pub struct Store {
    conn: Connection,
}

/// One stored post.
pub struct Stored {
    pub received_ms: i64,
    pub body: String,
}

impl Store {
    /// Opens (or creates) the room's file and checks that it is this room's.
    pub fn open(path: &Path, code: &str) -> Result<Store, String> {
        let conn = Connection::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let setup = || -> rusqlite::Result<()> {
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "FULL")?;
            conn.busy_timeout(std::time::Duration::from_secs(5))?;
            conn.execute_batch(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS posts (
                     id TEXT PRIMARY KEY,
                     attendee TEXT NOT NULL,
                     received_ms INTEGER NOT NULL,
                     body TEXT NOT NULL
                 );",
            )?;
            conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('room', ?1)",
                params![code],
            )?;
            Ok(())
        };
        setup().map_err(|e| format!("{}: {e}", path.display()))?;
        let room: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key = 'room'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| e.to_string())?;
        if room.as_deref() != Some(code) {
            return Err(format!(
                "{} belongs to room {}, not {code}",
                path.display(),
                room.unwrap_or_default()
            ));
        }
        Ok(Store { conn })
    }

    /// Stores a post; `false` when one with this id was stored before (a
    /// retry), which is not stored twice.
    pub fn insert(
        &self,
        id: &str,
        attendee: &str,
        received_ms: i64,
        body: &str,
    ) -> rusqlite::Result<bool> {
        let added = self.conn.execute(
            "INSERT OR IGNORE INTO posts (id, attendee, received_ms, body) VALUES (?1, ?2, ?3, ?4)",
            params![id, attendee, received_ms, body],
        )?;
        Ok(added == 1)
    }

    /// Every post, in the order the board received them.
    pub fn all(&self) -> rusqlite::Result<Vec<Stored>> {
        let mut stmt = self
            .conn
            .prepare("SELECT received_ms, body FROM posts ORDER BY rowid")?;
        let rows = stmt.query_map([], |r| {
            Ok(Stored {
                received_ms: r.get(0)?,
                body: r.get(1)?,
            })
        })?;
        rows.collect()
    }
}
