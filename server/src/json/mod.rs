//! A JSON reader that keeps byte ranges, and minimal text edits.
//!
//! `.chalice/config.json` and IAM policy files are the user's: diagnostics
//! point into them and fixes edit them in place, keeping every byte we do
//! not need to change. serde_json drops positions, so this small parser
//! keeps them. It is strict JSON (what chalice's `json.load` accepts),
//! depth-limited so hostile input cannot overflow the stack.

mod edit;

pub use edit::{apply, inline, insert_array_item, insert_member, line_edit, line_ending, minimal_edit, remove_array_item, replace_value, MemberEdit};

use crate::analysis::TextRange;

#[derive(Debug, Clone, PartialEq)]
pub struct JsonValue {
    pub kind: JsonKind,
    pub range: TextRange,
}

#[derive(Debug, Clone, PartialEq)]
pub enum JsonKind {
    Null,
    Bool(bool),
    Number(f64),
    String(String),
    Array(Vec<JsonValue>),
    Object(Vec<JsonMember>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct JsonMember {
    pub key: String,
    pub key_range: TextRange,
    pub value: JsonValue,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub message: String,
    /// Byte offset of the problem.
    pub offset: usize,
}

impl JsonValue {
    /// The member `key` of an object (the last one, as Python's json does
    /// with duplicate keys).
    pub fn get(&self, key: &str) -> Option<&JsonValue> {
        self.member(key).map(|m| &m.value)
    }

    pub fn member(&self, key: &str) -> Option<&JsonMember> {
        match &self.kind {
            JsonKind::Object(members) => members.iter().rev().find(|m| m.key == key),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            JsonKind::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match &self.kind {
            JsonKind::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[JsonValue]> {
        match &self.kind {
            JsonKind::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&[JsonMember]> {
        match &self.kind {
            JsonKind::Object(m) => Some(m),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.kind, JsonKind::Null)
    }

    /// A short name of the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            JsonKind::Null => "null",
            JsonKind::Bool(_) => "a boolean",
            JsonKind::Number(_) => "a number",
            JsonKind::String(_) => "a string",
            JsonKind::Array(_) => "a list",
            JsonKind::Object(_) => "an object",
        }
    }
}

const MAX_DEPTH: usize = 256;

/// Parses a whole document. A UTF-8 byte-order mark is skipped.
pub fn parse(text: &str) -> Result<JsonValue, JsonError> {
    let start = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let mut p = Parser { s: text.as_bytes(), text, pos: start, depth: 0 };
    p.ws();
    if p.pos >= p.s.len() {
        return Err(p.err("the file is empty; expected a JSON object"));
    }
    let v = p.value()?;
    p.ws();
    if p.pos < p.s.len() {
        return Err(p.err("unexpected text after the end of the JSON document"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn err(&self, message: &str) -> JsonError {
        JsonError { message: message.to_string(), offset: self.pos.min(self.s.len()) }
    }

    fn ws(&mut self) {
        while let Some(&c) = self.s.get(self.pos) {
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn value(&mut self) -> Result<JsonValue, JsonError> {
        let start = self.pos;
        let kind = match self.s.get(self.pos) {
            None => return Err(self.err("unexpected end of file; expected a value")),
            Some(b'{') => self.object()?,
            Some(b'[') => self.array()?,
            Some(b'"') => JsonKind::String(self.string()?),
            Some(b't') => self.literal("true", JsonKind::Bool(true))?,
            Some(b'f') => self.literal("false", JsonKind::Bool(false))?,
            Some(b'n') => self.literal("null", JsonKind::Null)?,
            Some(c) if *c == b'-' || c.is_ascii_digit() => self.number()?,
            Some(_) => return Err(self.err("expected a value (object, list, string, number, true, false or null)")),
        };
        Ok(JsonValue { kind, range: TextRange::new(start, self.pos) })
    }

    fn literal(&mut self, word: &str, kind: JsonKind) -> Result<JsonKind, JsonError> {
        if self.s[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(kind)
        } else {
            Err(self.err("expected a value (object, list, string, number, true, false or null)"))
        }
    }

    fn number(&mut self) -> Result<JsonKind, JsonError> {
        let start = self.pos;
        if self.s.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        let digits = |p: &mut Self| {
            let s = p.pos;
            while p.s.get(p.pos).is_some_and(u8::is_ascii_digit) {
                p.pos += 1;
            }
            p.pos > s
        };
        if !digits(self) {
            return Err(self.err("expected digits"));
        }
        if self.s.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if !digits(self) {
                return Err(self.err("expected digits after the decimal point"));
            }
        }
        if matches!(self.s.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.s.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !digits(self) {
                return Err(self.err("expected digits in the exponent"));
            }
        }
        let n = self.text[start..self.pos].parse().map_err(|_| self.err("invalid number"))?;
        Ok(JsonKind::Number(n))
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            let Some(&c) = self.s.get(self.pos) else {
                return Err(self.err("unterminated string"));
            };
            match c {
                b'"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    self.pos += 1;
                    let Some(&e) = self.s.get(self.pos) else { return Err(self.err("unterminated string")) };
                    self.pos += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let ch = if (0xD800..0xDC00).contains(&hi) && self.s[self.pos..].starts_with(b"\\u") {
                                self.pos += 2;
                                let lo = self.hex4()?;
                                char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF))
                            } else {
                                char::from_u32(hi)
                            };
                            out.push(ch.unwrap_or('\u{fffd}'));
                        }
                        _ => return Err(JsonError { message: "invalid escape in string".into(), offset: self.pos - 1 }),
                    }
                }
                c if c < 0x20 => return Err(self.err("control character in string (use an escape)")),
                _ => {
                    // Copy one UTF-8 character.
                    let ch_len = self.text[self.pos..].chars().next().map(char::len_utf8).unwrap_or(1);
                    out.push_str(&self.text[self.pos..self.pos + ch_len]);
                    self.pos += ch_len;
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let h = self.text.get(self.pos..self.pos + 4).ok_or_else(|| self.err("invalid \\u escape"))?;
        let v = u32::from_str_radix(h, 16).map_err(|_| self.err("invalid \\u escape"))?;
        self.pos += 4;
        Ok(v)
    }

    fn enter(&mut self) -> Result<(), JsonError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        Ok(())
    }

    fn array(&mut self) -> Result<JsonKind, JsonError> {
        self.enter()?;
        self.pos += 1;
        let mut items = Vec::new();
        self.ws();
        if self.s.get(self.pos) == Some(&b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(JsonKind::Array(items));
        }
        loop {
            self.ws();
            items.push(self.value()?);
            self.ws();
            match self.s.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(JsonKind::Array(items));
                }
                _ => return Err(self.err("expected ',' or ']' in list")),
            }
        }
    }

    fn object(&mut self) -> Result<JsonKind, JsonError> {
        self.enter()?;
        self.pos += 1;
        let mut members = Vec::new();
        self.ws();
        if self.s.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(JsonKind::Object(members));
        }
        loop {
            self.ws();
            if self.s.get(self.pos) != Some(&b'"') {
                return Err(self.err("expected a property name in double quotes"));
            }
            let kstart = self.pos;
            let key = self.string()?;
            let key_range = TextRange::new(kstart, self.pos);
            self.ws();
            if self.s.get(self.pos) != Some(&b':') {
                return Err(self.err("expected ':' after the property name"));
            }
            self.pos += 1;
            self.ws();
            let value = self.value()?;
            members.push(JsonMember { key, key_range, value });
            self.ws();
            match self.s.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(JsonKind::Object(members));
                }
                _ => return Err(self.err("expected ',' or '}' in object")),
            }
        }
    }
}

