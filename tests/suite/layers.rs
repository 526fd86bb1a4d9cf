//! The crate's layers, checked from module paths, so that the check cannot fall behind the
//! code:
//! - the core (`src/api/`: the generated client and every type it names) names no module
//!   above it, by any path: every `crate::` path in it starts `crate::api`, and no `super::`
//!   climbs out of it;
//! - modules import from their homes: outside `src/lib.rs`, no code reaches an item through
//!   the crate root's re-exports (`crate::Client`); every `crate::` path starts with a module
//!   `src/lib.rs` declares. The facade only re-exports, for users.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The modules `lib.rs` declares (`mod api;`, `pub mod batch;`, ...).
fn declared_modules(lib: &str) -> Vec<String> {
    lib.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .filter_map(|line| {
            let line = line.trim();
            let rest = line
                .strip_prefix("pub mod ")
                .or_else(|| line.strip_prefix("pub(crate) mod "))
                .or_else(|| line.strip_prefix("mod "))?;
            rest.strip_suffix(';').map(str::to_string)
        })
        .collect()
}

/// The code of a line: its comment cut off, the inside of its string literals blanked.
fn code(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut in_string = false;
    let mut previous = ' ';
    for c in line.chars() {
        if c == '"' && previous != '\\' {
            in_string = !in_string;
            out.push(c);
        } else if in_string {
            out.push(' ');
        } else if c == '/' && previous == '/' {
            out.pop();
            break;
        } else {
            out.push(c);
        }
        previous = if previous == '\\' && c == '\\' {
            ' '
        } else {
            c
        };
    }
    out
}

/// The first segment of every `crate::` path of `text`'s code: `crate::api::types::X` gives
/// `api`; a grouped `use crate::{a::B, c}` gives `a` and `c`.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut group: Option<(usize, String)> = None;
    for (n, line) in text.lines().enumerate() {
        let code = code(line);
        if let Some((start, mut members)) = group.take() {
            members.push_str(&code);
            match members.find('}') {
                Some(end) => found.extend(group_heads(&members[..end]).map(|h| (start, h))),
                None => group = Some((start, members)),
            }
            continue;
        }
        let mut rest = code.as_str();
        while let Some(at) = rest.find("crate::") {
            let before = rest[..at].chars().next_back();
            let after = &rest[at + "crate::".len()..];
            rest = after;
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                continue; // `my_crate::`, `$crate::`
            }
            if let Some(members) = after.strip_prefix('{') {
                match members.find('}') {
                    Some(end) => found.extend(group_heads(&members[..end]).map(|h| (n + 1, h))),
                    None => group = Some((n + 1, members.to_string())),
                }
                continue;
            }
            let head: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.push((n + 1, head));
        }
    }
    found
}

/// The first segment of each member of a `use` group (`a::B, c, d::{e, f}`), nested groups
/// skipped.
fn group_heads(members: &str) -> impl Iterator<Item = String> + '_ {
    let mut depth = 0;
    let mut heads = Vec::new();
    let mut start = true;
    let mut current = String::new();
    for c in members.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                start = true;
                if !current.is_empty() {
                    heads.push(std::mem::take(&mut current));
                }
                continue;
            }
            _ => {}
        }
        if start && depth == 0 {
            if c.is_alphanumeric() || c == '_' {
                current.push(c);
                continue;
            }
            if !current.is_empty() {
                start = false;
            }
        }
    }
    if !current.is_empty() {
        heads.push(current);
    }
    heads.into_iter()
}

/// How far up `super::` chains climb in `text` (the most `super`s in a row in its code).
fn deepest_super(text: &str) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = code(line);
        let mut rest = code.as_str();
        while let Some(at) = rest.find("super::") {
            let before = rest[..at].chars().next_back();
            let mut count = 0;
            let mut tail = &rest[at..];
            while let Some(next) = tail.strip_prefix("super::") {
                count += 1;
                tail = next;
            }
            rest = tail;
            if !before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                found.push((n + 1, count));
            }
        }
    }
    found
}

