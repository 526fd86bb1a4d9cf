//! The core (`src/api/`: the generated client and every type it names) imports nothing of the
//! layers above it: not the jobs, resources, transfers, batch runner or operation table, and
//! not the crate root's re-exports of them.

use std::path::Path;

/// Paths that lead out of the core.
const ABOVE: &[&str] = &[
    "crate::jobs",
    "crate::resources",
    "crate::transfer",
    "crate::batch",
    "crate::operations",
    "crate::chat",
    "crate::files",
    "crate::simulator",
    "crate::Client",
    "crate::WaitOptions",
    "crate::Download",
    "crate::ItemStream",
];

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Lines of code (comments and doc comments left out) that name a path above the core.
fn violations(text: &str) -> Vec<String> {
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .filter(|line| {
            ABOVE.iter().any(|above| {
                line.match_indices(above).any(|(at, _)| {
                    let next = line[at + above.len()..].chars().next();
                    !next.is_some_and(|c| c.is_alphanumeric() || c == '_')
                })
            })
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn the_core_imports_nothing_of_the_layers_above() {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api"),
        &mut files,
    );
    assert!(files.len() >= 10, "{files:?}");
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for line in violations(&text) {
            found.push(format!("{}: {}", file.display(), line.trim()));
        }
    }
    assert!(
        found.is_empty(),
        "the core reaches above itself:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_an_import_from_above() {
    assert_eq!(
        violations("use crate::jobs::wait::WaitOptions;\n/// see crate::jobs\n"),
        ["use crate::jobs::wait::WaitOptions;"]
    );
    assert!(violations("let c: crate::ClientBuilder;").is_empty());
    assert_eq!(violations("fn f(c: &crate::Client) {}").len(), 1);
}
