//! Minimal text edits to a JSON document that keep its formatting: new
//! members and list items take the indentation and separators of their
//! siblings, and nothing outside the edited spot changes.

use super::{JsonKind, JsonValue};
use crate::analysis::TextRange;

/// Replace `range` of the document with `new_text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberEdit {
    pub span: TextRange,
    pub new_text: String,
}

/// Applies non-overlapping edits.
pub fn apply(text: &str, edits: &[MemberEdit]) -> String {
    let mut sorted: Vec<&MemberEdit> = edits.iter().collect();
    sorted.sort_by_key(|e| std::cmp::Reverse(e.span.start));
    let mut out = text.to_string();
    for e in sorted {
        out.replace_range(e.span.start..e.span.end, &e.new_text);
    }
    out
}

/// The smallest single edit turning `old` into `new` (common prefix and
/// suffix trimmed, on character boundaries).
pub fn minimal_edit(old: &str, new: &str) -> MemberEdit {
    let mut prefix = old.bytes().zip(new.bytes()).take_while(|(a, b)| a == b).count();
    while !old.is_char_boundary(prefix) || !new.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let max_suffix = old.len().min(new.len()) - prefix;
    let mut suffix = old.bytes().rev().zip(new.bytes().rev()).take(max_suffix).take_while(|(a, b)| a == b).count();
    while !old.is_char_boundary(old.len() - suffix) || !new.is_char_boundary(new.len() - suffix) {
        suffix -= 1;
    }
    MemberEdit {
        span: TextRange::new(prefix, old.len() - suffix),
        new_text: new[prefix..new.len() - suffix].to_string(),
    }
}

/// The smallest edit turning `old` into `new` that replaces whole lines:
/// easier to read in a diff or a preview than a cut inside a string.
pub fn line_edit(old: &str, new: &str) -> MemberEdit {
    let m = minimal_edit(old, new);
    let start = old[..m.span.start].rfind('\n').map(|p| p + 1).unwrap_or(0);
    let cut_back = m.span.start - start;
    // The same number of bytes after the change in both texts are common.
    let tail_old = &old[m.span.end..];
    let extend = tail_old.find('\n').map(|p| p + 1).unwrap_or(tail_old.len());
    let new_start = m.span.start - cut_back;
    let new_end = m.span.start + m.new_text.len() + extend;
    MemberEdit { span: TextRange::new(start, m.span.end + extend), new_text: new[new_start..new_end].to_string() }
}

/// The line ending the document uses.
pub fn line_ending(text: &str) -> &'static str {
    if text.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    }
}

/// Whitespace from the start of the line holding `offset` up to the first
/// non-blank character.
fn indent_of_line(text: &str, offset: usize) -> &str {
    let line_start = text[..offset].rfind('\n').map(|p| p + 1).unwrap_or(0);
    let rest = &text[line_start..];
    let n = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    &rest[..n]
}

/// How the children of a container are laid out, learnt from the existing
/// ones: one per line with an indent, or all on one line.
struct Layout {
    multiline: bool,
    /// Indentation of a child line.
    child_indent: String,
    /// Indentation of the closing bracket's line.
    close_indent: String,
    eol: &'static str,
}

fn layout(text: &str, container: &JsonValue, first_child_start: Option<usize>) -> Layout {
    let eol = line_ending(text);
    let close_indent = indent_of_line(text, container.span.start).to_string();
    match first_child_start {
        Some(start) => {
            let between = &text[container.span.start + 1..start];
            if between.contains('\n') {
                Layout { multiline: true, child_indent: indent_of_line(text, start).to_string(), close_indent, eol }
            } else {
                Layout { multiline: false, child_indent: String::new(), close_indent, eol }
            }
        }
        None => {
            // An empty container: guess a unit from the document's own
            // indentation (two spaces if it has none).
            let unit = guess_indent_unit(text);
            Layout { multiline: true, child_indent: format!("{close_indent}{unit}"), close_indent, eol }
        }
    }
}

fn guess_indent_unit(text: &str) -> String {
    for line in text.lines() {
        let n = line.len() - line.trim_start_matches([' ', '\t']).len();
        if n > 0 && !line.trim().is_empty() {
            return line[..n].to_string();
        }
    }
    "  ".to_string()
}

