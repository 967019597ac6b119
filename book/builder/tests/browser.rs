//! The built book in a real browser: headless Chromium opens it from
//! `file://` and checks what a reader would notice.
//!
//! - every chapter loads with no JavaScript error and no missing file;
//! - admonitions are styled (the admonish stylesheet is loaded and applied);
//! - a collapsible answer (`<details>` from `collapsible=true`) opens on a click;
//! - the search box finds [`SEARCH_TERM`];
//! - no text of any SVG figure is drawn outside the figure (a clipped label);
//! - on a phone-width screen the figures keep their size and scroll sideways
//!   instead of shrinking their labels to a few pixels;
//! - in the dark themes the figures (drawn on white) are dimmed and inverted;
//! - a screenshot of [`SCREENSHOT_CHAPTER`] is saved as
//!   `target/book-screenshot.png` (and one of the fixture chapter as
//!   `target/book-screenshot-fixture.png`).
//!
//! Chromium is found as `$CHROME`, else `chromium`, `google-chrome`, ... on the
//! PATH. Without it the test prints why it skipped, unless `CI` is set: then
//! it fails, so CI never passes without having looked.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use course_browser::{eval, find_chromium, wait_for, Browser, Tab};
use serde_json::{json, Value};

/// The word the search test types. The chapter "For Node.js developers"
/// will contain it; until it does, the test expects the fixture chapter.
const SEARCH_TERM: &str = "SharedArrayBuffer";
/// The chapter that should be among the search results once it has the word.
const SEARCH_CHAPTER: &str = "for-nodejs-developers";
/// The chapter whose screenshot goes to target/book-screenshot.png.
const SCREENSHOT_CHAPTER: &str = "step1-blocking";

#[test]
fn the_book_works_in_headless_chromium() {
    let Some(chrome) = find_chromium("the book's browser test") else {
        return;
    };
    let started = Instant::now();
    let book = common::build(&[common::fixture()]);
    let dir = book.dir();
    // Two browsers, each with its own profile (a theme one stores never
    // reaches the other), take half of the work each: a page load mostly
    // waits, so the halves overlap even on two cores.
    let browsers = std::thread::scope(|s| {
        let pages = s.spawn(|| {
            in_a_browser(&chrome, |tab, problems| {
                every_chapter_loads_without_errors(tab, dir, problems);
                admonitions_are_styled(tab, dir);
                a_collapsible_answer_opens_on_click(tab, dir);
                every_step_keeps_its_walk_through_closed(tab, dir);
                search_finds_the_term(tab, dir);
            })
        });
        let figures = in_a_browser(&chrome, |tab, _| {
            no_figure_label_is_clipped(tab, dir);
            figures_keep_their_size_on_a_phone(tab, dir);
            figures_are_dimmed_in_dark_themes(tab, dir);
            screenshots(tab, dir);
        });
        match pages.join() {
            Ok(pages) => [pages, figures],
            Err(panic) => std::panic::resume_unwind(panic),
        }
    });
    // Both closed once both are done: a browser closed while the test goes
    // on logs the events it can no longer deliver.
    drop(browsers);
    println!(
        "browser test: {} pages checked in {:.1} s",
        chapters(dir).len(),
        started.elapsed().as_secs_f64()
    );
}

/// Starts Chromium, runs `checks` in one tab of it (with the errors the
/// browser reported so far, for a check that names their page), and fails
/// if the browser reported an error on any page they opened. Returns the
/// browser, still running.
fn in_a_browser(chrome: &Path, checks: impl FnOnce(&Tab, &Mutex<Vec<String>>)) -> Browser {
    let browser = course_browser::launch(chrome.to_path_buf(), (1200, 900));
    let tab = browser.new_tab();
    let problems = listen_for_errors(&tab);
    checks(&tab, &problems);
    let left = std::mem::take(&mut *problems.lock().unwrap());
    assert!(
        left.is_empty(),
        "errors in the browser:\n  {}",
        left.join("\n  ")
    );
    browser
}

