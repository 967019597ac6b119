//! The board's page in headless Chromium: an attendee appears after their
//! first post and changes after the next, live (no reload); a hostile name
//! shows as text; light and dark both readable; nothing wider than a 390 px
//! phone but the grid, which scrolls in its own box. Screenshots go to
//! target/board-{light,dark,phone}.png; with `COURSE_BOARD_SCREENSHOT=1`
//! the light one also to book/src/images/workshop-board.png (the instructor
//! guide's picture).
//!
//! Chromium is found by course-browser, as for the book's browser test;
//! without it the test says it skipped, unless `CI` is set: then it fails.

mod common;

use std::path::{Path, PathBuf};

use common::{post_of, real_post, At, Board};
use course_browser::{eval, find_chromium, wait_for, Tab};
use serde_json::Value;

fn emulate(tab: &Tab, width: u32, height: u32, mobile: bool, dark: bool) {
    course_browser::window(tab, width, height, mobile);
    course_browser::color_scheme(tab, dark);
}

/// The whole page (at most 2000 px high), not just the window.
fn screenshot(tab: &Tab, file: &str) -> PathBuf {
    let png = course_browser::screenshot(tab, 2000);
    let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .join(file);
    std::fs::write(&path, &png).unwrap();
    println!("board screenshot: {}", path.display());
    path
}

/// A class in several states, so that the picture shows what the page is for.
fn seed(board: &Board) {
    let people: [(&str, &str, At); 6] = [
        (
            "00000000a0000001",
            "alice",
            At {
                step: "step2-offloading",
                failing: &["stays-responsive", "result-once"],
                cause: Some("job-on-the-loop"),
                hint: 1,
            },
        ),
        (
            "00000000a0000002",
            "bob",
            At {
                step: "step2-offloading",
                failing: &["result-once"],
                cause: None,
                hint: 3,
            },
        ),
        (
            "00000000a0000003",
            "carol",
            At {
                step: "step3-shared-atomics",
                failing: &["matches-reference"],
                cause: None,
                hint: 1,
            },
        ),
        (
            "00000000a0000004",
            "dave",
            At {
                step: "step1-blocking",
                failing: &[],
                cause: None,
                hint: 0,
            },
        ),
        (
            "00000000a0000005",
            "erin",
            At {
                step: "step2-offloading",
                failing: &["stays-responsive"],
                cause: Some("job-on-the-loop"),
                hint: 2,
            },
        ),
        (
            "00000000a0000006",
            "<img src=x onerror=alert(1)>",
            At {
                step: "step1-blocking",
                failing: &["fifo-order"],
                cause: None,
                hint: 1,
            },
        ),
    ];
    for (key, name, at) in &people {
        let post = post_of(&real_post(), key, name, 1, at);
        assert_eq!(board.post(&serde_json::to_vec(&post).unwrap()).0, 201);
    }
}

