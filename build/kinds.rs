//! The kinds of asynchronous job, from the spec's `x-heygen-jobs`: checked against the
//! operations, pruned with their families, and written out as `kinds.rs` (the `JobKind` enum
//! and one `Description` per kind, included by `src/api/kinds.rs`).
//!
//! A kind's Cargo feature is the family of its `create` operation: when the family is off,
//! the kind is not built, and `UNBUILT` remembers which feature would build it.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::{Map, Value};

const EXTENSION: &str = "x-heygen-jobs";

/// One kind as the spec describes it.
struct Kind<'a> {
    name: &'a str,
    body: &'a Map<String, Value>,
}

fn kinds(spec: &Value) -> Result<Vec<Kind<'_>>, String> {
    let Some(all) = spec.get(EXTENSION) else {
        return Ok(Vec::new());
    };
    let all = all
        .as_object()
        .ok_or_else(|| format!("`{EXTENSION}` must map each kind's name to its description"))?;
    all.iter()
        .map(|(name, body)| {
            let body = body
                .as_object()
                .ok_or_else(|| format!("{EXTENSION}.{name}: must be a mapping"))?;
            Ok(Kind { name, body })
        })
        .collect()
}

/// Every operation by id: its path, method and itself.
fn operation<'a>(spec: &'a Value, id: &str) -> Option<&'a Value> {
    spec.get("paths")?
        .as_object()?
        .values()
        .filter_map(Value::as_object)
        .flat_map(|item| item.values())
        .find(|op| op.get("operationId").and_then(Value::as_str) == Some(id))
}

fn text<'a>(kind: &Kind<'a>, key: &str) -> Result<&'a str, String> {
    kind.body
        .get(key)
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| format!("{EXTENSION}.{}: `{key}` is missing", kind.name))
}

fn words<'a>(value: Option<&'a Value>, what: &str) -> Result<Vec<&'a str>, String> {
    match value {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .filter(|t| !t.is_empty())
                    .ok_or_else(|| format!("{what}: every item must be a non-empty string"))
            })
            .collect(),
        Some(_) => Err(format!("{what}: must be a list of strings")),
    }
}

fn pointers<'a>(value: Option<&'a Value>, what: &str) -> Result<Vec<&'a str>, String> {
    let list = match value {
        Some(Value::String(one)) => vec![one.as_str()],
        other => words(other, what)?,
    };
    if let Some(bad) = list.iter().find(|p| !p.starts_with('/')) {
        return Err(format!(
            "{what}: `{bad}` is not a JSON pointer (it starts with `/`)"
        ));
    }
    Ok(list)
}

/// The family each kind belongs to (that of its `create`), read before any pruning.
pub fn families(spec: &Value) -> Result<Vec<(String, Option<String>)>, String> {
    kinds(spec)?
        .iter()
        .map(|kind| {
            let create = text(kind, "create")?;
            let op = operation(spec, create).ok_or_else(|| {
                format!(
                    "{EXTENSION}.{}: its create `{create}` is no operation",
                    kind.name
                )
            })?;
            Ok((kind.name.to_string(), crate::families::of(spec, op)))
        })
        .collect()
}

/// The CLI command of an operation's first tag: its `x-heygen-command`, else its name.
fn command_of(spec: &Value, op: &Value) -> Option<String> {
    let tag = op.get("tags")?.as_array()?.first()?.as_str()?;
    let described = spec
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|t| t.get("name").and_then(Value::as_str) == Some(tag));
    Some(
        described
            .and_then(|t| t.get("x-heygen-command"))
            .and_then(Value::as_str)
            .unwrap_or(tag)
            .to_string(),
    )
}

/// What a stage fetched by `get` is: the typed waits of sessions and videos poll these two;
/// every other stage is a job polled through its `get` as JSON.
fn resource_of(get: &str) -> &'static str {
    match get {
        "get_video_agent_session" => "Session",
        "get_video" => "Video",
        _ => "Job",
    }
}

