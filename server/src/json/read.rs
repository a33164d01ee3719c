//! A JSON reader that keeps the byte span of every key and value, and
//! accepts and rejects exactly what Python's `json.loads` (chalice's config
//! reader) does: `NaN`/`Infinity`, duplicate keys (the last wins), no
//! control characters inside strings, no BOM, nothing after the value.

use crate::analysis::TextRange;

#[derive(Debug, Clone, PartialEq)]
pub enum JsonKind {
    Null,
    Bool(bool),
    /// The number's text (Python keeps ints exact) and its float value.
    Number { text: String, value: f64 },
    String(String),
    Array(Vec<JsonValue>),
    Object(Vec<JsonMember>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct JsonValue {
    pub kind: JsonKind,
    pub span: TextRange,
}

#[derive(Debug, Clone, PartialEq)]
pub struct JsonMember {
    pub key: String,
    pub key_span: TextRange,
    pub value: JsonValue,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// Python's wording, e.g. `Expecting value: line 1 column 1 (char 0)`.
    pub message: String,
    pub span: TextRange,
}

impl JsonValue {
    /// `dict.get(key)`'s member: the last one with that key, as Python
    /// keeps the last of duplicate keys.
    pub fn member(&self, key: &str) -> Option<&JsonMember> {
        match &self.kind {
            JsonKind::Object(members) => members.iter().rev().find(|m| m.key == key),
            _ => None,
        }
    }

    /// `dict.get(key)`.
    pub fn get(&self, key: &str) -> Option<&JsonValue> {
        self.member(key).map(|m| &m.value)
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

    /// A short name of the value's type, for messages about policy files.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            JsonKind::Null => "null",
            JsonKind::Bool(_) => "a boolean",
            JsonKind::Number { .. } => "a number",
            JsonKind::String(_) => "a string",
            JsonKind::Array(_) => "a list",
            JsonKind::Object(_) => "an object",
        }
    }

    pub fn is_object(&self) -> bool {
        matches!(self.kind, JsonKind::Object(_))
    }

    pub fn is_null(&self) -> bool {
        matches!(self.kind, JsonKind::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            JsonKind::String(s) => Some(s),
            _ => None,
        }
    }

    /// Python truthiness of the loaded value, which is how chalice tests
    /// `autogen_policy`, `manage_iam_role`, `xray` and the VPC lists.
    pub fn is_truthy(&self) -> bool {
        match &self.kind {
            JsonKind::Null => false,
            JsonKind::Bool(b) => *b,
            JsonKind::Number { value, .. } => *value != 0.0,
            JsonKind::String(s) => !s.is_empty(),
            JsonKind::Array(a) => !a.is_empty(),
            JsonKind::Object(o) => !o.is_empty(),
        }
    }

    /// The Python type name of the loaded value, for messages.
    pub fn python_type(&self) -> &'static str {
        match &self.kind {
            JsonKind::Null => "None",
            JsonKind::Bool(_) => "bool",
            JsonKind::Number { text, .. } if is_int_text(text) => "int",
            JsonKind::Number { .. } => "float",
            JsonKind::String(_) => "str",
            JsonKind::Array(_) => "list",
            JsonKind::Object(_) => "dict",
        }
    }

    /// `'%s' % value` in Python, used where chalice formats names.
    pub fn python_str(&self) -> String {
        match &self.kind {
            JsonKind::Null => "None".into(),
            JsonKind::Bool(true) => "True".into(),
            JsonKind::Bool(false) => "False".into(),
            JsonKind::Number { text, value } => {
                if is_int_text(text) {
                    text.clone()
                } else if value.is_nan() {
                    "nan".into()
                } else if value.is_infinite() {
                    if *value > 0.0 { "inf".into() } else { "-inf".into() }
                } else {
                    format_python_float(*value)
                }
            }
            JsonKind::String(s) => s.clone(),
            JsonKind::Array(_) | JsonKind::Object(_) => "<container>".into(),
        }
    }
}

fn is_int_text(t: &str) -> bool {
    !t.contains(['.', 'e', 'E']) && !t.contains("Infinity") && !t.contains("NaN")
}

fn format_python_float(v: f64) -> String {
    let s = format!("{v:?}");
    if s.contains('.') || s.contains('e') { s } else { format!("{s}.0") }
}