/// Re-indents a pretty-printed (2-space) JSON value so its nested lines sit
/// under `base` using the document's indent unit.
fn reindent(pretty: &str, base: &str, unit: &str, eol: &str) -> String {
    let mut out = String::new();
    for (i, line) in pretty.lines().enumerate() {
        if i > 0 {
            out.push_str(eol);
            out.push_str(base);
            let level = (line.len() - line.trim_start().len()) / 2;
            for _ in 0..level {
                out.push_str(unit);
            }
        }
        out.push_str(line.trim_start());
    }
    out
}

fn unit_between(outer: &str, inner: &str) -> String {
    inner.strip_prefix(outer).filter(|u| !u.is_empty()).map(str::to_string).unwrap_or_else(|| "  ".to_string())
}

/// Pretty-prints `value` for insertion at a child position of a container
/// with layout `l`.
fn render_child(value: &serde_json::Value, l: &Layout, text: &str) -> String {
    let pretty = serde_json::to_string_pretty(value).unwrap_or_default();
    if l.multiline {
        let unit = unit_between(&l.close_indent, &l.child_indent);
        reindent(&pretty, &l.child_indent, &unit, l.eol)
    } else {
        let _ = text;
        inline(value)
    }
}

/// One-line JSON with a space after `:` and `,`, the way people write short
/// objects by hand: `{"a": 1, "b": [true]}`.
pub fn inline(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Array(items) => format!("[{}]", items.iter().map(inline).collect::<Vec<_>>().join(", ")),
        Value::Object(members) => format!(
            "{{{}}}",
            members.iter().map(|(k, v)| format!("{}: {}", super::quote(k), inline(v))).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

/// Inserts `"key": value` as the last member of `object`.
pub fn insert_member(text: &str, object: &JsonValue, key: &str, value: &serde_json::Value) -> MemberEdit {
    let JsonKind::Object(members) = &object.kind else {
        return MemberEdit { span: object.span, new_text: text[object.span.start..object.span.end].to_string() };
    };
    let l = layout(text, object, members.first().map(|m| m.key_span.start));
    let rendered = format!("{}: {}", super::quote(key), render_child(value, &l, text));
    insert_child(text, object, members.last().map(|m| m.value.span.end), &rendered, &l)
}

/// Inserts `item` into `array` before position `index` (at the end when
/// `index` is the length).
pub fn insert_array_item(text: &str, array: &JsonValue, index: usize, item: &serde_json::Value) -> MemberEdit {
    let JsonKind::Array(items) = &array.kind else {
        return MemberEdit { span: array.span, new_text: text[array.span.start..array.span.end].to_string() };
    };
    let l = layout(text, array, items.first().map(|i| i.span.start));
    let rendered = render_child(item, &l, text);
    if index < items.len() {
        // Before an existing item: `<item>,<sep>` at that item's start.
        let at = items[index].span.start;
        let sep = if l.multiline { format!("{}{}", l.eol, l.child_indent) } else { " ".to_string() };
        return MemberEdit { span: TextRange::new(at, at), new_text: format!("{rendered},{sep}") };
    }
    insert_child(text, array, items.last().map(|i| i.span.end), &rendered, &l)
}

fn insert_child(text: &str, container: &JsonValue, last_child_end: Option<usize>, rendered: &str, l: &Layout) -> MemberEdit {
    match last_child_end {
        Some(end) => {
            let new_text = if l.multiline {
                format!(",{}{}{rendered}", l.eol, l.child_indent)
            } else {
                format!(", {rendered}")
            };
            MemberEdit { span: TextRange::new(end, end), new_text }
        }
        None => {
            // Empty container: rewrite its inside.
            let open = &text[container.span.start..container.span.start + 1];
            let close = &text[container.span.end - 1..container.span.end];
            let new_text = format!("{open}{}{}{rendered}{}{}{close}", l.eol, l.child_indent, l.eol, l.close_indent);
            MemberEdit { span: container.span, new_text }
        }
    }
}

/// Removes item `index` of `array` with one adjacent comma.
pub fn remove_array_item(text: &str, array: &JsonValue, index: usize) -> Option<MemberEdit> {
    let items = array.as_array()?;
    let item = items.get(index)?;
    let range = if index + 1 < items.len() {
        // From this item's start to the next item's start.
        TextRange::new(item.span.start, items[index + 1].span.start)
    } else if index > 0 {
        // From the previous item's end to this item's end.
        TextRange::new(items[index - 1].span.end, item.span.end)
    } else {
        // The only item: leave `[]` with the original brackets.
        let _ = text;
        TextRange::new(array.span.start + 1, array.span.end - 1)
    };
    Some(MemberEdit { span: range, new_text: String::new() })
}

/// Replaces a value with `value` rendered in the surrounding style.
pub fn replace_value(text: &str, old: &JsonValue, value: &serde_json::Value) -> MemberEdit {
    let base = indent_of_line(text, old.span.start).to_string();
    let unit = guess_indent_unit(text);
    let pretty = serde_json::to_string_pretty(value).unwrap_or_default();
    let new_text = if pretty.contains('\n') && text[old.span.start..old.span.end].contains('\n') {
        reindent(&pretty, &base, &unit, line_ending(text))
    } else {
        inline(value)
    };
    MemberEdit { span: old.span, new_text }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::parse;
    use super::*;

    fn edit(text: &str, f: impl Fn(&JsonValue) -> MemberEdit) -> String {
        let v = parse(text).unwrap();
        let out = apply(text, &[f(&v)]);
        parse(&out).unwrap_or_else(|e| panic!("edit produced invalid JSON {out:?}: {e:?}"));
        out
    }

    #[test]
    fn insert_member_follows_sibling_indentation() {
        let text = "{\n    \"a\": 1\n}\n";
        assert_eq!(edit(text, |v| insert_member(text, v, "b", &json!(false))), "{\n    \"a\": 1,\n    \"b\": false\n}\n");
        let text = "{\"a\": 1}";
        assert_eq!(edit(text, |v| insert_member(text, v, "b", &json!("x"))), "{\"a\": 1, \"b\": \"x\"}");
        let text = "{\r\n\t\"s\": {}\r\n}";
        assert_eq!(
            edit(text, |v| insert_member(text, v.get("s").unwrap(), "k", &json!(["a"]))),
            "{\r\n\t\"s\": {\r\n\t\t\"k\": [\r\n\t\t\t\"a\"\r\n\t\t]\r\n\t}\r\n}"
        );
    }

    #[test]
    fn insert_and_remove_array_items() {
        let text = "[\n  \"a\",\n  \"c\"\n]";
        assert_eq!(edit(text, |v| insert_array_item(text, v, 1, &json!("b"))), "[\n  \"a\",\n  \"b\",\n  \"c\"\n]");
        assert_eq!(edit(text, |v| insert_array_item(text, v, 2, &json!("d"))), "[\n  \"a\",\n  \"c\",\n  \"d\"\n]");
        assert_eq!(edit(text, |v| remove_array_item(text, v, 0).unwrap()), "[\n  \"c\"\n]");
        assert_eq!(edit(text, |v| remove_array_item(text, v, 1).unwrap()), "[\n  \"a\"\n]");
        let text = "[\"only\"]";
        assert_eq!(edit(text, |v| remove_array_item(text, v, 0).unwrap()), "[]");
    }

    #[test]
    fn line_edit_replaces_whole_lines() {
        let old = "[\n  \"a:X\",\n  \"a:Z\"\n]\n";
        let new = "[\n  \"a:X\",\n  \"a:Y\",\n  \"a:Z\"\n]\n";
        let e = line_edit(old, new);
        assert_eq!(apply(old, std::slice::from_ref(&e)), new);
        assert_eq!(&old[e.span.start..e.span.end], "  \"a:Z\"\n");
        assert_eq!(e.new_text, "  \"a:Y\",\n  \"a:Z\"\n");
        let e = line_edit("abc", "abXc");
        assert_eq!((e.span, e.new_text.as_str()), (TextRange::new(0, 3), "abXc"));
    }

    #[test]
    fn minimal_edit_trims_common_text() {
        let e = minimal_edit("héllo wörld", "héllo brave wörld");
        assert_eq!(e.new_text, "brave ");
        assert_eq!(apply("héllo wörld", &[e]), "héllo brave wörld");
    }
}
