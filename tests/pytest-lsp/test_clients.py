"""`chalice-iam lsp` driven with the capabilities of real editors (VS Code,
Neovim 0.7 to 0.11, Emacs) on a copy of examples/thread-resource: what
each editor is sent has to fit what that editor said it can do, and every
position has to be in the encoding negotiated with it."""

from __future__ import annotations

import asyncio
import json
from importlib import resources

import attrs
from lsprotocol import types

from conftest import CLIENTS, QUERY_CALL_START, SCAN_CALL, Client
from helpers import TIMEOUT, apply_workspace_edit, glob_matches, index_of, position, span, uri_path, wait_until

CIAM001 = "CIAM001"
SYNTAX_ERROR = "CIAM016"


# ---- what the example should produce ----------------------------------------


def expected_calls(text: str, encoding: str) -> dict[str, types.Range]:
    """The ranges of the two boto3 calls in `text` (scan() on one line, the
    query(...) call over several), in `encoding`, computed from the text."""
    scan = text.index(SCAN_CALL)
    query = text.index(QUERY_CALL_START)
    query_end = text.index("})", query) + 2
    return {
        "dynamodb:Scan": span(text, scan, scan + len(SCAN_CALL), encoding),
        "dynamodb:Query": span(text, query, query_end, encoding),
    }


def warnings_by_action(diagnostics) -> dict[str, types.Range]:
    """CIAM001 warnings keyed by the action their message starts with."""
    found = {}
    for d in diagnostics:
        if d.code == CIAM001:
            assert d.severity == types.DiagnosticSeverity.Warning, d
            assert d.source == "chalice-iam", d
            action = d.message.split(" ", 1)[0]
            assert action not in found, f"two diagnostics for {action}"
            found[action] = d.range
    return found


def policy_actions(policy_json: str) -> set[str]:
    policy = json.loads(policy_json)
    assert policy["Version"] == "2012-10-17"
    return {a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}


# ---- client actions -----------------------------------------------------------


async def open_app(client: Client) -> str:
    text = client.project.app.read_text(encoding="utf-8")
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=client.project.app_uri, language_id="python", version=1, text=text)
        )
    )
    return text


async def published_version(client: Client, uri: str, version: int) -> types.PublishDiagnosticsParams:
    """Waits for the diagnostics of an open document at `version`."""
    return await wait_until(
        lambda: (p := client.published.get(uri)) is not None and p.version == version and p,
        f"diagnostics of version {version} of {uri}",
    )


def change(client: Client, version: int, text: str, start: int, end: int, new_text: str) -> str:
    """Sends one incremental change replacing text[start:end], with its range
    in the negotiated encoding, and returns the new text."""
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=client.project.app_uri, version=version),
            content_changes=[
                types.TextDocumentContentChangePartial(range=span(text, start, end, client.encoding), text=new_text)
            ],
        )
    )
    return text[:start] + new_text + text[end:]


# ---- the tests ----------------------------------------------------------------


def test_every_recorded_client_is_covered():
    """Each Neovim from 0.7 on, VS Code and Emacs: a new recording in a
    pytest-lsp update must be added to CLIENTS (only Neovim 0.6, older than
    the oldest Neovim this project supports, is left out)."""
    recorded = set()
    for resource in resources.files("pytest_lsp.clients").iterdir():
        if resource.name.endswith(".json"):
            name, version = resource.name[: -len(".json")].split("_v")
            recorded.add(f"{name.replace('_', '-')}@v{version}")
    assert recorded - {"neovim@v0.6.1"} == set(CLIENTS)


async def test_initialize_negotiates_the_encoding(client: Client):
    offered = [str(getattr(k, "value", k)) for k in (client.capability("general.position_encodings") or [])]
    # UTF-8 only when the client offers it; else the UTF-16 every client
    # must understand.
    assert client.encoding == ("utf-8" if "utf-8" in offered else "utf-16")
    capabilities = client.init_result.capabilities
    assert client.init_result.server_info.name == "chalice-iam"
    sync = capabilities.text_document_sync
    assert sync.open_close and sync.change == types.TextDocumentSyncKind.Incremental
    assert "chalice-iam.showPolicy" in capabilities.execute_command_provider.commands

    # A client that can register file watchers is asked to watch the
    # project's sources and .chalice files; other clients are asked
    # nothing (the conftest records any request they would not understand).
    if client.capability("workspace.did_change_watched_files.dynamic_registration", False):
        registration = await wait_until(
            lambda: next((r for r in client.registrations if r.method == "workspace/didChangeWatchedFiles"), None),
            "a didChangeWatchedFiles registration",
        )
        # Registration options arrive as plain JSON.
        globs = [w["globPattern"] for w in registration.register_options["watchers"]]
        for relative in ("app.py", "chalicelib/db.py", ".chalice/config.json", ".chalice/policy-dev.json"):
            assert any(glob_matches(g, relative) for g in globs), f"{relative} is not watched: {globs}"
    else:
        await wait_until(lambda: any("loaded 1 Chalice project" in m.message for m in client.log_messages), "loading")
        assert [r.method for r in client.registrations if r.method == "workspace/didChangeWatchedFiles"] == []