/// JavaScript exceptions, `console.error` calls and failed loads, as text.
fn listen_for_errors(tab: &Tab) -> Arc<Mutex<Vec<String>>> {
    let problems = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&problems);
    tab.on_event(move |method, params| {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let problem = match method {
            "Runtime.exceptionThrown" => {
                let details = &params["exceptionDetails"];
                let description = details["exception"]["description"]
                    .as_str()
                    .map_or_else(|| text(&details["text"]), str::to_string);
                Some(format!(
                    "JavaScript exception: {description} ({}:{})",
                    text(&details["url"]),
                    details["lineNumber"]
                ))
            }
            "Log.entryAdded" if params["entry"]["level"] == "error" => {
                let entry = &params["entry"];
                Some(format!(
                    "browser error: {} {}",
                    text(&entry["text"]),
                    text(&entry["url"])
                ))
            }
            "Runtime.consoleAPICalled" if params["type"] == "error" => {
                let args: Vec<String> = params["args"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| match a.get("value") {
                        Some(value) => value.to_string(),
                        None => text(&a["description"]),
                    })
                    .collect();
                Some(format!("console.error: {}", args.join(" ")))
            }
            _ => None,
        };
        if let Some(problem) = problem {
            sink.lock().unwrap().push(problem);
        }
    });
    for domain in ["Runtime.enable", "Log.enable"] {
        tab.call(domain, json!({}))
            .unwrap_or_else(|e| panic!("listening for errors: {e}"));
    }
    problems
}

/// Every page of the book: the chapters of SUMMARY.md and the fixture.
fn chapters(dir: &Path) -> Vec<String> {
    let mut pages: Vec<String> = common::summary_chapters()
        .iter()
        .map(|c| c.trim_end_matches(".md").to_string())
        .collect();
    pages.push("fixture".into());
    pages.retain(|p| dir.join(format!("{p}.html")).is_file());
    pages
}

fn url(dir: &Path, page: &str) -> String {
    file_url(&dir.join(format!("{page}.html")))
}

/// Opens a page and waits until book.js has run on it (the sidebar is filled
/// in). Page.navigate returns once the new page is committed, before it has
/// loaded; the old page is marked so that the wait ends on the new one.
fn open(tab: &Tab, dir: &Path, page: &str) {
    eval(tab, "window.__leaving_page = true");
    tab.navigate(&url(dir, page))
        .unwrap_or_else(|e| panic!("{page}.html did not load: {e}"));
    wait_for(
        tab,
        "window.__leaving_page === undefined && document.readyState === 'complete' \
         && document.querySelector('#sidebar a') !== null",
        &format!("{page}.html did not finish loading"),
    );
}

/// The SVG figures of the built book.
fn figures(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for sub in ["images", "measure", "traces"] {
        svgs_under(&dir.join(sub), &mut found);
    }
    found.sort();
    found
}

/// The SVG files in `dir` and its folders (`traces/<step>/right.svg`).
fn svgs_under(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.flatten().map(|e| e.path()) {
        if path.is_dir() {
            svgs_under(&path, found);
        } else if path.extension().is_some_and(|e| e == "svg") {
            found.push(path);
        }
    }
}

fn file_url(path: &Path) -> String {
    let path = path.to_string_lossy().replace('\\', "/");
    if path.starts_with('/') {
        format!("file://{path}")
    } else {
        format!("file:///{path}")
    }
}

/// Every text of every figure lies inside the figure, as the browser draws
/// it (rotated labels included).
fn no_figure_label_is_clipped(tab: &Tab, dir: &Path) {
    let figures = figures(dir);
    assert!(!figures.is_empty(), "no SVG figures in the built book");
    let mut clipped = Vec::new();
    for figure in &figures {
        eval(tab, "window.__leaving_page = true");
        tab.navigate(&file_url(figure))
            .unwrap_or_else(|e| panic!("{} did not load: {e}", figure.display()));
        wait_for(
            tab,
            "window.__leaving_page === undefined && document.readyState === 'complete'",
            &format!("{} did not finish loading", figure.display()),
        );
        let outside = eval(
            tab,
            "(() => { const box = document.documentElement.getBoundingClientRect(); \
              return [...document.querySelectorAll('text')].map(t => [t, t.getBoundingClientRect()]) \
                .filter(([t, r]) => r.width > 0 && (r.left < box.left - 0.5 || r.right > box.right + 0.5 \
                  || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5)) \
                .map(([t, r]) => `${t.textContent.trim()} (${Math.round(r.left)}..${Math.round(r.right)} of ${Math.round(box.width)})`); })()",
        );
        for text in outside.as_array().into_iter().flatten() {
            clipped.push(format!(
                "{}: {}",
                figure.display(),
                text.as_str().unwrap_or("?")
            ));
        }
    }
    assert!(
        clipped.is_empty(),
        "labels drawn outside their figure (clipped):\n  {}",
        clipped.join("\n  ")
    );
}

/// The pages with figures: two fixed ones, and each step page that shows
/// recorded check timelines (`{{#course-trace ...}}`), one folder per step
/// under `book/src/traces/`.
fn figure_pages() -> Vec<String> {
    let mut pages = vec![
        "mental-model".to_string(),
        "measure-it-yourself".to_string(),
    ];
    let traces = Path::new(env!("CARGO_MANIFEST_DIR")).join("../src/traces");
    let mut steps: Vec<String> = std::fs::read_dir(&traces)
        .unwrap_or_else(|e| panic!("{}: {e}", traces.display()))
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    steps.sort();
    pages.extend(steps);
    pages
}
/// The figures on a page that are SVG files.
const SVG_IMAGES: &str = "[...document.querySelectorAll('main img')].filter(i => i.getAttribute('src').endsWith('.svg'))";

