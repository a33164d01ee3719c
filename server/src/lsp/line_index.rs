//! LSP positions ↔ byte offsets.
//!
//! An LSP position is a line plus a column counted in the code units of the
//! negotiated encoding (UTF-8 bytes or UTF-16 units). Lines end at `\n`,
//! `\r\n` or a lone `\r` (LSP 3.17 "Text Documents"). Every conversion
//! clamps: a column past the end of a line means the end of that line, a line
//! past the end of the text means the end of the text, and an offset inside a
//! character or inside a `\r\n` snaps back. Clients do send such positions
//! (stale requests, editors with their own idea of line endings), and the
//! server must never panic on them.

use tower_lsp_server::ls_types::{Position, PositionEncodingKind};

/// The position encoding agreed on in `initialize`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionEncoding {
    Utf8,
    Utf16,
}

impl PositionEncoding {
    /// UTF-8 when the client offers it (no conversion work at all, and what
    /// Neovim ≥ 0.10 offers), else the mandatory UTF-16.
    pub fn negotiate(offered: Option<&[PositionEncodingKind]>) -> Self {
        match offered {
            Some(kinds) if kinds.contains(&PositionEncodingKind::UTF8) => PositionEncoding::Utf8,
            _ => PositionEncoding::Utf16,
        }
    }

    pub fn kind(self) -> PositionEncodingKind {
        match self {
            PositionEncoding::Utf8 => PositionEncodingKind::UTF8,
            PositionEncoding::Utf16 => PositionEncodingKind::UTF16,
        }
    }

    fn units(self, c: char) -> usize {
        match self {
            PositionEncoding::Utf8 => c.len_utf8(),
            PositionEncoding::Utf16 => c.len_utf16(),
        }
    }
}

/// Where each line of one text starts. Rebuilt whenever the text changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIndex {
    /// Byte offset of the first byte of every line; `line_starts[0] == 0`.
    line_starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut line_starts = vec![0];
        // Rebuilt at every keystroke: the line breaks are found with a
        // vectorised search rather than by looking at every byte.
        for i in memchr::memchr2_iter(b'\n', b'\r', bytes) {
            let ends_line = bytes[i] == b'\n' || bytes.get(i + 1) != Some(&b'\n');
            if ends_line {
                line_starts.push(i + 1);
            }
        }
        LineIndex { line_starts }
    }

    /// The index of `text` after `text[start..old_end]` of the text this
    /// index was built from was replaced by `new_len` bytes. Only the line
    /// starts the edit can change are looked for again: a line starts at
    /// byte `p` by what bytes `p - 1` and `p` are, so those before `start`
    /// stay and those after the new text move with it. Building the index
    /// of a 5,000-line file anew took a tenth of a millisecond of every
    /// keystroke.
    pub fn edited(&mut self, text: &str, start: usize, old_end: usize, new_len: usize) {
        let new_end = start + new_len;
        // The first line always starts at 0, whatever the edit.
        let first = start.max(1);
        let kept_before = self.line_starts.partition_point(|&p| p < first);
        let moved_from = self.line_starts.partition_point(|&p| p <= old_end);
        let bytes = text.as_bytes();
        let found = (first..=new_end.min(text.len())).filter(|&p| match bytes[p - 1] {
            b'\n' => true,
            b'\r' => bytes.get(p) != Some(&b'\n'),
            _ => false,
        });
        let mut after = self.line_starts.split_off(moved_from);
        for p in &mut after {
            *p = *p - old_end + new_end;
        }
        self.line_starts.truncate(kept_before);
        self.line_starts.extend(found);
        self.line_starts.append(&mut after);
    }

    /// Byte range of line `line`'s content, without its terminator.
    fn line_content(&self, text: &str, line: usize) -> (usize, usize) {
        let start = self.line_starts[line];
        let end = match self.line_starts.get(line + 1) {
            None => text.len(),
            Some(&next) => {
                let bytes = text.as_bytes();
                if next >= 2 && bytes[next - 2] == b'\r' && bytes[next - 1] == b'\n' {
                    next - 2
                } else {
                    next - 1
                }
            }
        };
        (start, end)
    }

    /// The byte offset of `position` in `text` (which this index was built
    /// from), clamped as described in the module documentation.
    pub fn offset(&self, text: &str, position: Position, encoding: PositionEncoding) -> usize {
        let line = position.line as usize;
        if line >= self.line_starts.len() {
            return text.len();
        }
        let (start, end) = self.line_content(text, line);
        let wanted = position.character as usize;
        let mut units = 0;
        for (i, c) in text[start..end].char_indices() {
            // A column inside a character (the low half of a surrogate pair,
            // the middle of a UTF-8 sequence) snaps back to its start.
            units += encoding.units(c);
            if units > wanted {
                return start + i;
            }
        }
        end
    }

    /// The position of byte `offset` in `text` (which this index was built
    /// from), clamped as described in the module documentation.
    pub fn position(&self, text: &str, offset: usize, encoding: PositionEncoding) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let (start, end) = self.line_content(text, line);
        let column_text = &text[start..offset.min(end)];
        let character = match encoding {
            PositionEncoding::Utf8 => column_text.len(),
            PositionEncoding::Utf16 => utf16_len(column_text),
        };
        Position::new(to_u32(line), to_u32(character))
    }
}