async def test_diagnostics_in_the_negotiated_encoding(client: Client):
    text = await open_app(client)
    published = await published_version(client, client.project.app_uri, 1)
    assert len(published.diagnostics) == 2, published.diagnostics
    assert warnings_by_action(published.diagnostics) == expected_calls(text, client.encoding)
    # The columns do depend on the encoding here, so a right answer in the
    # wrong encoding cannot pass.
    assert expected_calls(text, "utf-8") != expected_calls(text, "utf-16")


def as_sent_back(client: Client, diagnostic: types.Diagnostic, text: str) -> types.Diagnostic:
    """The diagnostic as this editor sends it back in a code action request.
    An editor that does not declare `publishDiagnostics.dataSupport` may
    drop `data`; Neovim 0.7 sends byte columns whatever was negotiated."""
    if not client.capability("text_document.publish_diagnostics.data_support", False):
        diagnostic = attrs.evolve(diagnostic, data=None)
    if client.spec == "neovim@v0.7.0":
        start = index_of(text, diagnostic.range.start, client.encoding)
        end = index_of(text, diagnostic.range.end, client.encoding)
        diagnostic = attrs.evolve(diagnostic, range=span(text, start, end, "utf-8"))
    return diagnostic


async def apply_quick_fix(client: Client, diagnostic: types.Diagnostic, text: str, creates_file: bool) -> dict:
    """Asks for the quick fix of `diagnostic` as the editor would, applies
    its edit to disk and tells the server as the editor would; returns the
    files changed."""
    sent = as_sent_back(client, diagnostic, text)
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=client.project.app_uri),
            range=sent.range,
            context=types.CodeActionContext(diagnostics=[sent]),
        )
    )
    quick_fixes = [a for a in actions if isinstance(a, types.CodeAction) and a.kind == types.CodeActionKind.QuickFix]
    assert len(quick_fixes) == 1, actions
    fix = quick_fixes[0]
    action = diagnostic.message.split(" ", 1)[0]
    assert action in fix.title, fix.title

    # The edit's shape follows the client: documentChanges where it supports
    # them (and, to create a file, CreateFile), plain `changes` otherwise.
    edit = fix.edit
    resource_operations = [
        str(getattr(k, "value", k)) for k in client.capability("workspace.workspace_edit.resource_operations", [])
    ]
    document_changes = client.capability("workspace.workspace_edit.document_changes", False) and (
        not creates_file or "create" in resource_operations
    )
    if document_changes:
        assert edit.changes is None, edit
        assert any(isinstance(c, types.CreateFile) for c in edit.document_changes) == creates_file, edit
    else:
        assert edit.document_changes is None and edit.changes, edit

    touched = apply_workspace_edit(edit, client.encoding)
    # An editor that registered watchers reports the files it saved; for
    # the others, the server has to notice on its own.
    if any(r.method == "workspace/didChangeWatchedFiles" for r in client.registrations):
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[types.FileEvent(uri=path.as_uri(), type=kind) for path, kind in sorted(touched.items())]
            )
        )
    return touched


async def test_quick_fixes_applied_on_disk_clear_the_diagnostics(client: Client):
    project = client.project
    config = project.root / ".chalice" / "config.json"
    policy_file = project.root / ".chalice" / "policy-dev.json"
    text = await open_app(client)
    expected = expected_calls(text, client.encoding)
    published = await published_version(client, project.app_uri, 1)
    scan = next(d for d in published.diagnostics if d.message.startswith("dynamodb:Scan"))

    # Granting Scan turns autogen off and writes a policy file with Scan.
    assert await apply_quick_fix(client, scan, text, creates_file=True) == {
        config: types.FileChangeType.Changed,
        policy_file: types.FileChangeType.Created,
    }
    dev = json.loads(config.read_text(encoding="utf-8"))["stages"]["dev"]
    assert dev["autogen_policy"] is False and dev["iam_policy_file"] == "policy-dev.json"
    assert "dynamodb:Scan" in policy_actions(policy_file.read_text(encoding="utf-8"))

    # Then only Query is missing, now from that policy file, at the same place.
    def query_missing_from_the_file():
        p = client.published.get(project.app_uri)
        if p is None or any(d.message.startswith("dynamodb:Scan") for d in p.diagnostics):
            return None
        return next((d for d in p.diagnostics if d.code == "CIAM007" and d.message.startswith("dynamodb:Query")), None)

    query = await wait_until(query_missing_from_the_file, "Scan to be granted and Query to be missing from the file")
    assert query.range == expected["dynamodb:Query"]
    assert len(client.published[project.app_uri].diagnostics) == 1

    # Granting it edits the policy file alone.
    assert await apply_quick_fix(client, query, text, creates_file=False) == {policy_file: types.FileChangeType.Changed}
    assert {"dynamodb:Query", "dynamodb:Scan"} <= policy_actions(policy_file.read_text(encoding="utf-8"))

    # Then nothing is left to warn about, in app.py or any other file (the
    # server publishes each file's diagnostics separately, so wait for all).
    def all_clear():
        app = client.published.get(project.app_uri)
        serious = [
            (uri, d)
            for uri, params in client.published.items()
            for d in params.diagnostics
            if d.severity <= types.DiagnosticSeverity.Warning
        ]
        return app is not None and len(app.diagnostics) == 0 and not serious and app

    remaining = await wait_until(all_clear, "every warning to clear")
    assert remaining.version == 1


