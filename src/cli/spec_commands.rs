//! The commands derived from the spec: one `heygen <resource> <verb>` per operation that has
//! no handwritten command, built from the crate's operation table and the embedded spec, and
//! run through [`Client::invoke`] (the same typed request builders as the library's methods).
//!
//! - path parameters are positional arguments, in path order;
//! - query parameters are `--flags` named after them (`_` as `-`);
//! - a JSON body comes from `--data JSON`, `--data @FILE` or `--data -` (standard input);
//! - `--request-schema` prints the body's JSON schema instead of calling;
//! - lists take `--all` to follow every page;
//! - help texts come from the spec's summaries and descriptions.

use std::io::Read as _;

use clap::{Arg, ArgAction, ArgMatches, Command};
use heygen_api::contract::Spec;
use heygen_api::operations::{self, Invocation, OperationInfo};
use heygen_api::Client;
use serde_json::Value;

use crate::output;

const DATA: &str = "data";
const REQUEST_SCHEMA: &str = "request-schema";
const ALL: &str = "all";
const FILE: &str = "file";
const IDS: &str = "ids";

/// The body members that take a file (the spec's `FileInput`), which `--file` can fill.
fn file_members(spec: Option<&Spec>, operation_id: &str) -> Vec<String> {
    let Some(schema) = spec.and_then(|s| s.request_schema(operation_id)) else {
        return Vec::new();
    };
    let mut members: Vec<String> = schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(_, member)| member.to_string().contains("\"asset_id\""))
        .map(|(name, _)| name.clone())
        .collect();
    members.sort();
    members
}

/// Adds a subcommand for every operation without a handwritten command, under its resource's
/// command (created when the handwritten CLI has none).
///
/// `schema_only`: the command line asks for `--request-schema`, which needs none of the
/// required arguments (they stay required, and shown so, everywhere else).
pub(crate) fn augment(mut root: Command, schema_only: bool) -> Command {
    let spec = Spec::get().ok();
    for op in operations::all().iter().filter(|op| !op.cli_handwritten) {
        let leaf = command(op, spec, schema_only);
        if root.find_subcommand(op.command).is_none() {
            let about = spec
                .and_then(|s| {
                    s.document()
                        .tags
                        .iter()
                        .find(|t| t.name == op.resource)
                        .and_then(|t| t.description.as_deref())
                        .map(|d| d.trim().trim_end_matches('.').to_string())
                })
                .unwrap_or_default();
            root = root.subcommand(
                Command::new(op.command)
                    .about(about)
                    .subcommand_required(true)
                    .arg_required_else_help(true),
            );
        }
        root = root.mut_subcommand(op.command, |resource| resource.subcommand(leaf));
    }
    root
}

/// How many ids the operation's `*_ids` parameters take in all (`x-heygen-most-ids`).
fn most_ids(spec: Option<&Spec>, op: &OperationInfo) -> Option<u64> {
    spec?
        .operation(op.id)?
        .extensions
        .get("x-heygen-most-ids")?
        .as_u64()
}

/// The first comma-separated ids parameter of an operation (`video_translation_ids`).
fn ids_parameter(op: &OperationInfo) -> Option<&'static str> {
    op.query_params
        .iter()
        .copied()
        .find(|name| name.ends_with("_ids"))
}

/// The operation a parse landed on, if it is a derived command.
pub(crate) fn matched(matches: &ArgMatches) -> Option<(&'static OperationInfo, &ArgMatches)> {
    let (noun, resource) = matches.subcommand()?;
    let (verb, leaf) = resource.subcommand()?;
    operations::all()
        .iter()
        .find(|op| !op.cli_handwritten && op.command == noun && op.verb == verb)
        .map(|op| (op, leaf))
}