/// On a 390 px wide screen, every figure is still drawn at least 600 px
/// wide (its box scrolls sideways), so its labels stay readable.
fn figures_keep_their_size_on_a_phone(tab: &Tab, dir: &Path) {
    course_browser::window(tab, 390, 844, true);
    let mut small = Vec::new();
    for page in figure_pages() {
        let page = page.as_str();
        open(tab, dir, page);
        assert_eq!(
            eval(tab, "window.innerWidth"),
            serde_json::json!(390),
            "the phone-width emulation did not take"
        );
        wait_for(
            tab,
            &format!("{SVG_IMAGES}.every(i => i.complete && i.naturalWidth > 0)"),
            &format!("the figures of {page}.html did not load"),
        );
        let shrunk = eval(
            tab,
            &format!(
                "{SVG_IMAGES}.filter(i => i.getBoundingClientRect().width < 600) \
                 .map(i => `${{i.getAttribute('src')}} is ${{Math.round(i.getBoundingClientRect().width)}} px wide`)"
            ),
        );
        for s in shrunk.as_array().into_iter().flatten() {
            small.push(format!("{page}.html: {}", s.as_str().unwrap_or("?")));
        }
    }
    course_browser::real_window(tab);
    assert!(
        small.is_empty(),
        "on a 390 px screen these figures shrink (their labels become unreadable): \
         put them in a <div class=\"wide-figure\">:\n  {}",
        small.join("\n  ")
    );
}

/// In the navy, coal and ayu themes every figure is filtered (dimmed and
/// inverted), not a bright white box on a dark page.
fn figures_are_dimmed_in_dark_themes(tab: &Tab, dir: &Path) {
    let mut bright = Vec::new();
    for page in figure_pages() {
        let page = page.as_str();
        // The first dark theme as a reader's stored choice, applied when
        // the page loads; the others picked from mdbook's theme menu on
        // that page, as a reader switches (one load per page, not three).
        eval(tab, "localStorage.setItem('mdbook-theme', 'navy')");
        open(tab, dir, page);
        for theme in ["navy", "coal", "ayu"] {
            if theme != "navy" {
                eval(
                    tab,
                    &format!("document.getElementById('{theme}').click() ?? true"),
                );
            }
            assert_eq!(
                eval(
                    tab,
                    &format!("document.documentElement.classList.contains('{theme}')")
                ),
                serde_json::json!(true),
                "{page}.html: the {theme} theme was not applied"
            );
            let unfiltered = eval(
                tab,
                &format!("{SVG_IMAGES}.filter(i => getComputedStyle(i).filter === 'none').map(i => i.getAttribute('src'))"),
            );
            for s in unfiltered.as_array().into_iter().flatten() {
                bright.push(format!(
                    "{theme}, {page}.html: {}",
                    s.as_str().unwrap_or("?")
                ));
            }
        }
    }
    eval(tab, "localStorage.setItem('mdbook-theme', 'light')");
    assert!(
        bright.is_empty(),
        "figures shown unfiltered, white on a dark theme:\n  {}",
        bright.join("\n  ")
    );
}

fn every_chapter_loads_without_errors(tab: &Tab, dir: &Path, problems: &Mutex<Vec<String>>) {
    let mut failures = Vec::new();
    for page in chapters(dir) {
        let t = Instant::now();
        open(tab, dir, &page);
        let heading = eval(tab, "document.querySelector('main h1') !== null");
        if heading != serde_json::Value::Bool(true) {
            failures.push(format!("{page}.html: no <h1> in <main>"));
        }
        for problem in std::mem::take(&mut *problems.lock().unwrap()) {
            failures.push(format!("{page}.html: {problem}"));
        }
        println!("  {page}.html loaded in {:.2} s", t.elapsed().as_secs_f64());
    }
    assert!(
        failures.is_empty(),
        "pages with errors:\n  {}",
        failures.join("\n  ")
    );
}

fn admonitions_are_styled(tab: &Tab, dir: &Path) {
    open(tab, dir, "fixture");
    let style = eval(
        tab,
        "(() => { const a = document.querySelector('.admonition.admonish-note');
                  if (!a) return null;
                  const s = getComputedStyle(a);
                  return { display: s.display, border: s.borderLeftWidth,
                           color: s.borderLeftColor, title: !!a.querySelector('.admonition-title') }; })()",
    );
    assert!(!style.is_null(), "no note admonition on the fixture page");
    assert_eq!(
        style["display"], "flow-root",
        "the admonish stylesheet is not applied: {style}"
    );
    assert_ne!(
        style["border"], "0px",
        "admonitions have no border: {style}"
    );
    assert_eq!(
        style["title"], true,
        "the admonition has no title bar: {style}"
    );
}