#[test]
fn the_board_page_shows_the_room_live() {
    let Some(chrome) = find_chromium("the board's browser test") else {
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let board = Board::start(data.path(), None);
    let browser = course_browser::launch(chrome, (1280, 900));
    let tab = browser.new_tab();
    let errors = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    {
        let errors = errors.clone();
        tab.on_event(move |method, params| {
            if method == "Runtime.exceptionThrown" {
                // "Uncaught", then the exception and where it was thrown.
                let details = &params["exceptionDetails"];
                let text = details["text"].as_str().unwrap_or_default();
                let exception = details["exception"]["description"]
                    .as_str()
                    .unwrap_or_default();
                errors.lock().unwrap().push(format!("{text} {exception}"));
            }
        });
        tab.call("Runtime.enable", serde_json::json!({})).unwrap();
    }
    emulate(&tab, 1280, 900, false, false);
    // Page.navigate returns once the page is committed; the blank page
    // before it is marked, so that the wait ends on the board's.
    eval(&tab, "window.__leaving_page = true");
    tab.navigate(&format!("http://127.0.0.1:{}/", board.port))
        .unwrap_or_else(|e| panic!("the board's page did not load: {e}"));
    wait_for(
        &tab,
        "window.__leaving_page === undefined && document.readyState === 'complete'",
        "the board's page did not finish loading",
    );
    wait_for(
        &tab,
        "document.getElementById('conn').dataset.state === 'live'",
        "the page never showed the live stream open",
    );
    wait_for(
        &tab,
        "document.querySelector('#grid tbody').textContent.includes('Nobody has joined yet')",
        "the page never showed an empty room",
    );

    // An attendee appears with their first post, without a reload…
    let key = "00000000b0000001";
    let first = post_of(
        &real_post(),
        key,
        "zoe",
        1,
        &At {
            step: "step2-offloading",
            failing: &["stays-responsive", "result-once"],
            cause: Some("job-on-the-loop"),
            hint: 1,
        },
    );
    assert_eq!(board.post(&serde_json::to_vec(&first).unwrap()).0, 201);
    let cell = format!(
        "document.querySelector('tr[data-key=\"{key}\"] td[data-step=\"step2-offloading\"]')"
    );
    wait_for(
        &tab,
        &format!("{cell} !== null && {cell}.dataset.status === 'in-progress'"),
        "the page never showed zoe in progress on step 2",
    );
    assert_eq!(eval(&tab, &format!("{cell}.textContent")), "5/7");
    let row = format!("document.querySelector('tr[data-key=\"{key}\"]').textContent");
    let course = course::Course::load(&common::course_root()).unwrap();
    let step2 = course.find_step("step2").unwrap();
    let cause = &step2.cause("job-on-the-loop").unwrap().title;
    let check = &step2
        .checks
        .iter()
        .find(|c| c.id == "stays-responsive")
        .unwrap()
        .title;
    let shown = eval(&tab, &row);
    let shown = shown.as_str().unwrap();
    assert!(
        shown.contains(cause.as_str()) && shown.contains(check.as_str()),
        "the check's and cause's titles: {shown}"
    );
    // …and changes with the next.
    let done = post_of(
        &real_post(),
        key,
        "zoe",
        2,
        &At {
            step: "step2-offloading",
            failing: &[],
            cause: None,
            hint: 1,
        },
    );
    assert_eq!(board.post(&serde_json::to_vec(&done).unwrap()).0, 201);
    wait_for(
        &tab,
        &format!("{cell}.dataset.status === 'done'"),
        "the page never showed zoe done with step 2",
    );
    assert_eq!(eval(&tab, &format!("{cell}.textContent")), "✓");

    seed(&board);
    wait_for(
        &tab,
        "document.querySelectorAll('#grid tbody tr').length === 7",
        "the page never showed the whole class",
    );
    // A name is text, never markup.
    assert_eq!(
        eval(&tab, "document.querySelectorAll('#grid img').length"),
        0
    );
    assert!(
        eval(
            &tab,
            "document.querySelector('#grid tbody').textContent.includes('<img src=x')"
        ) == Value::Bool(true)
    );
    // Hint tier 3: stuck, listed and first in the grid.
    wait_for(
        &tab,
        "document.getElementById('stuck').textContent.includes('bob')",
        "the page never showed bob stuck",
    );
    assert!(eval(&tab, "document.getElementById('common').textContent")
        .as_str()
        .unwrap()
        .contains("of 7 attendees"));
    // The filter keeps one step's column and those on it.
    eval(&tab, "(() => { const f = document.getElementById('filter'); f.value = 'step3-shared-atomics'; f.dispatchEvent(new Event('change')); return true; })()");
    assert_eq!(
        eval(&tab, "document.querySelectorAll('#grid thead th').length"),
        3
    );
    // Only carol is on step 3 (everyone else's step 3 is not started).
    assert_eq!(
        eval(
            &tab,
            "[...document.querySelectorAll('#grid tbody tr td.name')].map(t => t.textContent)"
        ),
        serde_json::json!(["carol"])
    );
    eval(&tab, "(() => { const f = document.getElementById('filter'); f.value = ''; f.dispatchEvent(new Event('change')); return true; })()");
    let light = screenshot(&tab, "board-light.png");
    if std::env::var_os("COURSE_BOARD_SCREENSHOT").is_some() {
        let book = common::course_root().join("book/src/images/workshop-board.png");
        std::fs::copy(&light, &book).unwrap();
        println!("board screenshot for the book: {}", book.display());
    }
    let light_bg = eval(&tab, "getComputedStyle(document.body).backgroundColor");

    emulate(&tab, 1280, 900, false, true);
    wait_for(
        &tab,
        "matchMedia('(prefers-color-scheme: dark)').matches",
        "the page never showed dark mode",
    );
    let dark_bg = eval(&tab, "getComputedStyle(document.body).backgroundColor");
    assert_ne!(light_bg, dark_bg);
    assert_eq!(dark_bg, "rgb(13, 17, 23)");
    screenshot(&tab, "board-dark.png");

    emulate(&tab, 390, 844, true, false);
    wait_for(
        &tab,
        "window.innerWidth === 390",
        "the page never showed a phone-width window",
    );
    // Only the grid's own box scrolls sideways; the page does not.
    assert_eq!(
        eval(&tab, "document.documentElement.scrollWidth <= 390"),
        Value::Bool(true),
        "the page is wider than the phone"
    );
    let font = eval(
        &tab,
        "parseFloat(getComputedStyle(document.querySelector('#grid td')).fontSize)",
    );
    assert!(font.as_f64().unwrap() >= 14.0, "grid text of {font} px");
    screenshot(&tab, "board-phone.png");

    let errors = errors.lock().unwrap();
    assert!(errors.is_empty(), "errors in the page: {errors:?}");
}