/// `text.encode_utf16().count()`, counted on the bytes: every character
/// is one UTF-16 unit but those of four UTF-8 bytes, which are two. Most
/// lines before a diagnostic are ASCII, and each publish converts every
/// diagnostic of the file.
fn utf16_len(text: &str) -> usize {
    if text.is_ascii() {
        return text.len();
    }
    let bytes = text.as_bytes();
    // Bytes that start a character (not 0b10xxxxxx), plus one more for each
    // that starts a four-byte one (0b11110xxx).
    bytes.iter().filter(|&&b| (b as i8) >= -0x40).count() + bytes.iter().filter(|&&b| b >= 0xF0).count()
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: u32, character: u32) -> Position {
        Position::new(line, character)
    }

    #[test]
    fn utf16_lengths_are_counted_as_the_encoder_counts_them() {
        for text in ["", "abc", "é", "日本語のコメント", "a😀b", "😀😀", "x\u{10FFFF}y\u{7FF}z\u{800}"] {
            assert_eq!(utf16_len(text), text.encode_utf16().count(), "{text:?}");
        }
    }

    #[test]
    fn negotiation_prefers_utf8_and_defaults_to_utf16() {
        use PositionEncodingKind as K;
        assert_eq!(PositionEncoding::negotiate(None), PositionEncoding::Utf16);
        assert_eq!(PositionEncoding::negotiate(Some(&[])), PositionEncoding::Utf16);
        assert_eq!(PositionEncoding::negotiate(Some(&[K::UTF16, K::UTF8])), PositionEncoding::Utf8);
        assert_eq!(PositionEncoding::negotiate(Some(&[K::UTF32, K::UTF16])), PositionEncoding::Utf16);
    }

    #[test]
    fn japanese_and_emoji_columns_in_both_encodings() {
        // "# 日本" is 2 + 3*2 bytes; "😀" is 4 UTF-8 bytes and a surrogate pair.
        let text = "x = 1\n# 日本😀!\ny";
        let index = LineIndex::new(text);
        let bang = text.find('!').unwrap();
        assert_eq!(index.position(text, bang, PositionEncoding::Utf8), pos(1, 12));
        assert_eq!(index.position(text, bang, PositionEncoding::Utf16), pos(1, 6));
        assert_eq!(index.offset(text, pos(1, 12), PositionEncoding::Utf8), bang);
        assert_eq!(index.offset(text, pos(1, 6), PositionEncoding::Utf16), bang);
        let emoji = text.find('😀').unwrap();
        assert_eq!(index.offset(text, pos(1, 4), PositionEncoding::Utf16), emoji);
    }

    #[test]
    fn columns_inside_a_character_snap_to_its_start() {
        let text = "a😀b";
        let index = LineIndex::new(text);
        // UTF-16 column 2 is between the two halves of the surrogate pair.
        assert_eq!(index.offset(text, pos(0, 2), PositionEncoding::Utf16), 1);
        // UTF-8 column 3 is inside the emoji's four bytes.
        assert_eq!(index.offset(text, pos(0, 3), PositionEncoding::Utf8), 1);
        // A byte offset inside the emoji reports the emoji's column.
        assert_eq!(index.position(text, 3, PositionEncoding::Utf16), pos(0, 1));
    }

    #[test]
    fn crlf_and_lone_cr_end_lines() {
        let text = "ab\r\ncd\ref\n";
        let index = LineIndex::new(text);
        assert_eq!(index.offset(text, pos(1, 0), PositionEncoding::Utf16), 4);
        assert_eq!(index.offset(text, pos(2, 1), PositionEncoding::Utf16), 8);
        assert_eq!(index.offset(text, pos(3, 0), PositionEncoding::Utf16), text.len());
        // Past the end of a CRLF line means before the `\r`.
        assert_eq!(index.offset(text, pos(0, 99), PositionEncoding::Utf8), 2);
        // The offset between `\r` and `\n` belongs to the end of line 0.
        assert_eq!(index.position(text, 3, PositionEncoding::Utf8), pos(0, 2));
        assert_eq!(index.position(text, 7, PositionEncoding::Utf8), pos(2, 0));
    }

    #[test]
    fn out_of_range_positions_and_offsets_clamp() {
        let text = "one\ntwo";
        let index = LineIndex::new(text);
        assert_eq!(index.offset(text, pos(1, 50), PositionEncoding::Utf16), 7);
        assert_eq!(index.offset(text, pos(9, 0), PositionEncoding::Utf16), 7);
        assert_eq!(index.position(text, 500, PositionEncoding::Utf16), pos(1, 3));
        let empty = LineIndex::new("");
        assert_eq!(empty.offset("", pos(3, 3), PositionEncoding::Utf8), 0);
        assert_eq!(empty.position("", 3, PositionEncoding::Utf8), pos(0, 0));
    }

    #[test]
    fn every_offset_round_trips_through_a_position() {
        let text = "é😀\r\n\r\n日本語 x\rz\n";
        let index = LineIndex::new(text);
        for encoding in [PositionEncoding::Utf8, PositionEncoding::Utf16] {
            for (offset, _) in text.char_indices() {
                if text[..offset].ends_with('\r') && text[offset..].starts_with('\n') {
                    continue; // inside a line terminator: no position of its own
                }
                let position = index.position(text, offset, encoding);
                assert_eq!(index.offset(text, position, encoding), offset, "{encoding:?} {offset}");
            }
        }
    }

    /// Lines start after every `\n`, `\r\n` and lone `\r`, as a byte-by-byte
    /// reading finds them, on texts made of line breaks of every kind
    /// (breaks split between pieces included), ASCII and multi-byte text.
    #[test]
    fn lines_start_where_a_byte_by_byte_reading_finds_them() {
        let by_bytes = |text: &str| {
            let bytes = text.as_bytes();
            let mut starts = vec![0];
            for (i, &b) in bytes.iter().enumerate() {
                if b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')) {
                    starts.push(i + 1);
                }
            }
            starts
        };
        let pieces = ["\n", "\r", "\r\n", "\n\r", "a", "é", "日本", "😀", "  x = 1", ""];
        let mut rng = crate::lsp::test_support::Rng::new(5);
        for _ in 0..2000 {
            let text: String = (0..rng.below(40)).map(|_| *rng.pick(&pieces)).collect();
            assert_eq!(LineIndex::new(&text).line_starts, by_bytes(&text), "{text:?}");
        }
    }

    /// An index edited equals the index of the edited text built anew, for
    /// edits that join or split `\r\n`, add or remove lines, at the start
    /// and at the end of the text.
    #[test]
    fn an_edited_index_is_the_index_of_the_edited_text() {
        let pieces = ["\n", "\r", "\r\n", "a", "é", "😀", "  x = 1", ""];
        let mut rng = crate::lsp::test_support::Rng::new(11);
        let mut text: String = (0..30).map(|_| *rng.pick(&pieces)).collect();
        let mut index = LineIndex::new(&text);
        for _ in 0..5000 {
            let boundaries: Vec<usize> = (0..=text.len()).filter(|&i| text.is_char_boundary(i)).collect();
            let a = *rng.pick(&boundaries);
            let b = *rng.pick(&boundaries);
            let (start, old_end) = (a.min(b), a.max(b).min(a.min(b) + 6));
            let old_end = (old_end..=text.len()).find(|&i| text.is_char_boundary(i)).unwrap_or(text.len());
            let new_text: String = (0..rng.below(3)).map(|_| *rng.pick(&pieces)).collect();
            text.replace_range(start..old_end, &new_text);
            index.edited(&text, start, old_end, new_text.len());
            assert_eq!(index, LineIndex::new(&text), "{text:?} after replacing {start}..{old_end} with {new_text:?}");
            if text.len() > 200 {
                text.truncate(boundaries.iter().copied().filter(|&i| i <= 100).last().unwrap_or(0));
                index = LineIndex::new(&text);
            }
        }
    }
}
