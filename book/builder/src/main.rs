//! `book-builder [--open] [--dest DIR] [--verbose]`: builds the course book
//! into book/book (or DIR) and, with `--open`, opens it in the default browser.
//! Usually run as `cargo xtask book [--open]`. Works from anywhere inside the
//! repository: it finds the root by looking for course.toml upwards.

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: book-builder [--open] [--dest DIR] [--verbose]

Builds the course book (book/) into book/book, or into DIR.
  --open       open the built book in the default browser
  --dest DIR   write the HTML into DIR instead of book/book
  --verbose    show mdbook's progress messages";

struct Args {
    open: bool,
    dest: Option<PathBuf>,
    verbose: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        open: false,
        dest: None,
        verbose: false,
    };
    let mut it = std::env::args_os().skip(1);
    while let Some(arg) = it.next() {
        match arg.to_str() {
            Some("--open") => args.open = true,
            Some("--verbose" | "-v") => args.verbose = true,
            Some("--dest" | "-d") => {
                let dir = it.next().ok_or("--dest needs a directory")?;
                args.dest = Some(PathBuf::from(dir));
            }
            Some(s) if s.starts_with("--dest=") => {
                args.dest = Some(PathBuf::from(&s["--dest=".len()..]));
            }
            Some("--help" | "-h") => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => return Err(format!("unknown argument `{}`", arg.to_string_lossy())),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    book_builder::init_logging(args.verbose);
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    // A relative --dest is relative to where the command was typed.
    let dest = args
        .dest
        .map(|d| if d.is_absolute() { d } else { cwd.join(d) });
    let built = match book_builder::find_root(&cwd)
        .and_then(|root| book_builder::build_repo_book(&root, dest.as_deref()))
    {
        Ok(built) => built,
        Err(e) => {
            eprintln!("error: the book did not build: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "Built the book in {:.1} s: {}",
        built.took.as_secs_f64(),
        built.index.display()
    );
    if args.open {
        if let Err(e) = opener::open(&built.index) {
            eprintln!(
                "could not open a browser ({e}); open {} yourself",
                built.index.display()
            );
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