/// What the typed layer needs of a built kind: its Rust variant, its create, and the `get` of
/// its last stage (whose answer is a finished job's record).
pub struct Typed {
    /// The `JobKind` variant (`VideoTranslation`).
    pub variant: String,
    /// Its name in journals (`video_translation`).
    pub id: String,
    /// The operation that creates a job of it.
    pub create: String,
    /// The operation whose answer is its finished record.
    pub record: String,
    /// Whether a batch job of it is made from its create's body (its first stage is a job
    /// fetched as JSON, not a session or a video with typed requests of their own).
    pub from_body: bool,
}

/// The built kinds of a (pruned) spec, as the typed layer needs them; kinds `source` would
/// refuse are left out (it reports them).
pub fn typed(spec: &Value) -> Vec<Typed> {
    kinds(spec)
        .unwrap_or_default()
        .iter()
        .filter_map(|kind| {
            let stages = kind.body.get("stages")?.as_array()?;
            let get = |stage: &Value| stage.get("get")?.as_str().map(str::to_string);
            let first = get(stages.first()?)?;
            Some(Typed {
                variant: camel(kind.name),
                id: kind.name.to_string(),
                create: kind.body.get("create")?.as_str()?.to_string(),
                record: get(stages.last()?)?,
                from_body: resource_of(&first) == "Job",
            })
        })
        .collect()
}

/// Removes the kinds whose create the pruning removed.
pub fn prune(spec: &mut Value) {
    let gone: Vec<String> = kinds(spec)
        .unwrap_or_default()
        .iter()
        .filter(|kind| {
            kind.body
                .get("create")
                .and_then(Value::as_str)
                .is_none_or(|create| operation(spec, create).is_none())
        })
        .map(|kind| kind.name.to_string())
        .collect();
    if let Some(all) = spec.get_mut(EXTENSION).and_then(Value::as_object_mut) {
        for name in gone {
            all.remove(&name);
        }
    }
}