async def test_hover_names_the_action(client: Client):
    text = await open_app(client)
    for method, action in (("scan", "dynamodb:Scan"), ("query", "dynamodb:Query")):
        # Inside the method name, after the non-ASCII prefix on its line.
        at = text.index(f".{method}(") + 2
        hover = await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=client.project.app_uri),
                position=position(text, at, client.encoding),
            )
        )
        assert hover is not None, f"no hover on {method}"
        assert isinstance(hover.contents, types.MarkupContent), hover
        assert hover.contents.kind == types.MarkupKind.Markdown
        assert action in hover.contents.value, hover.contents.value
    # Off any call, nothing.
    nothing = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=client.project.app_uri),
            position=types.Position(line=0, character=1),
        )
    )
    assert nothing is None


async def test_code_lenses_over_the_handlers(client: Client):
    text = await open_app(client)
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=client.project.app_uri))
    )
    # Over each handler's name, with the actions it needs.
    handlers = [("get_threads", "dynamodb:Scan"), ("get_forum_threads", "dynamodb:Query")]
    assert len(lenses) == len(handlers), lenses
    for lens, (name, action) in zip(sorted(lenses, key=lambda l: l.range.start.line), handlers):
        at = text.index(f"def {name}(") + len("def ")
        assert lens.range == span(text, at, at + len(name), client.encoding), lens
        assert action in lens.command.title, lens.command.title
        assert lens.command.command == "chalice-iam.showPolicy"
        assert [uri_path(a) for a in lens.command.arguments] == [client.project.root]
        # Running the lens's command shows the project's policy.
        policy = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=lens.command.command, arguments=lens.command.arguments)
        )
        assert {"dynamodb:Query", "dynamodb:Scan"} <= policy_actions(policy)


async def test_show_policy(client: Client):
    await wait_until(lambda: any("loaded 1 Chalice project" in m.message for m in client.log_messages), "loading")
    for arguments in ([client.project.uri], [str(client.project.root)], None):
        policy = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="chalice-iam.showPolicy", arguments=arguments)
        )
        assert isinstance(policy, str), policy
        actions = policy_actions(policy)
        assert {"dynamodb:Query", "dynamodb:Scan"} <= actions, actions
        assert not {a for a in actions if a.startswith("dynamodb:")} - {"dynamodb:Query", "dynamodb:Scan"}


async def test_incremental_edits_break_and_restore_the_syntax(client: Client):
    original = await open_app(client)
    await published_version(client, client.project.app_uri, 1)
    expected = expected_calls(original, client.encoding)

    # Break the scan line after its call, with non-ASCII in the new text:
    # an unterminated string.
    at = original.index(SCAN_CALL) + len(SCAN_CALL)
    broken_tail = " + 'エラー😀"
    broken = change(client, 2, original, at, at, broken_tail)
    published = await published_version(client, client.project.app_uri, 2)
    # One syntax error, from the unterminated string on; the calls did not
    # move and are still reported where they are.
    syntax = [d for d in published.diagnostics if d.code == SYNTAX_ERROR]
    assert len(syntax) == 1, published.diagnostics
    assert syntax[0].range.start == position(broken, at + len(" + "), client.encoding)
    assert syntax[0].severity == types.DiagnosticSeverity.Information
    assert warnings_by_action(published.diagnostics) == expected
    assert len(published.diagnostics) == 3, published.diagnostics

    # Take it out again: back to exactly the two warnings.
    restored = change(client, 3, broken, at, at + len(broken_tail), "")
    assert restored == original
    published = await published_version(client, client.project.app_uri, 3)
    assert len(published.diagnostics) == 2, published.diagnostics
    assert warnings_by_action(published.diagnostics) == expected


async def test_shutdown_and_exit(client: Client):
    await open_app(client)
    await published_version(client, client.project.app_uri, 1)
    assert await client.shutdown_async(None) is None
    client.exit(None)
    server = client._server
    await asyncio.wait_for(server.wait(), TIMEOUT)
    # LSP: exit code 0 when `shutdown` came first.
    assert server.returncode == 0
