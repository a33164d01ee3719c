//! Test helpers shared by the language server's randomised tests: a seeded
//! generator, and an independent reference for where an LSP position lands
//! (so a bug in [`super::line_index`] cannot hide itself).

use super::line_index::PositionEncoding;

/// xorshift64*: deterministic, so a failure reproduces from its seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // Zero is xorshift's one fixed point; spread small seeds out.
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Lines of `text` as (content start, content end) byte ranges, split by
/// hand at `\n`, `\r\n` and a lone `\r`.
pub fn reference_lines(text: &str) -> Vec<(usize, usize)> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\n' || c == '\r' {
            lines.push((start, i));
            if c == '\r' && chars.peek().map(|&(_, n)| n) == Some('\n') {
                chars.next();
                start = i + 2;
            } else {
                start = i + 1;
            }
        }
    }
    lines.push((start, text.len()));
    lines
}

/// Where an LSP position lands, computed naively: code units counted char
/// by char, clamped to the end of the line or text, snapped back to the start
/// of a character it falls inside.
pub fn reference_offset(text: &str, line: u32, character: u32, encoding: PositionEncoding) -> usize {
    let lines = reference_lines(text);
    let Some(&(start, end)) = lines.get(line as usize) else { return text.len() };
    let mut units = 0;
    for (i, c) in text[start..end].char_indices() {
        units += match encoding {
            PositionEncoding::Utf8 => c.len_utf8(),
            PositionEncoding::Utf16 => c.len_utf16(),
        };
        if units > character as usize {
            return start + i;
        }
    }
    end
}

/// The LSP position of a byte offset that starts a character and is not
/// between the `\r` and `\n` of a line break, computed naively.
pub fn reference_position(text: &str, offset: usize, encoding: PositionEncoding) -> (u32, u32) {
    let lines = reference_lines(text);
    let line = lines.iter().rposition(|&(start, _)| start <= offset).unwrap_or(0);
    let (start, end) = lines[line];
    let column = &text[start..offset.min(end)];
    let units = match encoding {
        PositionEncoding::Utf8 => column.len(),
        PositionEncoding::Utf16 => column.encode_utf16().count(),
    };
    (line as u32, units as u32)
}

/// Every node with its kind, byte range and points: stricter than
/// `to_sexp`, which would not notice nodes left at stale offsets by a
/// wrong `InputEdit`.
pub fn dump(tree: &tree_sitter::Tree) -> String {
    let mut out = String::new();
    let mut cursor = tree.walk();
    let mut depth = 0;
    loop {
        let node = cursor.node();
        out += &format!(
            "{:depth$}{} {}..{} {:?}..{:?}{}\n",
            "",
            node.kind(),
            node.start_byte(),
            node.end_byte(),
            node.start_position(),
            node.end_position(),
            if node.is_missing() { " MISSING" } else { "" },
        );
        if cursor.goto_first_child() {
            depth += 1;
            continue;
        }
        while !cursor.goto_next_sibling() {
            if !cursor.goto_parent() {
                return out;
            }
            depth -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_positions_round_trip() {
        let text = "a😀\r\nb\rc\n日";
        for encoding in [PositionEncoding::Utf8, PositionEncoding::Utf16] {
            for (offset, _) in text.char_indices().filter(|&(i, _)| !(text[..i].ends_with('\r') && text[i..].starts_with('\n'))) {
                let (line, character) = reference_position(text, offset, encoding);
                assert_eq!(reference_offset(text, line, character, encoding), offset, "{encoding:?} {offset}");
            }
        }
        assert_eq!(reference_position(text, 1, PositionEncoding::Utf16), (0, 1));
        assert_eq!(reference_position(text, 5, PositionEncoding::Utf16), (0, 3));
        assert_eq!(reference_offset(text, 0, 2, PositionEncoding::Utf16), 1, "inside the surrogate pair");
    }
}