/// Quotes a string as JSON.
pub fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_ranges_and_unicode() {
        let text = "{\r\n  \"a\": [1, \"é😀\", true, null],\n  \"b\": {\"c\": \"\\u00e9\\ud83d\\ude00\"}\n}";
        let v = parse(text).unwrap();
        let a = v.get("a").unwrap();
        assert_eq!(&text[a.range.start..a.range.end], "[1, \"é😀\", true, null]");
        assert_eq!(a.as_array().unwrap()[1].as_str(), Some("é😀"));
        assert_eq!(v.get("b").unwrap().get("c").unwrap().as_str(), Some("é😀"));
        let m = v.member("b").unwrap();
        assert_eq!(&text[m.key_range.start..m.key_range.end], "\"b\"");
    }

    #[test]
    fn errors_name_the_problem_and_offset() {
        for (text, msg, off) in [
            ("", "the file is empty", 0),
            ("{\"a\": 1,}", "expected a property name", 8),
            ("{\"a\" 1}", "expected ':'", 5),
            ("[1 2]", "expected ',' or ']'", 3),
            ("{\"a\": tru}", "expected a value", 6),
            ("{} x", "unexpected text", 3),
            ("\"abc", "unterminated string", 4),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.message.contains(msg), "{text:?}: {}", e.message);
            assert_eq!(e.offset, off, "{text:?}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let text = "[".repeat(100_000);
        assert!(parse(&text).unwrap_err().message.contains("nested too deeply"));
    }
}
