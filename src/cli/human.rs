//! Human output for any answer, by one rule over the JSON every operation of the spec
//! answers with, so that an operation added to the spec gets it with nothing written: a list
//! is a table of the columns a person looks for (the id, a name or title, the status, a kind,
//! when it was made), one object is `key: value` lines. Times (`*_at`) are local dates, sizes
//! (`*_bytes`) read like `40.0 MB`, durations like `3m 12s`.

use std::fmt::Write as _;

use jiff::tz::TimeZone;
use serde_json::{Map, Value};

/// The longest text a table cell shows.
const CELL: usize = 48;

/// Renders `value` for a person, with times in the system's time zone.
pub(crate) fn render(value: &Value) -> String {
    render_in(value, &TimeZone::system())
}

fn render_in(value: &Value, tz: &TimeZone) -> String {
    match value {
        // A page: its items, then where the next page starts.
        Value::Object(page) if page.get("data").is_some_and(Value::is_array) => {
            let items = page["data"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            let mut out = table(items, tz);
            match page.get("next_token").and_then(Value::as_str) {
                Some(token) if page.get("has_more") != Some(&Value::Bool(false)) => {
                    let _ = writeln!(out, "more: --token {token} (or --all for every page)");
                }
                _ => {}
            }
            out
        }
        Value::Array(items) => table(items, tz),
        Value::Object(object) => {
            let mut out = String::new();
            lines(object, 0, tz, &mut out);
            out
        }
        other => format!("{}\n", scalar("", other, tz)),
    }
}

/// How many items of a nested list are shown.
const SHOWN_ITEMS: usize = 10;

/// `key: value` lines, nested objects indented.
fn lines(object: &Map<String, Value>, depth: usize, tz: &TimeZone, out: &mut String) {
    let indent = "  ".repeat(depth);
    // The id, the name or title and the status first, as in a table; the rest in order.
    let rank = |key: &str| match key {
        "id" => 0,
        k if k.ends_with("_id") => 1,
        "name" | "title" | "display_name" | "username" => 2,
        "status" => 3,
        _ => 4,
    };
    let mut members: Vec<(&String, &Value)> = object.iter().collect();
    members.sort_by_key(|(key, _)| rank(key));
    for (key, value) in members {
        match value {
            Value::Null => {}
            Value::Object(inner) if inner.is_empty() => {}
            Value::Object(inner) => {
                let _ = writeln!(out, "{indent}{key}:");
                lines(inner, depth + 1, tz, out);
            }
            Value::Array(items) if items.iter().all(|v| !v.is_object() && !v.is_array()) => {
                let shown: Vec<String> = items.iter().map(|v| scalar(key, v, tz)).collect();
                let _ = writeln!(out, "{indent}{key}: {}", shown.join(", "));
            }
            // Each item's own lines (a clip's URL, a designed voice's id), the first few.
            Value::Array(items) if items.iter().all(Value::is_object) => {
                let _ = writeln!(out, "{indent}{key}:");
                for item in items.iter().take(SHOWN_ITEMS) {
                    let mut inner = String::new();
                    if let Value::Object(item) = item {
                        lines(item, 0, tz, &mut inner);
                    }
                    for (n, line) in inner.lines().enumerate() {
                        let lead = if n == 0 { "- " } else { "  " };
                        let _ = writeln!(out, "{indent}  {lead}{line}");
                    }
                }
                if items.len() > SHOWN_ITEMS {
                    let _ = writeln!(
                        out,
                        "{indent}  … and {} more (--json shows every one)",
                        items.len() - SHOWN_ITEMS
                    );
                }
            }
            Value::Array(items) => {
                let count = match items.len() {
                    1 => "1 item".to_string(),
                    n => format!("{n} items"),
                };
                let _ = writeln!(out, "{indent}{key}: {count}");
            }
            scalar_value => {
                let _ = writeln!(out, "{indent}{key}: {}", scalar(key, scalar_value, tz));
            }
        }
    }
}

/// A table of objects, with the columns the rule picks; other items one per line.
fn table(items: &[Value], tz: &TimeZone) -> String {
    if items.is_empty() {
        return "(none)\n".into();
    }
    let objects: Vec<&Map<String, Value>> = items.iter().filter_map(Value::as_object).collect();
    if objects.len() != items.len() {
        return items
            .iter()
            .map(|v| format!("{}\n", scalar("", v, tz)))
            .collect();
    }
    let columns = columns(&objects);
    if columns.is_empty() {
        return items.iter().map(|v| format!("{v}\n")).collect::<String>();
    }
    let rows: Vec<Vec<String>> = objects
        .iter()
        .map(|o| {
            columns
                .iter()
                .map(|c| {
                    o.get(c).map_or("-".into(), |v| {
                        let text = scalar(c, v, tz);
                        // A cut URL is no URL.
                        if c.ends_with("url") {
                            text
                        } else {
                            cell(&text)
                        }
                    })
                })
                .collect()
        })
        .collect();
    let headers: Vec<String> = columns.iter().map(|c| heading(c)).collect();
    let mut widths: Vec<usize> = (0..columns.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([headers[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    // Rows fit the line: the widest column that may be cut (never the id or the status) gives
    // way first, down to a few characters.
    let fits = |widths: &[usize]| -> bool {
        widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1) <= LINE
    };
    while !fits(&widths) {
        let cuttable = (0..columns.len())
            .filter(|&i| {
                // A cut URL is no URL.
                columns[i] != "status"
                    && !columns[i].ends_with("url")
                    && i != 0
                    && widths[i] > NARROWEST
            })
            .max_by_key(|&i| widths[i]);
        let Some(widest) = cuttable else { break };
        widths[widest] -= 1;
    }
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|row| {
            row.iter()
                .zip(&widths)
                .map(|(text, width)| fit(text, *width))
                .collect()
        })
        .collect();
    let mut out = String::new();
    for row in [&headers].into_iter().chain(rows.iter()) {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(text, width)| format!("{text:<width$}"))
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    out
}

/// The columns a person looks for, in this order, where the items have them: an id, a name
/// or title, the status, a kind, and when it was made.
fn columns(items: &[&Map<String, Value>]) -> Vec<String> {
    let keys: Vec<&String> = {
        let mut keys: Vec<&String> = Vec::new();
        for item in items {
            for key in item.keys() {
                if !keys.contains(&key) {
                    keys.push(key);
                }
            }
        }
        keys
    };
    let find = |pick: &dyn Fn(&str) -> bool| keys.iter().find(|k| pick(k)).map(|k| k.to_string());
    let mut columns: Vec<String> = Vec::new();
    let mut take = |column: Option<String>| {
        if let Some(column) = column {
            if !columns.contains(&column) {
                columns.push(column);
            }
        }
    };
    // An id column that names something: `batch_id` is often null beside `video_id`.
    let named = |key: &str| {
        items
            .iter()
            .any(|item| item.get(key).is_some_and(|v| !v.is_null()))
    };
    take(
        find(&|k| k == "id")
            .or_else(|| find(&|k| k.ends_with("_id") && named(k)))
            .or_else(|| find(&|k| k.ends_with("_id"))),
    );
    take(
        ["name", "title", "display_name", "username", "email", "url"]
            .iter()
            .find_map(|name| find(&|k| k == *name)),
    );
    // What tells a translation from its siblings, when some item says it.
    if named("output_language") {
        take(find(&|k| k == "output_language"));
    }
    take(find(&|k| k == "status"));
    take(find(&|k| k == "type").or_else(|| find(&|k| k.ends_with("_type"))));
    take(find(&|k| k == "created_at").or_else(|| find(&|k| k.ends_with("_at"))));
    // A sound's or a voice's preview, to listen to, and how long it runs.
    let said = named;
    if let Some(preview) = ["preview_url", "preview_audio_url", "audio_url"]
        .into_iter()
        .find(|key| said(key))
    {
        if said("duration") {
            take(Some("duration".to_string()));
        }
        take(Some(preview.to_string()));
    }
    columns
}

/// `created_at` → `CREATED`, `video_id` → `VIDEO ID`.
fn heading(column: &str) -> String {
    if column == "output_language" {
        return "LANGUAGE".into();
    }
    column
        .strip_suffix("_at")
        .unwrap_or(column)
        .replace('_', " ")
        .to_uppercase()
}

/// Whether a member holds an amount of money or credits (`remaining_balance`,
/// `credits_used`).
fn is_money(key: &str) -> bool {
    key.ends_with("balance") || key.starts_with("credits") || key.ends_with("_credits")
}

/// A value as a person reads it, by its member's name.
fn scalar(key: &str, value: &Value, tz: &TimeZone) -> String {
    match value {
        Value::Null => "-".into(),
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        // A time written as text (RFC 3339) reads like one written in Unix seconds.
        Value::String(text) if key.ends_with("_at") => match text.parse::<jiff::Timestamp>() {
            Ok(at) => local_time(at.as_second(), tz),
            Err(_) => text.clone(),
        },
        Value::String(text) => text.clone(),
        Value::Number(n) if key.ends_with("_at") => match n.as_i64() {
            Some(seconds) => local_time(seconds, tz),
            None => n.to_string(),
        },
        Value::Number(n) if key == "bytes" || key.ends_with("_bytes") => match n.as_u64() {
            Some(bytes) => crate::output::size(bytes),
            None => n.to_string(),
        },
        // Money reads as money: two decimals, no binary-float tail.
        Value::Number(n) if is_money(key) => match n.as_f64() {
            Some(amount) if n.is_f64() => format!("{amount:.2}"),
            _ => n.to_string(),
        },
        Value::Number(n) if key == "duration" || key.ends_with("_seconds") => match n.as_f64() {
            Some(seconds) if seconds >= 0.0 => {
                crate::output::duration(std::time::Duration::from_secs_f64(seconds))
            }
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// Unix seconds as a date and time in `tz`: `2024-03-25 17:00`.
fn local_time(seconds: i64, tz: &TimeZone) -> String {
    match jiff::Timestamp::from_second(seconds) {
        Ok(at) => at
            .to_zoned(tz.clone())
            .strftime("%Y-%m-%d %H:%M")
            .to_string(),
        Err(_) => seconds.to_string(),
    }
}

/// A cell's text, cut to [`CELL`] characters.
/// The width a table's rows fit in.
const LINE: usize = 80;

/// How narrow a column may be cut.
const NARROWEST: usize = 8;

/// `text` in at most `width` characters, cut with `…`.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn cell(text: &str) -> String {
    let text = text.replace('\n', " ");
    if text.chars().count() <= CELL {
        return text;
    }
    let mut cut: String = text.chars().take(CELL - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn utc(value: &Value) -> String {
        render_in(value, &TimeZone::UTC)
    }

    #[test]
    fn a_page_is_a_table_of_the_columns_a_person_looks_for() {
        let page = json!({
            "data": [
                {"id": "vid_1", "title": "Launch", "status": "completed",
                 "created_at": 1711382400, "video_url": "https://x/1.mp4", "duration": 30.5},
                {"id": "vid_22", "title": null, "status": "processing",
                 "created_at": 1711386000, "video_url": null, "duration": null}
            ],
            "has_more": true,
            "next_token": "tok_2"
        });
        assert_eq!(
            utc(&page),
            "ID      TITLE   STATUS      CREATED\n\
             vid_1   Launch  completed   2024-03-25 16:00\n\
             vid_22  -       processing  2024-03-25 17:00\n\
             more: --token tok_2 (or --all for every page)\n"
        );
    }

    #[test]
    fn one_object_is_key_value_lines_with_readable_times_sizes_and_durations() {
        let asset = json!({
            "asset_id": "ast_1", "size_bytes": 40_000_000, "created_at": 1711382400,
            "duration": 192.0, "tags": ["a", "b"], "failure": null,
            "owner": {"name": "Ada"}, "files": [{"x": 1}, {"x": 2}], "parts": [{"x": 1}],
            "updated_at": "2024-03-25T16:30:00Z", "note_at": "not a time"
        });
        let text = utc(&asset);
        assert!(text.starts_with("asset_id: ast_1\n"), "{text}");
        for line in [
            "size_bytes: 40.00 MB\n",
            "created_at: 2024-03-25 16:00\n",
            "duration: 3m 12s\n",
            "tags: a, b\n",
            "owner:\n  name: Ada\n",
            "files:\n  - x: 1\n  - x: 2\n",
            "parts:\n  - x: 1\n",
            "updated_at: 2024-03-25 16:30\n",
            "note_at: not a time\n",
        ] {
            assert!(text.contains(line), "{line:?} missing from:\n{text}");
        }
        assert!(!text.contains("failure"), "{text}");
    }

    #[test]
    fn nested_items_show_what_a_person_needs_next() {
        let job = json!({"id": "clip_1", "status": "completed", "clips": [
            {"id": "c1", "video_url": "https://x/c1.mp4", "score": 9},
            {"id": "c2", "video_url": "https://x/c2.mp4", "layers": {"mask": "m.webm"}}
        ]});
        let text = utc(&job);
        assert!(
            text.contains(
                "clips:\n  - id: c1\n    score: 9\n    video_url: https://x/c1.mp4\n  - id: c2\n    layers:\n      mask: m.webm\n    video_url: https://x/c2.mp4\n"
            ),
            "{text}"
        );
        let many: Vec<Value> = (0..12)
            .map(|n| json!({"voice_id": format!("v{n}")}))
            .collect();
        let text = utc(&json!({"voices": many}));
        assert!(text.contains("  - voice_id: v9\n"), "{text}");
        assert!(!text.contains("v10"), "{text}");
        assert!(text.contains("… and 2 more"), "{text}");
        let translations = json!([
            {"id": "vt_1", "title": "Tour", "output_language": "Spanish", "status": "completed"},
            {"id": "vt_2", "title": "Tour", "output_language": "French", "status": "completed"}
        ]);
        let text = utc(&translations);
        assert!(
            text.starts_with("ID    TITLE  LANGUAGE  STATUS\n"),
            "{text}"
        );
        assert!(text.contains("vt_2  Tour   French    completed"), "{text}");
    }

    #[test]
    fn items_without_the_usual_columns_still_read() {
        assert_eq!(utc(&json!({"data": [], "has_more": false})), "(none)\n");
        assert_eq!(
            utc(&json!(["video.success", "video.fail"])),
            "video.success\nvideo.fail\n"
        );
        let kinds = json!({"data": [{"event_type": "avatar_video.success", "description": "x"}]});
        assert_eq!(utc(&kinds), "EVENT TYPE\navatar_video.success\n");
    }

    #[test]
    fn money_reads_as_money() {
        let text = utc(
            &json!({"remaining_balance": 94.4, "credits_used": 1.0999999999999943,
            "credits": 12, "seconds_used": 2.5}),
        );
        assert!(text.contains("remaining_balance: 94.40\n"), "{text}");
        assert!(text.contains("credits_used: 1.10\n"), "{text}");
        assert!(text.contains("credits: 12\n"), "{text}");
        assert!(text.contains("seconds_used: 2.5\n"), "{text}");
    }

    #[test]
    fn long_cells_are_cut() {
        let long = "x".repeat(100);
        let text = utc(&json!([{"id": "a", "name": long}]));
        assert!(text.lines().nth(1).unwrap().ends_with('…'), "{text}");
    }

    /// Sounds and voices show how long they run and where to hear them, whole.
    #[test]
    fn media_show_their_duration_and_preview() {
        let sounds = json!({"data": [
            {"id": "snd_calm_piano", "name": "Calm piano with a long descriptive name", "type": "music",
             "duration": 30.0, "audio_url": "https://cdn.example.com/sounds/snd_calm_piano.mp3"}
        ], "has_more": false, "next_token": null});
        let text = utc(&sounds);
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap().split_whitespace().collect::<Vec<_>>(),
            ["ID", "NAME", "TYPE", "DURATION", "AUDIO", "URL"]
        );
        let row = lines.next().unwrap();
        assert!(
            row.contains("30") && row.ends_with("snd_calm_piano.mp3"),
            "{row}"
        );
        // The URL is kept whole; the name gives way as far as it may.
        assert!(row.contains("Calm pi…"), "{row}");
    }

    /// The id column is one that names something: a null `batch_id` gives way to `video_id`.
    #[test]
    fn the_id_column_names_something() {
        let statuses = json!([{"batch_id": null, "video_id": "vt_1", "status": "completed"}]);
        assert_eq!(utc(&statuses), "VIDEO ID  STATUS\nvt_1      completed\n");
    }

    /// A table fits 80 columns: the title gives way, the id and the status never do.
    #[test]
    fn rows_fit_the_line_and_keep_the_status() {
        let rows: Vec<Value> = (0..3)
            .map(|n| {
                json!({"id": format!("vid_0000000000000000000000{n}"),
                       "title": format!("A rather long title for video number {n}, with more words"),
                       "status": "processing", "type": "avatar", "created_at": 1711382400})
            })
            .collect();
        let text = utc(&json!(rows));
        for line in text.lines() {
            assert!(
                line.chars().count() <= 80,
                "{} > 80: {line}",
                line.chars().count()
            );
        }
        let row = text.lines().nth(1).unwrap();
        assert!(row.starts_with("vid_0000000000000000000000"), "{row}");
        assert!(row.contains("processing") && row.contains('…'), "{row}");
        // Short rows are left alone.
        let text = utc(&json!([{"id": "a", "title": "Short", "status": "completed"}]));
        assert!(!text.contains('…'), "{text}");
    }
}
