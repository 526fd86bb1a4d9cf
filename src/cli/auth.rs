//! `heygen auth`: a stored API key, in the user's config folder, readable only by its owner.
//!
//! `--api-key` and `HEYGEN_API_KEY` win over it; `auth status` says which one is used and
//! never shows the key.

use std::io::{IsTerminal as _, Read as _, Write as _};
use std::path::{Path, PathBuf};

use heygen_api::Client;
use serde_json::json;

use crate::output;

/// Where the key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeySource {
    Flag,
    Environment,
    Stored,
}

/// The credentials file: `<config>/heygen/credentials.json`.
pub(crate) fn credentials_path() -> Option<PathBuf> {
    Some(dirs::config_dir()?.join("heygen").join("credentials.json"))
}

/// The stored key, if there is one that can be read.
pub(crate) fn stored_key() -> Option<String> {
    let text = std::fs::read_to_string(credentials_path()?).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value["api_key"]
        .as_str()
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string)
}

/// `heygen auth login`: reads a key (without echo on a terminal, else a line of standard
/// input), checks it with HeyGen, and stores it. `winning`: a key given otherwise, which
/// commands will use instead (said, so that nobody is surprised).
pub(crate) async fn login(
    base_url: Option<&str>,
    json_output: bool,
    winning: Option<KeySource>,
    given: Option<&str>,
) -> i32 {
    let Some(path) = credentials_path() else {
        eprintln!("error: this system has no config folder to keep the key in; set HEYGEN_API_KEY instead");
        return output::USAGE;
    };
    // `--api-key KEY` is the key to keep; otherwise it is asked for.
    let key = match given
        .map(|k| checked_key(k.to_string()))
        .unwrap_or_else(read_key)
    {
        Ok(key) => key,
        Err(problem) => {
            eprintln!("error: {problem}");
            return output::USAGE;
        }
    };
    let mut builder = Client::builder().api_key(key.clone());
    if let Some(url) = base_url {
        builder = builder.base_url(url);
    }
    // A key HeyGen refuses is not kept.
    let me = match builder.build() {
        Ok(client) => client.users().me().await,
        Err(error) => Err(error),
    };
    let me = match me {
        Ok(me) => me,
        Err(error) => {
            let code = output::error(&error);
            eprintln!("  the key was not stored");
            return code;
        }
    };
    if let Err(error) = store(&path, &key) {
        eprintln!("error: cannot write {}: {error}", path.display());
        return output::API_ERROR;
    }
    if json_output {
        output::json(&json!({"stored": path, "email": me.email}));
    } else {
        let who = me
            .email
            .as_deref()
            .map(|email| format!("; signed in as {email}"))
            .unwrap_or_default();
        output::line(&format!(
            "key stored in {} (only you can read it){who}",
            path.display()
        ));
    }
    if winning == Some(KeySource::Environment) {
        eprintln!(
            "note: {} is set, and commands use it instead of the stored key while it is",
            heygen_api::API_KEY_ENV
        );
    }
    output::OK
}

/// `heygen auth logout`: forgets the stored key.
pub(crate) fn logout() -> i32 {
    let Some(path) = credentials_path() else {
        return output::OK;
    };
    match std::fs::remove_file(&path) {
        Ok(()) => eprintln!("removed {}", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => eprintln!("no key was stored"),
        Err(error) => {
            eprintln!("error: cannot remove {}: {error}", path.display());
            return output::API_ERROR;
        }
    }
    output::OK
}

/// `heygen auth status`: which key a command would use, never the key.
pub(crate) fn status(source: Option<KeySource>, json_output: bool) -> i32 {
    let path = credentials_path();
    let stored = path.as_ref().is_some_and(|p| p.exists());
    let (name, text) = match source {
        Some(KeySource::Flag) => ("flag", "the key given with --api-key".to_string()),
        Some(KeySource::Environment) => (
            "environment",
            format!("the key in {}", heygen_api::API_KEY_ENV),
        ),
        Some(KeySource::Stored) => (
            "stored",
            format!(
                "the stored key ({})",
                path.as_deref()
                    .map(Path::display)
                    .map(|d| d.to_string())
                    .unwrap_or_default()
            ),
        ),
        None => (
            "none",
            format!(
                "no key: run `heygen auth login`, set {}, or pass --api-key",
                heygen_api::API_KEY_ENV
            ),
        ),
    };
    if json_output {
        output::json(&json!({"source": name, "stored": stored, "path": path}));
    } else {
        output::line(&format!("using {text}"));
        if stored && source != Some(KeySource::Stored) {
            output::line("a stored key is there too; the one above wins");
        }
    }
    if source.is_some() {
        output::OK
    } else {
        output::USAGE
    }
}

fn read_key() -> Result<String, String> {
    let key = if std::io::stdin().is_terminal() {
        eprint!("HeyGen API key: ");
        let _ = std::io::stderr().flush();
        rpassword::read_password().map_err(|e| format!("cannot read the key: {e}"))?
    } else {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read the key from standard input: {e}"))?;
        text
    };
    checked_key(key)
}

/// A key as typed, trimmed; refused when empty or holding spaces.
fn checked_key(key: String) -> Result<String, String> {
    let key = key.trim().to_string();
    if key.is_empty() {
        return Err("no key given; nothing was stored".into());
    }
    if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("the key holds spaces or control characters; nothing was stored".into());
    }
    Ok(key)
}

/// Writes the key where only its owner can read it: the folder `0700`, the file `0600` from
/// its creation, replaced whole.
fn store(path: &Path, key: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)?;
    // A folder made earlier may be open to others: closed before the key goes in.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if std::fs::metadata(dir)?.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    let temporary = dir.join(".credentials.json.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    // A leftover from an earlier try may carry other permissions: never reused.
    let _ = std::fs::remove_file(&temporary);
    let mut file = options.open(&temporary)?;
    file.write_all(json!({ "api_key": key }).to_string().as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}