/// Parses like `json.loads(text)`.
pub fn parse(text: &str) -> Result<JsonValue, JsonError> {
    let mut p = Parser { s: text, b: text.as_bytes(), pos: 0, depth: 0 };
    if text.starts_with('\u{feff}') {
        return Err(JsonError {
            message: "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)".into(),
            span: TextRange::new(0, 3),
        });
    }
    p.ws();
    let v = p.value()?;
    p.ws();
    if p.pos != p.b.len() {
        return Err(p.error("Extra data", p.pos, p.b.len()));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
    depth: usize,
}

/// Python's json recursion gives up far below this; it only guards our stack.
const MAX_DEPTH: usize = 500;

impl<'a> Parser<'a> {
    fn error(&self, what: &str, start: usize, end: usize) -> JsonError {
        let (line, col) = line_col(self.s, start);
        let char_index = self.s[..start.min(self.s.len())].chars().count();
        JsonError { message: format!("{what}: line {line} column {col} (char {char_index})"), span: TextRange::new(start, end.max(start)) }
    }

    fn ws(&mut self) {
        while self.pos < self.b.len() && matches!(self.b[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
    }

    fn starts(&self, lit: &str) -> bool {
        self.s[self.pos..].starts_with(lit)
    }

    fn value(&mut self) -> Result<JsonValue, JsonError> {
        let start = self.pos;
        let Some(&c) = self.b.get(self.pos) else {
            return Err(self.error("Expecting value", start, start));
        };
        let kind = match c {
            b'{' => return self.object(),
            b'[' => return self.array(),
            b'"' => JsonKind::String(self.string()?),
            b'n' if self.starts("null") => {
                self.pos += 4;
                JsonKind::Null
            }
            b't' if self.starts("true") => {
                self.pos += 4;
                JsonKind::Bool(true)
            }
            b'f' if self.starts("false") => {
                self.pos += 5;
                JsonKind::Bool(false)
            }
            b'N' if self.starts("NaN") => {
                self.pos += 3;
                JsonKind::Number { text: "NaN".into(), value: f64::NAN }
            }
            b'I' if self.starts("Infinity") => {
                self.pos += 8;
                JsonKind::Number { text: "Infinity".into(), value: f64::INFINITY }
            }
            b'-' if self.starts("-Infinity") => {
                self.pos += 9;
                JsonKind::Number { text: "-Infinity".into(), value: f64::NEG_INFINITY }
            }
            b'-' | b'0'..=b'9' => match self.number() {
                Some(k) => k,
                None => return Err(self.error("Expecting value", start, start + 1)),
            },
            _ => return Err(self.error("Expecting value", start, start + 1)),
        };
        Ok(JsonValue { kind, span: TextRange::new(start, self.pos) })
    }

    fn number(&mut self) -> Option<JsonKind> {
        // -?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?
        let start = self.pos;
        let mut i = self.pos;
        let b = self.b;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while matches!(b.get(i), Some(b'0'..=b'9')) {
                    i += 1;
                }
            }
            _ => return None,
        }
        if b.get(i) == Some(&b'.') && matches!(b.get(i + 1), Some(b'0'..=b'9')) {
            i += 1;
            while matches!(b.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            let mut j = i + 1;
            if matches!(b.get(j), Some(b'+' | b'-')) {
                j += 1;
            }
            if matches!(b.get(j), Some(b'0'..=b'9')) {
                while matches!(b.get(j), Some(b'0'..=b'9')) {
                    j += 1;
                }
                i = j;
            }
        }
        let text = &self.s[start..i];
        self.pos = i;
        Some(JsonKind::Number { text: text.to_string(), value: text.parse().unwrap_or(f64::NAN) })
    }

    fn string(&mut self) -> Result<String, JsonError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let Some(&c) = self.b.get(self.pos) else {
                return Err(self.error("Unterminated string starting at", start, self.b.len()));
            };
            match c {
                b'"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    let esc = self.b.get(self.pos + 1).copied();
                    let simple = match esc {
                        Some(b'"') => Some('"'),
                        Some(b'\\') => Some('\\'),
                        Some(b'/') => Some('/'),
                        Some(b'b') => Some('\x08'),
                        Some(b'f') => Some('\x0c'),
                        Some(b'n') => Some('\n'),
                        Some(b'r') => Some('\r'),
                        Some(b't') => Some('\t'),
                        _ => None,
                    };
                    if let Some(ch) = simple {
                        out.push(ch);
                        self.pos += 2;
                        continue;
                    }
                    if esc != Some(b'u') {
                        return Err(self.error("Invalid \\escape", self.pos, self.pos + 2));
                    }
                    let Some(hi) = self.hex4(self.pos + 2) else {
                        return Err(self.error("Invalid \\uXXXX escape", self.pos + 1, self.pos + 6));
                    };
                    self.pos += 6;
                    let mut code = hi;
                    if (0xd800..0xdc00).contains(&hi) && self.s[self.pos..].starts_with("\\u") {
                        if let Some(lo) = self.hex4(self.pos + 2) {
                            if (0xdc00..0xe000).contains(&lo) {
                                code = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
                                self.pos += 6;
                            }
                        }
                    }
                    // A lone surrogate is a valid Python str but not a Rust
                    // one; it can only matter inside names we compare.
                    out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                }
                0..=0x1f => return Err(self.error("Invalid control character at", self.pos, self.pos + 1)),
                _ => {
                    let ch = self.s[self.pos..].chars().next().unwrap_or('\u{fffd}');
                    out.push(ch);
                    self.pos += ch.len_utf8();
                }
            }
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let h = self.s.get(at..at + 4)?;
        if !h.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(h, 16).ok()
    }

    fn nest(&mut self) -> Result<(), JsonError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("maximum recursion depth exceeded", self.pos, self.pos + 1));
        }
        Ok(())
    }

    fn object(&mut self) -> Result<JsonValue, JsonError> {
        let start = self.pos;
        self.nest()?;
        self.pos += 1;
        let mut members = Vec::new();
        self.ws();
        if self.b.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(JsonValue { kind: JsonKind::Object(members), span: TextRange::new(start, self.pos) });
        }
        loop {
            self.ws();
            if self.b.get(self.pos) != Some(&b'"') {
                return Err(self.error("Expecting property name enclosed in double quotes", self.pos, self.pos + 1));
            }
            let key_start = self.pos;
            let key = self.string()?;
            let key_span = TextRange::new(key_start, self.pos);
            self.ws();
            if self.b.get(self.pos) != Some(&b':') {
                return Err(self.error("Expecting ':' delimiter", self.pos, self.pos + 1));
            }
            self.pos += 1;
            self.ws();
            let value = self.value()?;
            members.push(JsonMember { key, key_span, value });
            self.ws();
            match self.b.get(self.pos) {
                Some(b',') => {
                    self.pos += 1;
                }
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.error("Expecting ',' delimiter", self.pos, self.pos + 1)),
            }
        }
        self.depth -= 1;
        Ok(JsonValue { kind: JsonKind::Object(members), span: TextRange::new(start, self.pos) })
    }

    fn array(&mut self) -> Result<JsonValue, JsonError> {
        let start = self.pos;
        self.nest()?;
        self.pos += 1;
        let mut items = Vec::new();
        self.ws();
        if self.b.get(self.pos) == Some(&b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(JsonValue { kind: JsonKind::Array(items), span: TextRange::new(start, self.pos) });
        }
        loop {
            self.ws();
            items.push(self.value()?);
            self.ws();
            match self.b.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.error("Expecting ',' delimiter", self.pos, self.pos + 1)),
            }
        }
        self.depth -= 1;
        Ok(JsonValue { kind: JsonKind::Array(items), span: TextRange::new(start, self.pos) })
    }
}

