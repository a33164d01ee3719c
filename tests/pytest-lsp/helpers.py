"""What the tests do the way an editor would, written independently of the
server: position encodings, applying workspace edits to disk, matching
watcher globs, and waiting for the server to publish."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types

# How long to wait for the server to publish something. Generous, because
# the machine may be busy; a passing run takes a fraction of it.
TIMEOUT = 10.0


# ---- positions -------------------------------------------------------------


def units(text: str, encoding: str) -> int:
    """The length of `text` in the code units of a position encoding."""
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    if encoding == "utf-32":
        return len(text)
    raise ValueError(encoding)


def position(text: str, index: int, encoding: str) -> types.Position:
    """The LSP position of the character at `index` of `text` (lines end at
    `\\n`; the example files have no other line ends)."""
    line = text.count("\n", 0, index)
    line_start = text.rfind("\n", 0, index) + 1
    return types.Position(line=line, character=units(text[line_start:index], encoding))


def index_of(text: str, pos: types.Position, encoding: str) -> int:
    """The index in `text` of an LSP position. Positions must be exact: an
    edit that lands inside a character or past a line end is a server bug
    this suite wants to see, not to paper over."""
    lines = text.split("\n")
    assert pos.line <= len(lines), f"line {pos.line} past the end of the text"
    line_start = sum(len(line) + 1 for line in lines[: pos.line])
    line = lines[pos.line] if pos.line < len(lines) else ""
    counted = 0
    for offset, char in enumerate(line):
        if counted == pos.character:
            return line_start + offset
        assert counted < pos.character, f"{pos} falls inside a character"
        counted += units(char, encoding)
    assert counted == pos.character, f"{pos} is past the end of its line"
    return line_start + len(line)


def span(text: str, start: int, end: int, encoding: str) -> types.Range:
    return types.Range(start=position(text, start, encoding), end=position(text, end, encoding))


def apply_text_edits(text: str, edits: list[types.TextEdit], encoding: str) -> str:
    """Applies edits that all refer to `text`, as LSP requires, last first."""
    resolved = sorted(
        ((index_of(text, e.range.start, encoding), index_of(text, e.range.end, encoding), e.new_text) for e in edits),
        key=lambda e: (e[0], e[1]),
    )
    for (_, end, _), (next_start, _, _) in zip(resolved, resolved[1:]):
        assert end <= next_start, f"overlapping edits: {edits}"
    for start, end, new_text in reversed(resolved):
        text = text[:start] + new_text + text[end:]
    return text


# ---- files -----------------------------------------------------------------


def uri_path(uri: str) -> Path:
    """The path of a `file:` URI, whichever characters it percent-encodes."""
    parsed = urlparse(uri)
    assert parsed.scheme == "file", uri
    return Path(unquote(parsed.path))


def apply_workspace_edit(edit: types.WorkspaceEdit, encoding: str) -> dict[Path, types.FileChangeType]:
    """Applies a workspace edit to the files on disk, as an editor that
    saves right away would, and returns the files it created or changed.
    Text edits to a file that does not exist yet (the `changes` form has no
    way to create one) start from an empty buffer, as Neovim and Emacs do."""
    touched: dict[Path, types.FileChangeType] = {}

    def touch(path: Path):
        kind = types.FileChangeType.Changed if path.exists() else types.FileChangeType.Created
        touched.setdefault(path, kind)

    if edit.document_changes is not None:
        assert edit.changes is None, "a workspace edit with both documentChanges and changes"
        for change in edit.document_changes:
            if isinstance(change, types.CreateFile):
                path = uri_path(change.uri)
                # No overwrite/ignoreIfExists options: an existing file must
                # make the client refuse, so the server must not rely on it.
                assert not path.exists(), f"CreateFile of an existing file {path}"
                touch(path)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("", encoding="utf-8")
            elif isinstance(change, types.TextDocumentEdit):
                path = uri_path(change.text_document.uri)
                assert path.exists(), f"TextDocumentEdit of a file that does not exist: {path}"
                edits = [e for e in change.edits if isinstance(e, types.TextEdit)]
                assert len(edits) == len(change.edits), "annotated edits were not asked for"
                text = path.read_text(encoding="utf-8")
                touch(path)
                path.write_text(apply_text_edits(text, edits, encoding), encoding="utf-8")
            else:
                raise AssertionError(f"unexpected resource operation {change}")
    else:
        assert edit.changes, "an empty workspace edit"
        for uri, edits in edit.changes.items():
            path = uri_path(uri)
            text = path.read_text(encoding="utf-8") if path.exists() else ""
            touch(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(apply_text_edits(text, edits, encoding), encoding="utf-8")
    return touched


def glob_matches(pattern: str, relative: str) -> bool:
    """LSP glob syntax (`**` any number of segments, `*` and `?` within one)."""
    regex = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            regex += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            regex += ".*"
            i += 2
        elif pattern[i] == "*":
            regex += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            regex += "[^/]"
            i += 1
        else:
            regex += re.escape(pattern[i])
            i += 1
    return re.fullmatch(regex, relative) is not None


# ---- waiting ---------------------------------------------------------------


async def wait_until(condition, what: str, timeout: float = TIMEOUT):
    """Polls `condition` (cheap; it reads what the client recorded) until it
    returns something truthy, and returns that."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.01)
