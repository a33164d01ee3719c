//! JSON with byte spans, and minimal text edits.
//!
//! `.chalice/config.json` and IAM policy files are the user's: diagnostics
//! point into them and fixes edit them in place, keeping every byte we do
//! not need to change. serde_json drops positions, so [`read`] keeps them,
//! and it accepts and rejects exactly what Python's `json.loads` does, since
//! that is how chalice reads both files.

mod edit;
pub mod read;

pub use edit::{apply, inline, insert_array_item, insert_member, line_edit, line_ending, minimal_edit, remove_array_item, replace_value, MemberEdit};
pub use read::{line_col, parse, JsonError, JsonKind, JsonMember, JsonValue};

/// Quotes a string as JSON.
pub fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}