fn a_collapsible_answer_opens_on_click(tab: &Tab, dir: &Path) {
    open(tab, dir, "fixture");
    let closed = eval(
        tab,
        "(() => { const d = document.querySelector('details.admonition');
                  return d ? d.open : null; })()",
    );
    assert_eq!(
        closed,
        serde_json::Value::Bool(false),
        "no closed collapsible admonition on the fixture page"
    );
    tab.click("details.admonition > summary")
        .unwrap_or_else(|e| panic!("the summary of the collapsible answer: {e}"));
    wait_for(
        tab,
        "(() => { const d = document.querySelector('details.admonition');
                  const body = d.querySelector('.admonition-content, div:not(.admonition-title)');
                  return d.open && body !== null && body.getBoundingClientRect().height > 0; })()",
        "the collapsible answer did not open when clicked",
    );
}

/// Each step chapter ends its exercise section with the whole walk-through,
/// closed until the learner chooses to open it, and opening it shows it.
fn every_step_keeps_its_walk_through_closed(tab: &Tab, dir: &Path) {
    let steps: Vec<String> = chapters(dir)
        .into_iter()
        .filter(|p| p.starts_with("step"))
        .collect();
    assert!(steps.len() >= 7, "only these step chapters: {steps:?}");
    for page in &steps {
        open(tab, dir, page);
        let state = eval(
            tab,
            "(() => { const d = document.getElementById('admonition-stuck-the-walk-through');
                      return d === null ? 'missing' : d.tagName !== 'DETAILS' ? 'not collapsible'
                           : d.open ? 'open' : 'closed'; })()",
        );
        assert_eq!(
            state, "closed",
            "{page}.html: its \"Stuck? The walk-through\" block should be there and closed"
        );
        tab.click("#admonition-stuck-the-walk-through > summary")
            .unwrap_or_else(|e| panic!("{page}.html: the walk-through: {e}"));
        wait_for(
            tab,
            "(() => { const d = document.getElementById('admonition-stuck-the-walk-through');
                      return d.open && d.getBoundingClientRect().height > 150; })()",
            &format!("{page}.html: the walk-through did not open when clicked"),
        );
    }
}

fn search_finds_the_term(tab: &Tab, dir: &Path) {
    let source = common::book_dir().join(format!("src/{SEARCH_CHAPTER}.md"));
    let has_term = std::fs::read_to_string(&source)
        .map(|text| text.contains(SEARCH_TERM))
        .unwrap_or(false);
    let expected = if has_term { SEARCH_CHAPTER } else { "fixture" };
    if !has_term {
        println!(
            "note: {} does not contain `{SEARCH_TERM}` yet; expecting the fixture chapter in the results",
            source.display()
        );
    }
    open(tab, dir, "index");
    tab.click("#search-toggle")
        .unwrap_or_else(|e| panic!("the search button: {e}"));
    wait_for(
        tab,
        "getComputedStyle(document.getElementById('search-wrapper')).display !== 'none'",
        "the search bar did not appear",
    );
    tab.type_into("#searchbar", SEARCH_TERM)
        .unwrap_or_else(|e| panic!("the search bar: {e}"));
    wait_for(
        tab,
        "document.querySelectorAll('#searchresults a').length > 0",
        &format!("searching for {SEARCH_TERM} found nothing"),
    );
    let links = eval(
        tab,
        "[...document.querySelectorAll('#searchresults a')].map(a => a.getAttribute('href'))",
    );
    let found = links
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l.as_str())
        .any(|href| href.starts_with(&format!("{expected}.html")));
    assert!(
        found,
        "searching for {SEARCH_TERM} did not list {expected}.html: {links}"
    );
}

fn screenshots(tab: &Tab, dir: &Path) {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf();
    for (page, file) in [
        (SCREENSHOT_CHAPTER, "book-screenshot.png"),
        ("fixture", "book-screenshot-fixture.png"),
    ] {
        open(tab, dir, page);
        // Open the first collapsible answer, if any, so the picture shows one.
        eval(
            tab,
            "(() => { const d = document.querySelector('details'); if (d) d.open = true; return true; })()",
        );
        // The whole page, not just the window.
        let png = course_browser::screenshot(tab, 3000);
        let path = target.join(file);
        std::fs::write(&path, png).unwrap();
        println!("screenshot of {page}.html: {}", path.display());
    }
}