fn command(op: &'static OperationInfo, spec: Option<&Spec>, schema_only: bool) -> Command {
    let described = |location: &str, name: &str| -> String {
        spec.map(|s| s.parameters(op.id))
            .unwrap_or_default()
            .into_iter()
            .find(|(l, p)| *l == location && p.name == name)
            .and_then(|(_, p)| p.description.clone())
            .unwrap_or_default()
    };
    let description = spec
        .and_then(|s| s.operation(op.id))
        .and_then(|o| o.description.clone())
        .unwrap_or_default();
    let mut command = Command::new(op.verb).about(op.summary).long_about(format!(
        "{}\n\n{}\n\n{} {} (operation {})",
        op.summary,
        description.trim(),
        op.method.to_uppercase(),
        op.path,
        op.id
    ));
    for name in op.path_params {
        command = command.arg(
            Arg::new(*name)
                .required(!schema_only)
                .value_name(name.to_uppercase())
                .help(described("path", name)),
        );
    }
    for name in op.query_params {
        let mut help = described("query", name);
        if help.is_empty() {
            help = described("header", name);
        }
        let shape = spec
            .map(|s| query_shape(s, op.id, name))
            .unwrap_or_default();
        if !shape.values.is_empty() {
            help = format!("{help} [possible values: {}]", shape.values.join(", "));
        }
        command = command.arg(
            Arg::new(*name)
                .long(name.replace('_', "-"))
                .value_name(name.to_uppercase())
                .required(shape.required && !schema_only)
                // `--limit -5` is a value, refused by the validator with its own message.
                .allow_negative_numbers(shape.number)
                .help(help),
        );
    }
    // A statuses request takes its ids as `video statuses` does: one after another.
    if let (Some(most), Some(list)) = (most_ids(spec, op), ids_parameter(op)) {
        command = command.arg(Arg::new(IDS).value_name("ID").num_args(0..).help(format!(
            "The ids to ask for, at most {most} in all (the same as --{} a,b,...)",
            list.replace('_', "-")
        )));
    }
    if op.paged {
        command = command.arg(
            Arg::new(ALL)
                .long(ALL)
                .action(ArgAction::SetTrue)
                .help("Follow every page and print all items."),
        );
    }
    if let Some(waiting) = crate::jobs::Waiting::of(op.id) {
        command = crate::jobs::arguments(command, &waiting);
    }
    let files = file_members(spec, op.id);
    if !files.is_empty() {
        command = command.arg(
            Arg::new(FILE)
                .long(FILE)
                .value_name("MEMBER=FILE")
                .action(ArgAction::Append)
                .help(format!(
                    "A file for the body's member ({}): a local path (uploaded once the rest of the request is checked), an http(s) URL, or asset:ID; repeatable",
                    files.join(", ")
                )),
        );
    }
    if op.has_body {
        command =
            command
                .arg(Arg::new(DATA).long(DATA).value_name("JSON|@FILE|-").help(
                    "The request body: JSON text, @FILE to read a file, - for standard input.",
                ))
                .arg(
                    Arg::new(REQUEST_SCHEMA)
                        .long(REQUEST_SCHEMA)
                        .action(ArgAction::SetTrue)
                        .help("Print the request body's JSON schema and exit."),
                );
    }
    command
}

/// What the spec says of a query parameter, for its flag.
#[derive(Default)]
struct QueryShape {
    required: bool,
    number: bool,
    /// The values it takes, when the spec lists them.
    values: Vec<String>,
}

fn query_shape(spec: &Spec, operation_id: &str, name: &str) -> QueryShape {
    use openapiv3::{ParameterSchemaOrContent, ReferenceOr, SchemaKind, Type};
    let Some((_, data)) = spec
        .parameters(operation_id)
        .into_iter()
        .find(|(location, p)| *location != "path" && p.name == name)
    else {
        return QueryShape::default();
    };
    let schema = match &data.format {
        ParameterSchemaOrContent::Schema(ReferenceOr::Item(schema)) => Some(schema),
        ParameterSchemaOrContent::Schema(ReferenceOr::Reference { reference }) => spec
            .document()
            .components
            .as_ref()
            .and_then(|c| {
                c.schemas
                    .get(reference.rsplit('/').next().unwrap_or_default())
            })
            .and_then(ReferenceOr::as_item),
        ParameterSchemaOrContent::Content(_) => None,
    };
    let kind = schema.map(|s| &s.schema_kind);
    QueryShape {
        required: data.required,
        number: matches!(
            kind,
            Some(SchemaKind::Type(Type::Integer(_) | Type::Number(_)))
        ),
        values: match kind {
            Some(SchemaKind::Type(Type::String(string))) => {
                string.enumeration.iter().flatten().cloned().collect()
            }
            _ => Vec::new(),
        },
    }
}

