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
    "crate::WaitEvent",
    "crate::Download",
    "crate::DownloadVideo",
    "crate::VideoAsset",
    "crate::Progress",
    "crate::ItemStream",
    "crate::BatchStream",
    "crate::BatchUpdate",
    "crate::VideoStatuses",
    "crate::UploadedBatch",
    "crate::UploadedFile",
    "crate::VideoAgents",
    "crate::Videos",
    "crate::Assets",
    "super::super",
];

/// Modules above the core, as they appear inside a grouped import (`use crate::{jobs, ..}`).
const ABOVE_IN_GROUPS: &[&str] = &[
    "jobs",
    "resources",
    "transfer",
    "batch",
    "operations",
    "chat",
    "files",
    "simulator",
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

/// Whether `line` names `path` as a whole path segment.
fn names(line: &str, path: &str) -> bool {
    line.match_indices(path).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        let after = line[at + path.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
            && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// Lines of code (comments and doc comments left out) that name a path above the core, also
/// inside a grouped `use crate::{..}` (whose members may span lines).
fn violations(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut in_group = false;
    for line in text.lines() {
        if line.trim_start().starts_with("//") {
            continue;
        }
        let opens = line.contains("crate::{");
        let grouped = in_group || opens;
        if opens && !line.contains('}') {
            in_group = true;
        } else if in_group && line.contains('}') {
            in_group = false;
        }
        let above = ABOVE.iter().any(|path| names(line, path))
            || (grouped && ABOVE_IN_GROUPS.iter().any(|module| names(line, module)));
        if above {
            found.push(line.to_string());
        }
    }
    found
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
    assert_eq!(violations("use crate::{types, jobs::wait};").len(), 1);
    assert_eq!(
        violations("use crate::{\n    types::Page,\n    transfer::Progress,\n};\nfn jobs() {}"),
        ["    transfer::Progress,"]
    );
    assert_eq!(violations("use super::super::Client;").len(), 1);
}