/// How many modules deep a file of `src/` is: `api/client.rs` is 2 (`crate::api::client`),
/// `api/mod.rs` is 1. Inline `mod tests` add one for the code inside, which only makes a
/// climbing `super::` look shorter than it is, never longer.
fn depth(file: &Path, src: &Path) -> usize {
    let relative = file.strip_prefix(src).unwrap();
    let parts = relative.components().count();
    let name = relative.file_name().unwrap().to_string_lossy();
    if name == "mod.rs" || name == "lib.rs" {
        parts - 1
    } else {
        parts
    }
}

/// What `file` (of `src/`, whose crate root declares `modules`) does against the layers.
fn violations(file: &Path, src: &Path, text: &str, modules: &[String]) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap();
    let in_core = relative.starts_with("api");
    let mut found = Vec::new();
    for (line, head) in crate_paths(text) {
        if in_core && head != "api" {
            found.push(format!(
                "{}:{line}: the core names `crate::{head}`",
                relative.display()
            ));
        } else if !modules.contains(&head) {
            found.push(format!(
                "{}:{line}: `crate::{head}` reaches through the crate root; import it from its home",
                relative.display()
            ));
        }
    }
    if in_core {
        let depth = depth(file, src);
        for (line, climbs) in deepest_super(text) {
            if climbs >= depth {
                found.push(format!(
                    "{}:{line}: `super::` climbs out of the core",
                    relative.display()
                ));
            }
        }
    }
    found
}

#[test]
fn the_core_names_nothing_above_it_and_modules_import_from_their_homes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    let modules = declared_modules(&std::fs::read_to_string(src.join("lib.rs")).unwrap());
    assert!(modules.contains(&"api".to_string()), "{modules:?}");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut checked = 0;
    let mut found = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        // The facade re-exports; the CLI is a crate of its own, whose `crate::` is itself.
        if relative == Path::new("lib.rs") || relative.starts_with("cli") {
            continue;
        }
        checked += 1;
        let text = std::fs::read_to_string(&file).unwrap();
        found.extend(violations(&file, &src, &text, &modules));
    }
    assert!(checked >= 40, "{checked} files");
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_check_finds_what_it_hunts() {
    let src = Path::new("/s");
    let modules: Vec<String> = ["api", "jobs", "batch"].map(String::from).to_vec();
    let core = Path::new("/s/api/client.rs");
    let check = |file: &Path, text: &str| violations(file, src, text, &modules);
    // Above the core, by any path; comments and strings do not count.
    assert_eq!(check(core, "use crate::jobs::wait::WaitOptions;").len(), 1);
    assert_eq!(check(core, "fn f(c: &crate::Client) {}").len(), 1);
    assert_eq!(check(core, "use crate::types::Page;").len(), 1);
    assert_eq!(check(core, "use crate::{api::types, jobs::wait};").len(), 1);
    assert_eq!(
        check(
            core,
            "use crate::{\n    api::types::Page,\n    batch::Job,\n};"
        )
        .len(),
        1
    );
    assert_eq!(check(core, "use super::super::Client;").len(), 1);
    assert_eq!(
        check(
            Path::new("/s/api/bodies/video.rs"),
            "use super::super::error;"
        )
        .len(),
        0,
        "still inside the core"
    );
    assert!(check(
        core,
        "/// see crate::jobs\nlet url = \"http://x//crate::jobs\";"
    )
    .is_empty());
    assert!(check(core, "use crate::api::error::Error; // not crate::jobs").is_empty());
    assert!(check(core, "let _ = $crate::jobs::x; my_crate::jobs::y();").is_empty());
    // Homes, everywhere.
    let above = Path::new("/s/batch/engine.rs");
    assert_eq!(check(above, "use crate::Client;").len(), 1);
    assert_eq!(check(above, "use crate::{JobKind, jobs::wait};").len(), 1);
    assert!(check(above, "use crate::jobs::wait::WaitOptions;").is_empty());
    assert_eq!(
        declared_modules("mod api;\npub mod batch;\n// mod no;\npub use api::raw;\n"),
        ["api", "batch"]
    );
}