/// Runs a derived command; answers with the exit code.
pub(crate) async fn run(
    client: impl FnOnce() -> Result<Client, i32>,
    op: &'static OperationInfo,
    leaf: &ArgMatches,
    json: bool,
) -> i32 {
    if op.has_body && leaf.get_flag(REQUEST_SCHEMA) {
        return match Spec::get().ok().and_then(|s| s.request_schema(op.id)) {
            Some(schema) => {
                output::json(&schema);
                output::OK
            }
            None => {
                eprintln!("error: {} has no JSON request body", op.id);
                output::USAGE
            }
        };
    }
    // What the server sent, every member included; body members the spec does not name are
    // sent, and named once on stderr (a typo shows).
    let mut invocation = Invocation::new()
        .raw_response(true)
        .on_unknown_fields(note_unknown);
    for name in op.path_params {
        if let Some(value) = leaf.get_one::<String>(name) {
            invocation = invocation.path_param(value.clone());
        }
    }
    // Ids given one after another join those of the ids parameter's flag.
    let listed = strings(leaf, IDS);
    let list = ids_parameter(op).filter(|_| !listed.is_empty());
    for name in op.query_params {
        let flag = leaf.get_one::<String>(name).cloned();
        let value = match (Some(*name) == list, flag) {
            (true, flag) => Some(
                flag.into_iter()
                    .chain(listed.iter().cloned())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            (false, flag) => flag,
        };
        if let Some(value) = value {
            invocation = invocation.query(*name, value);
        }
    }
    if op.paged {
        invocation = invocation.all_pages(leaf.get_flag(ALL));
    }
    if op.has_body {
        if let Some(data) = leaf.get_one::<String>(DATA) {
            match read_data(data) {
                Ok(body) => {
                    let schema = Spec::get().ok().and_then(|spec| spec.request_schema(op.id));
                    if let Some(problem) = schema.and_then(|s| unlisted_value(&s, &body, "")) {
                        eprintln!("error: --data: {problem} (nothing was sent)");
                        return output::USAGE;
                    }
                    invocation = invocation.body(body);
                }
                Err(problem) => {
                    eprintln!("error: --data: {problem} (nothing was sent)");
                    return output::USAGE;
                }
            }
        }
    }
    let waiting = crate::jobs::Waiting::of(op.id);
    // A destination that cannot take the file is refused before anything is created.
    let download = match &waiting {
        Some(waiting) => match crate::jobs::destination(leaf, waiting) {
            Ok(download) => download,
            Err(code) => return code,
        },
        None => None,
    };
    let files: Vec<(String, FileArg)> = match file_arguments(op, leaf) {
        Ok(files) => files,
        Err(code) => return code,
    };
    // URLs and assets go in the body as given; local files are uploaded, once the request
    // they go in is known to hold.
    let mut uploads = Vec::new();
    let mut body = invocation.body_ref().cloned();
    for (member, file) in files {
        match file {
            FileArg::Given(input) => {
                body.get_or_insert_with(|| serde_json::json!({}))[member.as_str()] = input;
            }
            FileArg::Local(path) => uploads.push((member, path)),
        }
    }
    if let Some(body) = body {
        invocation = invocation.body(body);
    }
    let client = match client() {
        Ok(client) => client,
        Err(code) => return code,
    };
    if !uploads.is_empty() {
        // The request with each upload's place taken by a stand-in asset: checked as it will
        // be sent, before any byte goes up.
        let mut body = invocation
            .body_ref()
            .cloned()
            .unwrap_or_else(|| serde_json::json!({}));
        for (member, _) in &uploads {
            body[member.as_str()] =
                serde_json::json!({"type": "asset_id", "asset_id": "ast_pending_upload"});
        }
        // The same call, every parameter as it will be sent; its unknown members are named
        // once, by the call itself.
        let trial = invocation
            .clone()
            .body(body)
            .on_unknown_fields(|_| {})
            .check_only(true);
        if let Err(error) = client.invoke(op.id, trial).await {
            let text = output::error_text(&error);
            let text = text.strip_suffix(" (nothing was sent)").unwrap_or(&text);
            eprintln!("error: {text} (nothing was uploaded or sent)");
            return output::USAGE;
        }
    }
    let mut uploaded = Vec::new();
    if !uploads.is_empty() {
        match upload_files(&client, uploads, invocation, &mut uploaded).await {
            Ok(with_files) => invocation = with_files,
            Err(code) => return code,
        }
    }
    let answer = client.invoke(op.id, invocation).await;
    if let (Err(_), false) = (&answer, uploaded.is_empty()) {
        // The request was not made, but the files went up: say where they are.
        eprintln!(
            "note: the files were uploaded before the request was refused; they stay as assets {} (reuse them in --data as {{\"type\": \"asset_id\", \"asset_id\": ..}})",
            uploaded.join(", ")
        );
    }
    match answer {
        Ok(value) if waiting.is_some() => {
            let waiting = waiting.unwrap_or_else(|| unreachable!("checked"));
            crate::jobs::after_create(&client, op, &waiting, leaf, value, download, json).await
        }
        Ok(value) => {
            // `--json`: what the server sent; otherwise a table or `key: value` lines.
            if json {
                output::json(&value);
            } else {
                output::line(crate::human::render(&value).trim_end());
            }
            output::OK
        }
        Err(error) => output::error(&error),
    }
}

/// The first member of `value` whose text the request schema's `enum` does not list
/// (`mode: "turbo"` where the spec lists `speed` and `precision`), walking members and
/// items; members the schema does not describe, and alternatives (`oneOf`), are left to the
/// typed request.
pub(crate) fn unlisted_value(schema: &Value, value: &Value, at: &str) -> Option<String> {
    if let (Some(listed), Some(text)) =
        (schema.get("enum").and_then(Value::as_array), value.as_str())
    {
        if !listed.iter().any(|v| v.as_str() == Some(text)) {
            let names: Vec<&str> = listed.iter().filter_map(Value::as_str).collect();
            return Some(format!(
                "`{at}` is one of {}, not {text:?}",
                names.join(", ")
            ));
        }
    }
    match value {
        Value::Object(members) => members.iter().find_map(|(name, member)| {
            let inner = schema.get("properties").and_then(|p| p.get(name))?;
            let here = if at.is_empty() {
                name.clone()
            } else {
                format!("{at}.{name}")
            };
            unlisted_value(inner, member, &here)
        }),
        Value::Array(items) => {
            let inner = schema.get("items")?;
            items
                .iter()
                .enumerate()
                .find_map(|(n, item)| unlisted_value(inner, item, &format!("{at}[{n}]")))
        }
        _ => None,
    }
}

/// Every value given for the argument `id` (none when the command has no such argument).
fn strings(leaf: &ArgMatches, id: &str) -> Vec<String> {
    leaf.try_get_many::<String>(id)
        .ok()
        .flatten()
        .into_iter()
        .flatten()
        .cloned()
        .collect()
}

/// What a `--file` names: a local file to upload, or a file HeyGen can already reach.
enum FileArg {
    /// A local, regular file, readable.
    Local(std::path::PathBuf),
    /// A `FileInput` as JSON: an http(s) URL, or `asset:ID`.
    Given(Value),
}

/// `--file MEMBER=FILE` pairs, each member one the body takes a file in, and each local file
/// a regular file that can be read (exit 2 otherwise, nothing sent).
fn file_arguments(op: &OperationInfo, leaf: &ArgMatches) -> Result<Vec<(String, FileArg)>, i32> {
    let given = strings(leaf, FILE);
    let members = file_members(Spec::get().ok(), op.id);
    let mut files = Vec::new();
    for pair in given {
        let Some((member, file)) = pair.split_once('=') else {
            eprintln!("error: --file {pair}: give MEMBER=FILE, e.g. --file {}=./clip.mp4 (nothing was sent)", members.first().map_or("video", String::as_str));
            return Err(output::USAGE);
        };
        if !members.iter().any(|m| m == member) {
            eprintln!(
                "error: --file {pair}: `{member}` takes no file; the body's file members are {} (nothing was sent)",
                members.join(", ")
            );
            return Err(output::USAGE);
        }
        let arg = match file_arg(file) {
            Ok(arg) => arg,
            Err(problem) => {
                eprintln!("error: --file {pair}: {problem} (nothing was sent)");
                return Err(output::USAGE);
            }
        };
        files.push((member.to_string(), arg));
    }
    Ok(files)
}

/// One `--file` value: `https://…` and `asset:ID` as HeyGen takes them, anything else a
/// local path that must be a regular file (a folder, a pipe or a device is refused before
/// anything is read from it).
fn file_arg(file: &str) -> Result<FileArg, String> {
    if file.starts_with("https://") || file.starts_with("http://") {
        return Ok(FileArg::Given(
            serde_json::json!({"type": "url", "url": file}),
        ));
    }
    if let Some(id) = file.strip_prefix("asset:") {
        if id.trim().is_empty() {
            return Err("asset: needs an asset id, e.g. asset:ast_123".into());
        }
        return Ok(FileArg::Given(
            serde_json::json!({"type": "asset_id", "asset_id": id}),
        ));
    }
    let path = std::path::PathBuf::from(file);
    let meta =
        std::fs::metadata(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if meta.is_dir() {
        return Err(format!("{} is a folder, not a file", path.display()));
    }
    if !meta.is_file() {
        return Err(format!(
            "{} is not a regular file (a pipe or a device cannot be uploaded)",
            path.display()
        ));
    }
    std::fs::File::open(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(FileArg::Local(path))
}

/// Uploads each `--file` and puts its asset in the body.
async fn upload_files(
    client: &Client,
    uploads: Vec<(String, std::path::PathBuf)>,
    invocation: Invocation,
    uploaded: &mut Vec<String>,
) -> Result<Invocation, i32> {
    let mut body = invocation
        .body_ref()
        .cloned()
        .unwrap_or_else(|| serde_json::json!({}));
    for (member, path) in uploads {
        let shown = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let reporter = std::sync::Arc::new(output::Reporter::for_transfer(
            "starting the upload",
            &shown,
        ));
        let progress = std::sync::Arc::clone(&reporter);
        let upload = client
            .assets()
            .upload(&path)
            .on_progress(move |p| progress.transfer(p))
            .await;
        reporter.finish();
        match upload {
            Ok(asset) => {
                eprintln!("uploaded {} as asset {}", path.display(), asset.asset_id);
                uploaded.push(asset.asset_id.clone());
                body[member.as_str()] =
                    serde_json::json!({"type": "asset_id", "asset_id": asset.asset_id});
            }
            Err(error) => {
                eprintln!(
                    "error: could not upload {} (nothing else was sent)",
                    path.display()
                );
                return Err(output::error(&error));
            }
        }
    }
    Ok(invocation.body(body))
}

/// One line on stderr naming `--data` members the spec does not name (they are sent).
fn note_unknown(names: &[String]) {
    let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    eprintln!(
        "note: --data has fields the spec does not name, sent as given: {}",
        names.join(", ")
    );
}

/// For the handwritten commands: names the top-level members of `body` that the operation's
/// request schema does not name (for a body with alternatives, the one its `type` picks).
pub(crate) fn note_unknown_fields(operation_id: &str, body: &Value) {
    let Some(given) = body.as_object() else {
        return;
    };
    let Some(schema) = heygen_api::contract::Spec::get()
        .ok()
        .and_then(|spec| spec.request_schema(operation_id))
    else {
        return;
    };
    let kind = given.get("type").and_then(Value::as_str);
    let mut known = std::collections::BTreeSet::new();
    let members = schema.get("oneOf").and_then(Value::as_array);
    for part in std::iter::once(&schema).chain(members.into_iter().flatten()) {
        let tags = part
            .pointer("/properties/type/enum")
            .and_then(Value::as_array);
        let picked = match (kind, tags) {
            (Some(kind), Some(tags)) => tags.iter().any(|t| t == kind),
            _ => true,
        };
        if let (true, Some(properties)) =
            (picked, part.get("properties").and_then(Value::as_object))
        {
            known.extend(properties.keys().cloned());
        }
    }
    let unknown: Vec<String> = given
        .keys()
        .filter(|name| !known.contains(*name))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        note_unknown(&unknown);
    }
}

/// `--data`: JSON text, `@FILE`, or `-` for standard input.
pub(crate) fn read_data(data: &str) -> Result<Value, String> {
    let text = if data == "-" {
        read_bounded(std::io::stdin().lock(), "standard input")?
    } else if let Some(path) = data.strip_prefix('@') {
        let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        if !meta.is_file() {
            // A pipe or a device may never end (`/dev/zero`); `-` reads standard input.
            return Err(format!(
                "{path} is not a regular file (a pipe or a device is not read; `--data -` reads standard input)"
            ));
        }
        let file = std::fs::File::open(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        read_bounded(file, path)?
    } else {
        data.to_string()
    };
    serde_json::from_str(&text).map_err(|e| format!("not valid JSON: {e}"))
}

/// The most a request body read from a file or standard input may be: far more than any
/// request HeyGen takes (files above 4 MB go up as assets, not inline), and little enough to
/// hold in memory. Reading stops there instead of going on until memory runs out.
const MOST_DATA_BYTES: u64 = 32 * 1024 * 1024;

/// Reads at most [`MOST_DATA_BYTES`] of UTF-8 text from `reader`.
fn read_bounded(reader: impl std::io::Read, what: &str) -> Result<String, String> {
    let mut bytes = Vec::new();
    reader
        .take(MOST_DATA_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {what}: {e}"))?;
    if bytes.len() as u64 > MOST_DATA_BYTES {
        return Err(format!(
            "{what} holds more than {} MiB, more than any request takes; it was not read to its end",
            MOST_DATA_BYTES / (1024 * 1024)
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "{what} is not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to() + 1
        )
    })
}
