"""Fixtures: a copy of examples/thread-resource per test, and a client
that starts `chalice-iam lsp` and initializes it with the capabilities an
editor recorded (pytest-lsp ships them)."""

from __future__ import annotations

import asyncio
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES

from helpers import TIMEOUT

ROOT = Path(__file__).resolve().parents[2]
SERVER = os.environ.get("SERVER", "")

# Every recorded client this suite runs against: VS Code, each Neovim from
# 0.7 (Debian 12's) on, and Emacs. test_every_recorded_client_is_covered
# fails when a pytest-lsp update brings a recording that is not listed here.
CLIENTS = [
    "visual-studio-code@v1.65.2",
    "neovim@v0.7.0",
    "neovim@v0.8.0",
    "neovim@v0.9.1",
    "neovim@v0.10.0",
    "neovim@v0.11.0",
    "emacs@v29.1",
]

# Put before each boto3 call of app.py, on the same line, so that the
# calls' columns differ between UTF-8, UTF-16 and UTF-32 (a Japanese
# identifier, and a string with an emoji, which UTF-16 encodes as a
# surrogate pair).
NON_ASCII_PREFIX = "ラベル = '全件😀'; "
SCAN_CALL = "dynamo_resource.Table(TABLE_NAME).scan()"
QUERY_CALL_START = "dynamo_resource.Table(TABLE_NAME).query("


def pytest_configure(config):
    if not SERVER or not os.access(SERVER, os.X_OK):
        raise pytest.UsageError(f"set SERVER to the chalice-iam binary (got {SERVER!r}); tests/pytest-lsp/run does")


@dataclass
class Project:
    root: Path

    @property
    def uri(self) -> str:
        return self.root.as_uri()

    @property
    def app(self) -> Path:
        return self.root / "app.py"

    @property
    def app_uri(self) -> str:
        return self.app.as_uri()


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """examples/thread-resource, in a directory whose name has a space and
    Japanese in it (so its URIs are percent-encoded), with non-ASCII text
    before each call. Canonical, so the server's paths and ours agree."""
    root = tmp_path.resolve() / "スレッド app"
    shutil.copytree(ROOT / "examples" / "thread-resource", root)
    app = root / "app.py"
    text = app.read_text(encoding="utf-8")
    for call in (SCAN_CALL, QUERY_CALL_START):
        assert text.count(f"items = {call}") == 1, f"examples/thread-resource/app.py changed: no `items = {call}`"
        text = text.replace(f"items = {call}", f"{NON_ASCII_PREFIX}items = {call}")
    app.write_text(text, encoding="utf-8")
    return Project(root)


class Client(LanguageClient):
    """pytest-lsp's client, also recording what it needs to answer as the
    recorded editor would: full publishDiagnostics (with the version), the
    registrations the server asks for, and any request the editor would not
    have understood."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.spec = ""
        self.project: Project | None = None
        self.init_result: types.InitializeResult | None = None
        self.published: dict[str, types.PublishDiagnosticsParams] = {}
        self.registrations: list[types.Registration] = []
        # Things the server did that this client's capabilities rule out.
        self.violations: list[str] = []

    @property
    def encoding(self) -> str:
        assert self.init_result is not None
        encoding = self.init_result.capabilities.position_encoding
        # LSP 3.17: a server that names none uses UTF-16.
        return "utf-16" if encoding is None else str(encoding.value if hasattr(encoding, "value") else encoding)

    def capability(self, dotted: str, default=None):
        """A capability this client declared, by its snake_case path
        (`workspace.workspace_edit.document_changes`), or `default`."""
        value = self.capabilities
        for name in dotted.split("."):
            value = getattr(value, name, None)
            if value is None:
                return default
        return value


def make_client() -> Client:
    client = Client(converter_factory=default_converter)
    features = dict(DEFAULT_CLIENT_FEATURES)
    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = _publish_diagnostics
    features[types.WORKSPACE_CONFIGURATION] = _configuration
    features[types.CLIENT_REGISTER_CAPABILITY] = _register_capability
    for method, handler in features.items():
        client.feature(method)(handler)
    return client


def _publish_diagnostics(client: Client, params: types.PublishDiagnosticsParams):
    client.diagnostics[params.uri] = params.diagnostics
    client.published[params.uri] = params


def _configuration(client: Client, params: types.ConfigurationParams):
    if not client.capability("workspace.configuration", False):
        client.violations.append("workspace/configuration sent to a client that does not support it")
    # No chalice-iam settings in this editor: null, as Neovim answers.
    return [None for _ in params.items]


# The capability that allows registering each method dynamically.
DYNAMIC_REGISTRATION = {
    types.WORKSPACE_DID_CHANGE_WATCHED_FILES: "workspace.did_change_watched_files.dynamic_registration",
    types.WORKSPACE_DID_CHANGE_CONFIGURATION: "workspace.did_change_configuration.dynamic_registration",
}


def _register_capability(client: Client, params: types.RegistrationParams):
    for registration in params.registrations:
        allowed = DYNAMIC_REGISTRATION.get(registration.method)
        if allowed is None or not client.capability(allowed, False):
            client.violations.append(f"{registration.method} registered with a client that cannot register it")
        client.registrations.append(registration)
    return None


@pytest_lsp.fixture(
    params=CLIENTS,
    config=ClientServerConfig(server_command=[SERVER, "lsp"], client_factory=make_client),
)
async def client(lsp_client: Client, request, project: Project):
    lsp_client.spec = request.param
    lsp_client.project = project
    capabilities = client_capabilities(request.param)
    lsp_client.init_result = await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities,
            client_info=types.ClientInfo(name=request.param),
            # Both, as the recorded editors send both.
            root_uri=project.uri,
            root_path=str(project.root),
            workspace_folders=[types.WorkspaceFolder(uri=project.uri, name=project.root.name)],
        )
    )
    yield

    server = lsp_client._server
    if server is not None and server.returncode is None:
        await asyncio.wait_for(lsp_client.shutdown_session(), TIMEOUT)
        assert server.returncode == 0, f"exit code {server.returncode} after shutdown and exit"
    assert lsp_client.violations == []
    errors = [m.message for m in lsp_client.log_messages if m.type == types.MessageType.Error]
    assert errors == [], "the server logged errors"