/// 1-based line and column (in characters), as Python's json reports them.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    (line, before[line_start..].chars().count() + 1)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(text).unwrap_err().message
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let text = "[".repeat(100_000);
        assert!(parse(&text).is_err());
    }

    #[test]
    fn keeps_spans_of_keys_and_values() {
        let text = "{\"a\": {\"b\": [1, false]}, \"a\": \"é\"}";
        let v = parse(text).unwrap();
        let a = v.member("a").unwrap();
        assert_eq!(&text[a.key_span.start..a.key_span.end], "\"a\"");
        assert_eq!(&text[a.value.span.start..a.value.span.end], "\"é\"");
        assert_eq!(a.value.as_str(), Some("é"));
    }

    #[test]
    fn python_extensions_and_errors() {
        assert!(parse("[NaN, Infinity, -Infinity, 1e5, -0.5]").is_ok());
        assert_eq!(err(""), "Expecting value: line 1 column 1 (char 0)");
        assert_eq!(err("{\"a\": 1,}"), "Expecting property name enclosed in double quotes: line 1 column 9 (char 8)");
        assert_eq!(err("{} x"), "Extra data: line 1 column 4 (char 3)");
        assert_eq!(err("\"a\tb\""), "Invalid control character at: line 1 column 3 (char 2)");
        assert!(err("\u{feff}{}").starts_with("Unexpected UTF-8 BOM"));
        assert!(parse("{\r\n\"a\": 1\r\n}").is_ok());
        assert!(parse(&"[".repeat(100_000)).is_err());
    }

    #[test]
    fn truthiness_is_pythons() {
        for (t, truthy) in [("\"false\"", true), ("\"\"", false), ("0", false), ("0.0", false), ("[]", false), ("{}", false), ("NaN", true), ("null", false)] {
            assert_eq!(parse(t).unwrap().is_truthy(), truthy, "{t}");
        }
    }
}
