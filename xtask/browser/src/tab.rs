//! A page of the browser: commands to it, its events, and what a reader
//! does on it (go to a URL, click, type).

use std::sync::Arc;

use serde_json::{json, Value};

use crate::connection::{CdpError, Connection};

/// One page, attached with `flatten: true`: its commands and events carry
/// its `sessionId` on the browser's one connection.
pub struct Tab {
    connection: Arc<Connection>,
    session: String,
}

impl Tab {
    pub(crate) fn new(connection: Arc<Connection>, session: String) -> Tab {
        Tab {
            connection,
            session,
        }
    }

    /// Sends a DevTools command to this page and waits for its result
    /// (a hang panics after [`crate::TIMEOUT`]).
    pub fn call(&self, method: &str, params: Value) -> Result<Value, CdpError> {
        self.connection.call(Some(&self.session), method, params)
    }

    /// Calls `listener` with the method and params of each event of this
    /// page from now on (domains send theirs once enabled, as
    /// `Runtime.enable` does). It runs on the connection's reader thread:
    /// it must not send commands.
    pub fn on_event(&self, listener: impl Fn(&str, &Value) + Send + 'static) {
        self.connection.listen(&self.session, Box::new(listener));
    }

    /// Starts loading `url`; an error if the browser could not (a missing
    /// file, a refused connection). It returns once the new document is
    /// committed, not loaded: wait for what the test needs of it.
    pub fn navigate(&self, url: &str) -> Result<(), String> {
        let result = self
            .call("Page.navigate", json!({ "url": url }))
            .map_err(|e| e.to_string())?;
        match result.get("errorText").and_then(Value::as_str) {
            Some(error) if !error.is_empty() => Err(error.to_string()),
            _ => Ok(()),
        }
    }

    /// Clicks the first element matching `selector` as a mouse would: it
    /// is scrolled into view, and the left button is pressed and released
    /// at its centre. An error if nothing matches, it is not displayed, or
    /// something else is drawn over its centre (the click would land there).
    pub fn click(&self, selector: &str) -> Result<(), String> {
        let js = format!(
            "(() => {{
                const e = document.querySelector({selector});
                if (e === null) return {{ problem: 'no element matches' }};
                e.scrollIntoView({{ block: 'center', inline: 'center', behavior: 'instant' }});
                const r = e.getBoundingClientRect();
                if (r.width === 0 || r.height === 0) return {{ problem: 'it is not displayed (no box)' }};
                const x = r.left + r.width / 2, y = r.top + r.height / 2;
                const hit = document.elementFromPoint(x, y);
                if (hit !== e && !e.contains(hit)) {{
                    const name = hit === null ? 'nothing (outside the window)'
                        : hit.tagName.toLowerCase() + (hit.id ? '#' + hit.id : '')
                          + [...hit.classList].map(c => '.' + c).join('');
                    return {{ problem: `at its centre (${{Math.round(x)}}, ${{Math.round(y)}}) is ${{name}}, over it` }};
                }}
                return {{ x, y }};
            }})()",
            selector = Value::from(selector),
        );
        let target = crate::eval(self, &js);
        if let Some(problem) = target["problem"].as_str() {
            return Err(format!("clicking `{selector}`: {problem}"));
        }
        let (x, y) = (&target["x"], &target["y"]);
        let mouse = |kind: &str, buttons: u8| {
            self.call(
                "Input.dispatchMouseEvent",
                json!({ "type": kind, "x": x, "y": y, "button": "left",
                        "buttons": buttons, "clickCount": 1 }),
            )
            .map(drop)
            .map_err(|e| format!("clicking `{selector}`: {e}"))
        };
        mouse("mouseMoved", 0)?;
        mouse("mousePressed", 1)?;
        mouse("mouseReleased", 0)
    }

    /// Clicks the element matching `selector` (which focuses it) and types
    /// `text` into it key by key, each a key press and release, so that
    /// the page sees `keydown`, `input` and `keyup` as from a keyboard.
    pub fn type_into(&self, selector: &str, text: &str) -> Result<(), String> {
        self.click(selector)?;
        let focused = crate::eval(
            self,
            &format!(
                "document.activeElement === document.querySelector({})",
                Value::from(selector)
            ),
        );
        if focused != Value::Bool(true) {
            return Err(format!(
                "typing into `{selector}`: a click did not focus it"
            ));
        }
        for c in text.chars() {
            let key = c.to_string();
            for event in [
                json!({ "type": "keyDown", "key": key, "text": key, "unmodifiedText": key }),
                json!({ "type": "keyUp", "key": key }),
            ] {
                self.call("Input.dispatchKeyEvent", event)
                    .map_err(|e| format!("typing into `{selector}`: {e}"))?;
            }
        }
        Ok(())
    }
}