/// `video_translation` → `VideoTranslation`.
fn camel(name: &str) -> String {
    name.split(['_', '-'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or(String::new(), |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

fn list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
    format!("&[{}]", quoted.join(", "))
}

/// The query parameters an operation takes.
fn query_parameters(op: &Value) -> BTreeSet<String> {
    op.get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|p| p.get("in").and_then(Value::as_str) == Some("query"))
        .filter_map(|p| p.get("name").and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

/// Checks every kind against the (pruned) spec and writes the Rust source of the built ones.
/// `all` names every kind of the whole spec with its family, for the kinds not built.
pub fn source(spec: &Value, all: &[(String, Option<String>)]) -> Result<String, String> {
    let kinds = kinds(spec)?;
    let mut out = String::from("// Generated by build.rs from the spec's `x-heygen-jobs`.\n\n");
    let mut variants = String::new();
    let mut statics = String::new();
    let mut arms = String::new();
    let mut names = Vec::new();
    let mut seen_variants = BTreeSet::new();
    for kind in &kinds {
        let name = kind.name;
        let at = |key: &str| format!("{EXTENSION}.{name}.{key}");
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(format!(
                "{EXTENSION}: `{name}` must be snake case (it names the kind in journals)"
            ));
        }
        let variant = camel(name);
        if !seen_variants.insert(variant.clone()) {
            return Err(format!(
                "{EXTENSION}: two kinds are named `{variant}` in Rust"
            ));
        }
        let noun = text(kind, "name")?;
        let description = text(kind, "description")?;
        let create = text(kind, "create")?;
        let create_op = operation(spec, create)
            .ok_or_else(|| format!("{}: `{create}` is no operation", at("create")))?;
        let wait = create_op.get("x-heygen-wait").ok_or_else(|| {
            format!(
                "{}: `{create}` has no `x-heygen-wait` saying where its ids are",
                at("create")
            )
        })?;
        let said = wait.get("kind").and_then(Value::as_str).unwrap_or("");
        if said != name {
            return Err(format!(
                "{}: `{create}` says its jobs are of the kind `{said}` (`x-heygen-wait.kind`), not `{name}`",
                at("create")
            ));
        }
        // What the CLI calls it: the command of its create's tag.
        let command = command_of(spec, create_op).unwrap_or_else(|| name.to_string());
        let created = pointers(wait.get("ids"), &format!("{create}: x-heygen-wait.ids"))?;
        if created.is_empty() {
            return Err(format!("{create}: x-heygen-wait.ids is missing"));
        }
        let family = all
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, f)| f.as_deref());
        let stages = kind
            .body
            .get("stages")
            .and_then(Value::as_array)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("{}: at least one stage is needed", at("stages")))?;
        let mut stage_source = Vec::new();
        for (i, stage) in stages.iter().enumerate() {
            let here = format!("{}[{i}]", at("stages"));
            let get = stage
                .get("get")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{here}: `get` is missing"))?;
            if operation(spec, get).is_none() {
                return Err(format!("{here}: `get: {get}` is no operation"));
            }
            let succeeded = words(stage.get("succeeded"), &format!("{here}.succeeded"))?;
            let failed = words(stage.get("failed"), &format!("{here}.failed"))?;
            let needs_input = words(stage.get("needs_input"), &format!("{here}.needs_input"))?;
            if succeeded.is_empty() || failed.is_empty() {
                return Err(format!(
                    "{here}: a stage needs the statuses that end it well (`succeeded`) and badly (`failed`)"
                ));
            }
            let mut overlap = BTreeSet::new();
            for status in succeeded.iter().chain(&failed).chain(&needs_input) {
                if !overlap.insert(*status) {
                    return Err(format!("{here}: the status `{status}` is listed twice"));
                }
            }
            let bulk = match stage.get("bulk") {
                None => "None".to_string(),
                Some(bulk) => {
                    let field = |key: &str| {
                        bulk.get(key)
                            .and_then(Value::as_str)
                            .ok_or_else(|| format!("{here}.bulk: `{key}` is missing"))
                    };
                    let (op, ids, member) = (field("operation")?, field("ids")?, field("member")?);
                    let bulk_op = operation(spec, op)
                        .ok_or_else(|| format!("{here}.bulk: `{op}` is no operation"))?;
                    if !query_parameters(bulk_op).contains(ids) {
                        return Err(format!(
                            "{here}.bulk: `{op}` takes no query parameter `{ids}`"
                        ));
                    }
                    format!("Some(Bulk {{ operation: {op:?}, ids: {ids:?}, member: {member:?} }})")
                }
            };
            let last = i + 1 == stages.len();
            let next = stage.get("next").and_then(Value::as_str);
            let list_next = match stage.get("list_next") {
                None => "None".to_string(),
                Some(list) => {
                    let op = list
                        .get("operation")
                        .and_then(Value::as_str)
                        .ok_or_else(|| format!("{here}.list_next: `operation` is missing"))?;
                    if operation(spec, op).is_none() {
                        return Err(format!("{here}.list_next: `{op}` is no operation"));
                    }
                    let ids = pointers(list.get("ids"), &format!("{here}.list_next.ids"))?;
                    let [ids] = ids.as_slice() else {
                        return Err(format!("{here}.list_next.ids: one JSON pointer is needed"));
                    };
                    format!("Some(ListNext {{ operation: {op:?}, ids: {ids:?} }})")
                }
            };
            if last && (next.is_some() || list_next != "None") {
                return Err(format!(
                    "{here}: the last stage has no next stage to name or list"
                ));
            }
            if let Some(pointer) = next {
                pointers(
                    Some(&Value::String(pointer.into())),
                    &format!("{here}.next"),
                )?;
            }
            let resource = resource_of(get);
            stage_source.push(format!(
                "Stage {{ get: {get:?}, resource: Resource::{resource}, succeeded: {}, failed: {}, needs_input: {}, bulk: {bulk}, next: {next:?}, list_next: {list_next} }}",
                list(&succeeded),
                list(&failed),
                list(&needs_input),
            ));
        }
        let results = pointers(kind.body.get("results"), &at("results"))?;
        let label = match kind.body.get("label") {
            None => None,
            Some(Value::String(pointer)) if pointer.starts_with('/') && !pointer.contains('*') => {
                Some(pointer.as_str())
            }
            Some(_) => {
                return Err(format!(
                    "{}: must be one JSON pointer to a string of the record (no `*`)",
                    at("label")
                ))
            }
        };
        // What a job stopped at a `needs_input` status waits for, and whether a batch run
        // leaves it for the next run to take up again.
        let pauses = stages
            .iter()
            .any(|stage| stage.get("needs_input").is_some_and(|n| n != &Value::Null));
        let (waits_for, resumes) = match kind.body.get("input") {
            None => ("input", false),
            Some(_) if !pauses => {
                return Err(format!(
                    "{}: no stage has `needs_input` statuses to wait at",
                    at("input")
                ))
            }
            Some(input) => {
                let waits_for = match input.get("waits_for") {
                    None => "input",
                    Some(Value::String(what)) if !what.trim().is_empty() => what.as_str(),
                    Some(_) => return Err(format!("{}: must be words", at("input.waits_for"))),
                };
                let resumes = match input.get("resume") {
                    None => false,
                    Some(Value::Bool(resume)) => *resume,
                    Some(_) => {
                        return Err(format!("{}: must be true or false", at("input.resume")))
                    }
                };
                (waits_for, resumes)
            }
        };
        let events = kind.body.get("events");
        let succeeded_events = words(
            events.and_then(|e| e.get("succeeded")),
            &at("events.succeeded"),
        )?;
        let failed_events = words(events.and_then(|e| e.get("failed")), &at("events.failed"))?;
        let constant = name.to_ascii_uppercase();
        let feature = match family {
            Some(f) => format!(" Built with the `{f}` feature."),
            None => String::new(),
        };
        let _ = writeln!(
            variants,
            "    /// {description}{feature} (`{name}`)\n    {variant},"
        );
        let _ = writeln!(arms, "            JobKind::{variant} => &{constant},");
        let _ = writeln!(
            statics,
            "static {constant}: Description = Description {{\n    id: {name:?},\n    name: {noun:?},\n    family: {family:?},\n    create: {create:?},\n    created_ids: {},\n    stages: &[\n        {},\n    ],\n    results: {},\n    label: {label:?},\n    waits_for: {waits_for:?},\n    resumes: {resumes},\n    command: {command:?},\n    succeeded_events: {},\n    failed_events: {},\n}};\n",
            list(&created),
            stage_source.join(",\n        "),
            list(&results),
            list(&succeeded_events),
            list(&failed_events),
        );
        names.push(variant);
    }
    let _ = writeln!(
        out,
        "/// A kind of asynchronous job at HeyGen: what a wait, a batch job and a journal line\n/// name. Kinds of a family exist when its Cargo feature is on.\n#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]\n#[non_exhaustive]\npub enum JobKind {{\n{variants}}}\n"
    );
    let all_list: Vec<String> = names.iter().map(|v| format!("JobKind::{v}")).collect();
    let _ = writeln!(
        out,
        "impl JobKind {{\n    /// Every kind built in, in the spec's order.\n    pub const ALL: &'static [JobKind] = &[{}];\n\n    /// The kind's description.\n    pub(crate) fn describe(self) -> &'static Description {{\n        match self {{\n{arms}        }}\n    }}\n}}\n",
        all_list.join(", ")
    );
    out.push_str(&statics);
    let built: BTreeSet<&str> = kinds.iter().map(|k| k.name).collect();
    let unbuilt: Vec<String> = all
        .iter()
        .filter(|(name, _)| !built.contains(name.as_str()))
        .map(|(name, family)| format!("({name:?}, {:?})", family.as_deref().unwrap_or("")))
        .collect();
    let _ = writeln!(
        out,
        "/// The kinds the spec describes that are not built in, with the feature that builds each.\npub(crate) const UNBUILT: &[(&str, &str)] = &[{}];",
        unbuilt.join(", ")
    );
    // Every create that waits names a kind the spec describes (built or not).
    for (path, item) in spec
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        for op in item.as_object().into_iter().flat_map(|m| m.values()) {
            if let Some(kind) = op.pointer("/x-heygen-wait/kind").and_then(Value::as_str) {
                if !all.iter().any(|(name, _)| name == kind) {
                    let id = op
                        .get("operationId")
                        .and_then(Value::as_str)
                        .unwrap_or(path);
                    return Err(format!(
                        "{id}: x-heygen-wait names the kind `{kind}`, which `{EXTENSION}` does not describe"
                    ));
                }
            }
        }
    }
    Ok(out)
}
