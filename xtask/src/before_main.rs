//! Code that would run in a check process before the check harness does.
//!
//! The harness reads the seal's token (see `check_harness::seal`) as the
//! first thing `main` does, so code under test must not run before `main`.
//! Rust runs nothing before `main` by itself, but a crate can ask for it:
//! a function placed in a constructor section (`#[link_section =
//! ".init_array"]`, the `ctor` crate, `.CRT$XCU` on Windows,
//! `__mod_init_func` on macOS), a GNU indirect function whose resolver runs
//! while the program is loaded, a `#[global_allocator]` (std allocates
//! before `main`), an unmangled symbol that replaces a C library function
//! such as `read`, or a native library linked in by a build script.
//!
//! After each build the grader reads the object files cargo reports for the
//! graded crate and everything it depends on, and refuses to grade when it
//! finds any of these in a crate the course did not ship. Shipped crates
//! (the checks, the harness, their registry dependencies at the versions
//! in the course's lock file) are only looked at for constructor sections,
//! which none of them has.

use std::path::{Path, PathBuf};

use object::read::archive::ArchiveFile;
use object::{Object, ObjectSection, ObjectSymbol, SymbolFlags};

/// One library cargo built or found fresh for the checks binary.
#[derive(Debug, Clone)]
pub struct Library {
    /// The package name and version, as the learner would recognise it.
    pub package: String,
    /// Whether the course ships it (see the module docs).
    pub shipped: bool,
    pub files: Vec<PathBuf>,
}

/// A reason not to grade, in words for the learner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub package: String,
    pub what: String,
}

/// Section names whose functions the loader or the C runtime calls before
/// `main`.
fn is_constructor_section(name: &str) -> bool {
    let elf = name == ".init"
        || name == ".preinit_array"
        || name == ".init_array"
        || name.starts_with(".init_array.")
        || name == ".ctors"
        || name.starts_with(".ctors.");
    // Windows: the C runtime's initializer tables (.CRT$XC*, .CRT$XI*) and
    // the TLS callbacks (.CRT$XL*), all of which run before main.
    let coff = name.starts_with(".CRT$X");
    // macOS: `__DATA,__mod_init_func` and the newer `__init_offsets`.
    let macho = name == "__mod_init_func" || name == "__init_offsets";
    elf || coff || macho
}

/// Symbols the global allocator shim defines (`#[global_allocator]`).
fn is_allocator_symbol(name: &str) -> bool {
    ["__rust_alloc", "__rust_dealloc", "__rust_realloc", "__rg_"]
        .iter()
        .any(|s| name.contains(s))
}

/// Whether a symbol name is Rust-mangled: legacy `_ZN` and a length, or v0
/// `_R` and a path tag (Mach-O adds one underscore in front of each).
fn is_mangled(name: &str) -> bool {
    let rust = |n: &str| {
        n.strip_prefix("_ZN")
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
            || n.strip_prefix("_R")
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
    };
    rust(name) || name.strip_prefix('_').is_some_and(rust)
}

const ELF_IFUNC: u8 = 10; // STT_GNU_IFUNC

/// Looks at one object file.
fn inspect_object(data: &[u8], shipped: bool, found: &mut Vec<String>) {
    let Ok(file) = object::File::parse(data) else {
        return; // not an object file (a metadata member, say)
    };
    for section in file.sections() {
        if let Ok(name) = section.name() {
            if is_constructor_section(name) && section.size() > 0 {
                found.push(format!(
                    "a function that runs before `main` (section `{name}`)"
                ));
            }
        }
    }
    if shipped {
        return;
    }
    for symbol in file.symbols() {
        if !symbol.is_definition() {
            continue;
        }
        let Ok(name) = symbol.name() else { continue };
        if let SymbolFlags::Elf { st_info, .. } = symbol.flags() {
            if st_info & 0xf == ELF_IFUNC {
                found.push(format!(
                    "an indirect function `{name}`, whose resolver runs while the program loads"
                ));
                continue;
            }
        }
        if !symbol.is_global() || symbol.is_weak() {
            continue;
        }
        if is_allocator_symbol(name) {
            found.push("a `#[global_allocator]`, which runs before `main`".to_string());
        } else if !is_mangled(name) {
            found.push(format!(
                "an unmangled symbol `{name}` (`#[no_mangle]` or `#[export_name]`), which can replace a function of the C library or of std"
            ));
        }
    }
}

/// Looks at one library file: an rlib (an archive of object files) or a
/// single object.
fn inspect_file(path: &Path, shipped: bool) -> std::io::Result<Vec<String>> {
    let data = std::fs::read(path)?;
    let mut found = Vec::new();
    match ArchiveFile::parse(&*data) {
        Ok(archive) => {
            for member in archive.members().flatten() {
                if let Ok(bytes) = member.data(&*data) {
                    inspect_object(bytes, shipped, &mut found);
                }
            }
        }
        Err(_) => inspect_object(&data, shipped, &mut found),
    }
    found.sort();
    found.dedup();
    Ok(found)
}

/// Everything in `libraries` that would run before the harness's `main`.
/// A library that cannot be read is a finding too: it might hold anything.
pub fn scan(libraries: &[Library]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for lib in libraries {
        for file in lib.files.iter().filter(|f| is_library_file(f)) {
            let found = match inspect_file(file, lib.shipped) {
                Ok(found) => found,
                Err(e) => vec![format!("{} cannot be read ({e})", file.display())],
            };
            findings.extend(found.into_iter().map(|what| Finding {
                package: lib.package.clone(),
                what,
            }));
        }
    }
    findings
}

fn is_library_file(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e == "rlib" || e == "a" || e == "lib" || e == "o" || e == "obj")
}

/// The message that refuses to grade, naming each package and what it has.
pub fn refusal(step: &str, findings: &[Finding]) -> String {
    let mut text = format!(
        "not grading {step}: code in the build would run before the check harness starts, where it could take the harness's proof of a result and forge a pass:"
    );
    for f in findings.iter().take(8) {
        text.push_str(&format!("\n  - {}: {}", f.package, f.what));
    }
    if findings.len() > 8 {
        text.push_str(&format!("\n  - and {} more", findings.len() - 8));
    }
    text.push_str(&format!(
        "\nThe exercises need none of these; remove them (and any dependency you added that has them), then check again. \
         If you wrote none of them, this is the grader's mistake: please report it; {}=1 grades without this search.",
        crate::shipped::MAINTAINER
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mangled_names_are_told_from_plain_ones() {
        for name in [
            "_ZN4core3ptr13drop_in_place17h0E",
            "_RNvCs1_5crate3foo",
            "__ZN4core3ptr13drop_in_place17h0E",
        ] {
            assert!(is_mangled(name), "{name}");
        }
        for name in [
            "read",
            "main",
            "_start",
            "__libc_start_main",
            "_Rather",
            "_ZNow",
        ] {
            assert!(!is_mangled(name), "{name}");
        }
    }

    #[test]
    fn constructor_sections_of_every_os_are_known() {
        for name in [
            ".init_array",
            ".init_array.00099",
            ".ctors",
            ".preinit_array",
            ".CRT$XCU",
            ".CRT$XLB",
            "__mod_init_func",
        ] {
            assert!(is_constructor_section(name), "{name}");
        }
        for name in [".text", ".data", ".rodata", ".fini_array", ".CRT$Y"] {
            assert!(!is_constructor_section(name), "{name}");
        }
    }
}
