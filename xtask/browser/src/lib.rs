//! What the course's browser tests share (the book's, in
//! `book/builder/tests/browser.rs`, and the workshop board's, in
//! `xtask/board/tests/browser.rs`): a dev-dependency of both, never built
//! by the grader.
//!
//! A small client of the Chrome DevTools Protocol, just what the two tests
//! use: [`find_chromium`], [`launch`] (a headless [`Browser`] with a profile
//! of its own), [`Browser::new_tab`], and on a [`Tab`] commands, events,
//! navigation, clicks and typing, plus the helpers below.

mod connection;
mod find;
mod launch;
mod tab;

use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

pub use connection::CdpError;
pub use find::find_chromium;
pub use launch::{launch, Browser};
pub use tab::Tab;

/// How long a page may take to do what a test waits for, and Chromium to
/// answer a command. It only turns a hang into a message.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// Evaluates a JavaScript expression; its value comes back through JSON.
pub fn eval(tab: &Tab, js: &str) -> Value {
    let wrapped = format!("JSON.stringify(({js}) ?? null)");
    let answer = tab
        .call(
            "Runtime.evaluate",
            json!({ "expression": wrapped, "returnByValue": true }),
        )
        .unwrap_or_else(|e| panic!("evaluating `{js}`: {e}"));
    if let Some(exception) = answer.get("exceptionDetails") {
        let description = exception["exception"]["description"]
            .as_str()
            .or_else(|| exception["text"].as_str())
            .unwrap_or("an exception");
        panic!("evaluating `{js}`: {description}");
    }
    match &answer["result"]["value"] {
        Value::String(json) => serde_json::from_str(json).unwrap(),
        other => panic!("`{js}` gave {other:?}"),
    }
}

/// Polls `js` until it is true (for what a page does after an event);
/// [`TIMEOUT`] only catches a hang.
pub fn wait_for(tab: &Tab, js: &str, what: &str) {
    let deadline = Instant::now() + TIMEOUT;
    while eval(tab, js) != Value::Bool(true) {
        assert!(
            Instant::now() < deadline,
            "{what}: `{js}` never became true"
        );
        std::thread::sleep(Duration::from_millis(50)); // polling a page, not synchronizing code
    }
}

/// A PNG of the whole page, not just the window, at most `max_height`
/// pixels high.
pub fn screenshot(tab: &Tab, max_height: u32) -> Vec<u8> {
    let size = eval(
        tab,
        &format!(
            "[window.innerWidth, Math.min(document.documentElement.scrollHeight, {max_height})]"
        ),
    );
    let shot = tab
        .call(
            "Page.captureScreenshot",
            json!({
                "format": "png",
                "clip": { "x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1 },
                "fromSurface": true,
                "captureBeyondViewport": true,
            }),
        )
        .unwrap_or_else(|e| panic!("taking a screenshot: {e}"));
    let data = shot["data"]
        .as_str()
        .expect("Page.captureScreenshot gave no data");
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .expect("Page.captureScreenshot gave data that is not base64")
}

/// Makes the tab's window `width` × `height` CSS pixels, as a phone's
/// (`mobile`) or a desktop's.
pub fn window(tab: &Tab, width: u32, height: u32, mobile: bool) {
    tab.call(
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile }),
    )
    .unwrap_or_else(|e| panic!("emulating a {width} × {height} window: {e}"));
}

/// Gives the tab back the browser's own window (after [`window`]).
pub fn real_window(tab: &Tab) {
    tab.call("Emulation.clearDeviceMetricsOverride", json!({}))
        .unwrap_or_else(|e| panic!("ending the window emulation: {e}"));
}

/// What the page's `prefers-color-scheme` says from now on.
pub fn color_scheme(tab: &Tab, dark: bool) {
    let value = if dark { "dark" } else { "light" };
    tab.call(
        "Emulation.setEmulatedMedia",
        json!({ "features": [{ "name": "prefers-color-scheme", "value": value }] }),
    )
    .unwrap_or_else(|e| panic!("emulating prefers-color-scheme: {value}: {e}"));
}
