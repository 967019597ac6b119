//! `cargo run -p book-doctests`: how many code blocks the book has, of each kind.
//! (`cargo test -p book-doctests` compiles and runs them.)

fn main() {
    println!("{}", book_doctests::counts());
    for (chapter, c) in book_doctests::per_chapter() {
        println!(
            "  {chapter}: {} Rust ({} run, {} no_run, {} compile_fail, {} ignored), {} other",
            c.rust, c.run, c.no_run, c.compile_fail, c.ignored, c.other
        );
    }
}
