//! What the course's browser tests share (the book's, in
//! `book/builder/tests/browser.rs`, and the workshop board's, in
//! `xtask/board/tests/browser.rs`): a dev-dependency of both, never built
//! by the grader.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine as _;
use headless_chrome::protocol::cdp::Emulation;
use headless_chrome::protocol::cdp::Page::{self, CaptureScreenshotFormatOption};
use headless_chrome::{Browser, LaunchOptions, Tab};
use serde_json::Value;

/// How long a page may take to do what a test waits for. It only turns a
/// hang into a message.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// Chromium or Chrome (`CHROME` names one), or `None` after saying on
/// stderr that `test` is skipped. With `CI` set a missing browser panics:
/// CI installs one, and a skip there would go unnoticed.
pub fn find_chromium(test: &str) -> Option<PathBuf> {
    match headless_chrome::browser::default_executable() {
        Ok(path) => Some(path),
        Err(e) if std::env::var_os("CI").is_some() => panic!(
            "CI is set but no Chromium was found ({e}): install Debian's `chromium` \
             (apt-get install -y chromium) or point CHROME at a Chrome binary"
        ),
        Err(e) => {
            // Written to the real stderr, not eprintln!: the test harness would
            // swallow that for a passing test and the skip would go unnoticed.
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "\nSKIPPED {test}: no Chromium found ({e}). Install `chromium` \
                 or set CHROME=/path/to/chrome to run it (it never skips when CI is set).\n"
            );
            None
        }
    }
}

/// Starts `chrome` headless with a window of `width` × `height`.
pub fn launch(chrome: PathBuf, (width, height): (u32, u32)) -> Browser {
    Browser::new(
        LaunchOptions::default_builder()
            .path(Some(chrome))
            .headless(true)
            .sandbox(false) // CI runs as root, where Chromium's sandbox refuses to start
            .window_size(Some((width, height)))
            .idle_browser_timeout(Duration::from_secs(60))
            .args(
                [
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                ]
                .iter()
                .map(std::ffi::OsStr::new)
                .collect(),
            )
            .build()
            .unwrap(),
    )
    .expect("Chromium did not start")
}

/// Evaluates a JavaScript expression; its value comes back through JSON.
pub fn eval(tab: &Tab, js: &str) -> Value {
    let wrapped = format!("JSON.stringify(({js}) ?? null)");
    let value = tab
        .evaluate(&wrapped, false)
        .unwrap_or_else(|e| panic!("evaluating `{js}`: {e}"))
        .value;
    match value {
        Some(Value::String(json)) => serde_json::from_str(&json).unwrap(),
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
        .call_method(Page::CaptureScreenshot {
            format: Some(CaptureScreenshotFormatOption::Png),
            quality: None,
            clip: Some(Page::Viewport {
                x: 0.0,
                y: 0.0,
                width: size[0].as_f64().unwrap(),
                height: size[1].as_f64().unwrap(),
                scale: 1.0,
            }),
            from_surface: Some(true),
            capture_beyond_viewport: Some(true),
            optimize_for_speed: None,
        })
        .unwrap();
    base64::engine::general_purpose::STANDARD
        .decode(shot.data)
        .unwrap()
}

/// Makes the tab's window `width` × `height` CSS pixels, as a phone's
/// (`mobile`) or a desktop's.
pub fn window(tab: &Tab, width: u32, height: u32, mobile: bool) {
    tab.call_method(Emulation::SetDeviceMetricsOverride {
        width,
        height,
        device_scale_factor: 1.0,
        mobile,
        scale: None,
        screen_width: None,
        screen_height: None,
        position_x: None,
        position_y: None,
        dont_set_visible_size: None,
        screen_orientation: None,
        viewport: None,
        display_feature: None,
        device_posture: None,
    })
    .unwrap();
}

/// What the page's `prefers-color-scheme` says from now on.
pub fn color_scheme(tab: &Tab, dark: bool) {
    tab.call_method(Emulation::SetEmulatedMedia {
        media: None,
        features: Some(vec![Emulation::MediaFeature {
            name: "prefers-color-scheme".into(),
            value: if dark { "dark" } else { "light" }.into(),
        }]),
    })
    .unwrap();
}
