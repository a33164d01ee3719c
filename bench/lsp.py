"""A minimal LSP client for the benchmarks: drives `chalice-iam lsp` over
stdio and times what an editor would wait for.

Timestamps are taken when a message's body has been read, before it is
decoded, so the client's own JSON decoding of large diagnostics lists is
not charged to the server.
"""
import json
import os
import queue
import subprocess
import threading
import time
import urllib.parse


def file_uri(path):
    return 'file://' + urllib.parse.quote(os.path.abspath(path))


class Server:
    def __init__(self, binary, cwd):
        self.proc = subprocess.Popen(
            [binary, 'lsp'], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=cwd
        )
        self.messages = queue.Queue()
        self.next_id = 0
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    self.messages.put((time.perf_counter(), None))
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.partition(b':')
                if name.lower() == b'content-length':
                    length = int(value)
            body = out.read(length)
            self.messages.put((time.perf_counter(), body))

    def send(self, message):
        body = json.dumps(message).encode('utf-8')
        self.proc.stdin.write(b'Content-Length: %d\r\n\r\n' % len(body) + body)
        self.proc.stdin.flush()
        return time.perf_counter()

    def request(self, method, params):
        self.next_id += 1
        return self.next_id, self.send({'jsonrpc': '2.0', 'id': self.next_id, 'method': method, 'params': params})

    def notify(self, method, params):
        return self.send({'jsonrpc': '2.0', 'method': method, 'params': params})

    def wait(self, predicate, timeout=120):
        """The first message (time, decoded) satisfying `predicate`;
        requests from the server are answered on the way."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError('no matching message from the language server')
            at, body = self.messages.get(timeout=left)
            if body is None:
                raise RuntimeError('the language server exited')
            msg = json.loads(body)
            if 'id' in msg and 'method' in msg:
                # workspace/configuration, client/registerCapability...
                result = [None for _ in msg.get('params', {}).get('items', [])] if msg['method'] == 'workspace/configuration' else None
                self.send({'jsonrpc': '2.0', 'id': msg['id'], 'result': result})
                continue
            if predicate(msg):
                return at, msg

    def initialize(self, root):
        params = {
            'processId': os.getpid(),
            'rootUri': file_uri(root),
            'workspaceFolders': [{'uri': file_uri(root), 'name': os.path.basename(root)}],
            'capabilities': {
                # What VS Code offers: UTF-16 positions only, versioned
                # diagnostics.
                'general': {'positionEncodings': ['utf-16']},
                'textDocument': {'publishDiagnostics': {'versionSupport': True}},
            },
        }
        rid, sent = self.request('initialize', params)
        self.wait(lambda m: m.get('id') == rid)
        self.notify('initialized', {})
        return sent

    def shutdown(self):
        try:
            rid, _ = self.request('shutdown', None)
            self.wait(lambda m: m.get('id') == rid, timeout=30)
            self.notify('exit', None)
            self.proc.wait(timeout=30)
        except Exception:
            self.proc.kill()
            self.proc.wait()

    def rss_kib(self):
        """Current and peak resident set size of the server, in KiB."""
        fields = {}
        with open(f'/proc/{self.proc.pid}/status') as f:
            for line in f:
                name, _, value = line.partition(':')
                fields[name] = value.strip()
        return int(fields['VmRSS'].split()[0]), int(fields['VmHWM'].split()[0])


def is_diagnostics(uri=None, version=None):
    def pred(m):
        if m.get('method') != 'textDocument/publishDiagnostics':
            return False
        p = m['params']
        return (uri is None or p['uri'] == uri) and (version is None or p.get('version') == version)
    return pred


def first_diagnostics(binary, root):
    """Milliseconds from sending `initialize` to the first
    publishDiagnostics (no document open: the workspace load)."""
    s = Server(binary, root)
    try:
        sent = s.initialize(root)
        at, _ = s.wait(is_diagnostics())
        return (at - sent) * 1000
    finally:
        s.shutdown()


def utf16_len(text):
    return len(text.encode('utf-16-le')) // 2


def position(text, offset):
    """LSP position (UTF-16 columns) of a character offset of `text`."""
    line = text.count('\n', 0, offset)
    start = text.rfind('\n', 0, offset) + 1
    return {'line': line, 'character': utf16_len(text[start:offset])}


def edit_script(text, count):
    """`count` deterministic edits spread over the file, as (kind, start,
    end, new_text) on character offsets of the text at that point.

    keep:   type a character at the end of an identifier, or delete it
            again (the file stays parseable);
    break:  delete the colon ending a `def` line, or open a parenthesis
            at the end of a statement (what half-typed code looks like);
    repair: undo the previous break.
    """
    lines = text.split('\n')
    starts = [0]
    for ln in lines[:-1]:
        starts.append(starts[-1] + len(ln) + 1)
    defs = [i for i, ln in enumerate(lines) if ln.lstrip().startswith('def ') and ln.rstrip().endswith(':')]
    stmts = [i for i, ln in enumerate(lines) if ln.startswith('    ') and ln.rstrip().endswith(')') and '=' in ln]
    idents = [i for i, ln in enumerate(lines) if ln.startswith('    ') and ' = ' in ln]
    script = []
    # Edits are made and undone in pairs at the same place, so every offset
    # computed on the original text stays valid.
    n = 0
    while len(script) < count:
        if n % 4 == 3:
            if n % 8 == 3:
                i = defs[(n * 37) % len(defs)]
                colon = starts[i] + len(lines[i].rstrip()) - 1
                script.append(('break', colon, colon + 1, ''))
                script.append(('repair', colon, colon, ':'))
            else:
                i = stmts[(n * 41) % len(stmts)]
                end = starts[i] + len(lines[i].rstrip())
                script.append(('break', end, end, ' + ('))
                script.append(('repair', end, end + 4, ''))
        else:
            i = idents[(n * 31) % len(idents)]
            name_end = starts[i] + lines[i].index(' = ')
            script.append(('keep', name_end, name_end, 'x'))
            script.append(('keep', name_end, name_end + 1, ''))
        n += 1
    return script[:count]


def open_and_wait(s, root, rel):
    """Initializes `s` on `root`, opens `rel` (version 1) and waits for its
    diagnostics: the document's URI and text, when didOpen was sent and
    when the diagnostics arrived."""
    path = os.path.join(root, rel)
    uri = file_uri(path)
    with open(path, encoding='utf-8') as f:
        text = f.read()
    s.initialize(root)
    sent = s.notify('textDocument/didOpen', {'textDocument': {'uri': uri, 'languageId': 'python', 'version': 1, 'text': text}})
    at, _ = s.wait(is_diagnostics(uri, 1))
    return uri, text, sent, at


def keystrokes(binary, root, rel, count):
    """Latency in ms from sending each didChange to receiving the
    publishDiagnostics for that version, by edit kind; plus the time from
    didOpen to the first diagnostics of the opened file."""
    s = Server(binary, root)
    try:
        uri, text, sent, at = open_and_wait(s, root, rel)
        open_ms = (at - sent) * 1000
        # Typing starts a quarter of a second after the file's diagnostics
        # arrive, as a user's first keystroke comes some time after opening
        # a file: what the server does once the file is open (it settles the
        # new parse, see `python::settle`) is done by then.
        time.sleep(0.25)
        by_kind = {}
        version = 1
        for kind, start, end, new in edit_script(text, count):
            version += 1
            change = {'range': {'start': position(text, start), 'end': position(text, end)}, 'text': new}
            text = text[:start] + new + text[end:]
            sent = s.notify('textDocument/didChange', {'textDocument': {'uri': uri, 'version': version}, 'contentChanges': [change]})
            at, _ = s.wait(is_diagnostics(uri, version))
            by_kind.setdefault(kind, []).append((at - sent) * 1000)
        return open_ms, by_kind
    finally:
        s.shutdown()


def memory(binary, root, rel):
    """The server's resident memory (KiB, current and peak) once the
    project is loaded, `rel` is open and its diagnostics are published."""
    s = Server(binary, root)
    try:
        open_and_wait(s, root, rel)
        # Let the workspace load's publish settle too.
        time.sleep(0.5)
        return s.rss_kib()
    finally:
        s.shutdown()
