#!/usr/bin/env python3
"""Check every analysis fixture against what boto3 really sends.

Usage: oracle.py [-j JOBS] [--self-test] [--results FILE] [FIXTURE_OR_DIR ...]
(default: tests/fixtures/analysis; directories are searched recursively).
Run it through tests/oracle/run, which provides the pinned venv.

For each fixture the project files are written into a fresh temporary
directory and, inside ``moto.mock_aws()`` (a fresh process per fixture, so no
state leaks between fixtures):

1. the ``setup`` section runs (nothing recorded);
2. recording starts: a ``before-call`` handler on every botocore session
   records ``(client name, OperationName)`` for each API call;
3. the ``run`` section runs (it imports the project's modules and calls its
   handlers); every call expression in the project files must execute at
   least once (a line tracer checks this), so that no expected operation
   goes unverified;
4. the recorded set is compared with the ``expect`` section: every plain
   line must have been recorded, and every recorded operation must be listed
   as a plain or ``?`` line. ``~`` lines (needed but never sent, e.g. the
   operation behind a presigned URL) must NOT be recorded.

Header lines before the first section (after the description line):

  # oracle: short-circuit <client> <Operation> [<Operation> ...]
      these operations are recorded but not sent to moto (which does not
      implement them); the call returns an empty successful response.
  # oracle: timeout <seconds>
      per-fixture time limit (default 60).
  # oracle: must-send <client> <Operation> [<Operation> ...]
  # oracle: must-not-send <client> <Operation> [<Operation> ...]
      for operations the expect section can only mark `?` (static analysis
      cannot know a file's size), what THIS run must (not) send: a fixture
      uploading a large file must send CreateMultipartUpload and not
      PutObject.
  # oracle: expect-failure <text>
      only in tests/oracle/selftest/ (run with --self-test): the fixture is
      wrong on purpose; it passes when the oracle rejects it with a message
      containing <text>.
"""

import argparse
import multiprocessing
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_DIR = os.path.join(REPO, 'tests', 'fixtures', 'analysis')
SELFTEST_DIR = os.path.join(HERE, 'selftest')
DEFAULT_TIMEOUT = 60
MOTO_CONFIG = {'lambda': {'use_docker': False}}
_PARENT_MOCK = None
_SHARED_LOADER = None
# Services whose botocore (and boto3 resource) models preload() parses once.
WARM_CLIENTS = ('dynamodb', 's3', 'sqs', 'sns', 'ec2', 'iam', 'cloudwatch', 'cloudformation', 'glacier',
                'lambda', 'ssm', 'secretsmanager', 'stepfunctions', 'sts', 'logs', 'kms')


class FixtureError(Exception):
    pass


# --------------------------------------------------------------------------
# Fixture format
# --------------------------------------------------------------------------

def parse_fixture(path):
    with open(path, encoding='utf-8') as f:
        text = f.read()
    lines = text.split('\n')
    if not lines or not lines[0].startswith('# '):
        raise FixtureError('first line must be "# <description>"')
    fx = {
        'name': os.path.basename(path),
        'description': lines[0][2:].strip(),
        'files': {},          # relative path -> source
        'setup': '',
        'run': None,
        'expect_text': None,
        'short_circuit': set(),
        'must_send': set(),
        'must_not_send': set(),
        'timeout': DEFAULT_TIMEOUT,
        'expect_failure': None,
    }
    current = None
    body = []
    sections = []

    def flush():
        if current is not None:
            sections.append((current, '\n'.join(body).rstrip('\n') + '\n'))

    for lineno, line in enumerate(lines[1:], start=2):
        if line.startswith('#- '):
            flush()
            current = line[3:].strip()
            body = []
            if not current:
                raise FixtureError(f'line {lineno}: empty section name')
            continue
        if current is None:
            stripped = line.strip()
            if stripped.startswith('# oracle:'):
                words = stripped[len('# oracle:'):].split()
                if words[:1] == ['short-circuit'] and len(words) >= 3:
                    for op in words[2:]:
                        fx['short_circuit'].add((words[1], op))
                elif words[:1] in (['must-send'], ['must-not-send']) and len(words) >= 3:
                    key = 'must_send' if words[0] == 'must-send' else 'must_not_send'
                    for op in words[2:]:
                        fx[key].add((words[1], op))
                elif words[:1] == ['timeout'] and len(words) == 2:
                    fx['timeout'] = float(words[1])
                elif words[:1] == ['expect-failure'] and len(words) >= 2:
                    fx['expect_failure'] = ' '.join(words[1:])
                else:
                    raise FixtureError(f'line {lineno}: bad oracle directive: {line}')
            elif stripped and not stripped.startswith('#'):
                raise FixtureError(f'line {lineno}: text before the first section')
            continue
        body.append(line)
    flush()

    seen = set()
    for name, content in sections:
        if name in seen:
            raise FixtureError(f'duplicate section {name!r}')
        seen.add(name)
        if name == 'setup':
            fx['setup'] = content
        elif name == 'run':
            fx['run'] = content
        elif name == 'expect':
            fx['expect_text'] = content
        else:
            norm = os.path.normpath(name)
            if norm.startswith('..') or os.path.isabs(norm) or not norm.endswith('.py'):
                raise FixtureError(f'bad project file path {name!r}')
            fx['files'][norm] = content
    if 'app.py' not in fx['files']:
        raise FixtureError('no app.py section')
    if fx['run'] is None:
        raise FixtureError('no run section')
    if fx['expect_text'] is None:
        raise FixtureError('no expect section')
    fx['expect'] = parse_expect(fx['expect_text'])
    fx['dependent'] = parse_dependent(fx['expect_text'])
    listed = fx['expect']['must'] | fx['expect']['may'] | fx['expect']['never_sent']
    for client, op, action in sorted(fx['dependent'] or ()):
        if (client, op) not in listed:
            raise FixtureError(f'dependent action {action} names {client} {op}, which the expect section does not list')
    # must-send / must-not-send narrow what the expect section allows; they
    # make no sense for an operation it does not allow at all.
    allowed = fx['expect']['must'] | fx['expect']['may']
    for key in sorted((fx['must_send'] | fx['must_not_send']) - allowed):
        raise FixtureError(f'must-send/must-not-send names {key[0]} {key[1]}, which the expect section does not allow')
    if fx['must_send'] & fx['must_not_send']:
        raise FixtureError('an operation is both must-send and must-not-send')
    return fx


def read_expect_failure(path):
    """The expect-failure directive of a header, read without a full parse."""
    with open(path, encoding='utf-8') as f:
        for line in f:
            if line.startswith('#- '):
                break
            words = line.strip()[len('# oracle:'):].split() if line.startswith('# oracle:') else []
            if words[:1] == ['expect-failure'] and len(words) >= 2:
                return ' '.join(words[1:])
    return None


def parse_expect(text):
    """Return {'must': set, 'may': set, 'never_sent': set} of (client, Op)."""
    out = {'must': set(), 'may': set(), 'never_sent': set()}
    for raw in text.split('\n'):
        line = raw.strip()
        if not line or line.startswith('#'):
            continue
        if line.startswith('+ '):
            continue  # a dependent action (parse_dependent)
        kind = 'must'
        if line.startswith('? '):
            kind, line = 'may', line[2:].strip()
        elif line.startswith('~ '):
            kind, line = 'never_sent', line[2:].strip()
        parts = line.split()
        if len(parts) != 2:
            raise FixtureError(f'bad expect line: {raw!r}')
        key = (parts[0], parts[1])
        # A `~` line may repeat an operation another call really sends (a
        # presigned URL for get_object beside a get_object call); `must` and
        # `may` lines exclude each other.
        clash = [k for k, other in out.items() if key in other and (k == kind or 'never_sent' not in (k, kind))]
        if clash:
            raise FixtureError(f'duplicate expect line: {raw!r}')
        out[kind].add(key)
    return out


def parse_dependent(text):
    """`+ <client> <Operation> <prefix:Action>` lines: the dependent actions
    (kms:Decrypt, iam:PassRole) static analysis must attach to the calls
    sending that operation; `+ none` says it must attach none. Returns a set
    of (client, Operation, action), or None when the fixture has no `+`
    line (its dependent actions are then not checked). Nothing runs them:
    moto does not enforce IAM; the oracle checks that the operation is one
    the fixture lists, so the call behind each hint is proven to be sent."""
    out = None
    for raw in text.split('\n'):
        line = raw.strip()
        if not line.startswith('+ '):
            continue
        out = set() if out is None else out
        parts = line[2:].split()
        if parts == ['none']:
            continue
        if len(parts) != 3 or ':' not in parts[2]:
            raise FixtureError(f'bad dependent-action line: {raw!r}')
        out.add(tuple(parts))
    return out


def validate_expect_names(fx):
    """Every expect line must name a real botocore client and operation."""
    import botocore.session
    session = botocore.session.get_session()
    if _SHARED_LOADER is not None:
        session.register_component('data_loader', _SHARED_LOADER)
    available = set(session.get_available_services())
    models = {}
    for kind in fx['expect'].values():
        for client, op in kind:
            if client not in available:
                raise FixtureError(f'unknown client name {client!r}')
            if client not in models:
                models[client] = session.get_service_model(client)
            if op not in models[client].operation_names:
                raise FixtureError(f'{client} has no operation {op!r}')
    for client, op in fx['short_circuit']:
        if client not in available or op not in session.get_service_model(client).operation_names:
            raise FixtureError(f'short-circuit names unknown operation {client} {op}')


# --------------------------------------------------------------------------
# Recording
# --------------------------------------------------------------------------

class Recorder:
    HANDLER_ID = 'chalice-iam-oracle-recorder'

    def __init__(self, project_dir, short_circuit):
        self.project_dir = os.path.realpath(project_dir) + os.sep
        self.short_circuit = short_circuit
        self.active = False
        self.recorded = set()
        self.stray = []          # calls made from the run section itself
        self.lock = threading.Lock()

    def install(self):
        """Register on every botocore session, existing and future."""
        import boto3
        import botocore.session
        recorder = self
        original_init = botocore.session.Session.__init__

        def patched_init(session, *args, **kwargs):
            original_init(session, *args, **kwargs)
            if _SHARED_LOADER is not None:
                session.register_component('data_loader', _SHARED_LOADER)
            recorder.register(session)

        botocore.session.Session.__init__ = patched_init
        if boto3.DEFAULT_SESSION is not None:
            self.register(boto3.DEFAULT_SESSION._session)

    def register(self, session):
        # First among the most specific before-call handlers, so that it also
        # sees calls that botocore's Stubber answers (the Stubber registers a
        # before-call.*.* handler on the client, which would otherwise run
        # first and end the event).
        session.get_component('event_emitter').register_first(
            'before-call.*.*', self.before_call, unique_id=self.HANDLER_ID)

    def _from_project(self):
        frame = sys._getframe(1)
        while frame is not None:
            fname = frame.f_code.co_filename
            if os.path.isabs(fname) and os.path.realpath(fname).startswith(self.project_dir):
                return True
            frame = frame.f_back
        return False

    def before_call(self, model, **kwargs):
        if not self.active:
            return None
        # The client name the user passed to boto3.client()/resource():
        # ServiceModel.service_name (e.g. 'cloudwatch', not the endpoint
        # prefix 'monitoring'; 'stepfunctions', not 'states').
        key = (model.service_model.service_name, model.name)
        with self.lock:
            self.recorded.add(key)
            # s3transfer sends from worker threads; only calls made on the
            # main thread can be attributed by their stack.
            if threading.current_thread() is threading.main_thread() and not self._from_project():
                self.stray.append(key)
        if key in self.short_circuit:
            return (_FakeHTTPResponse(), {'ResponseMetadata': {'HTTPStatusCode': 200}})
        return None


class LineTracer:
    """Which lines of the project files ran (to prove every call executed)."""

    def __init__(self, project_dir):
        self.project_dir = os.path.realpath(project_dir) + os.sep
        self.lines = {}          # realpath -> set of line numbers
        self._known = {}         # co_filename -> realpath or None

    def _file(self, co_filename):
        if co_filename not in self._known:
            real = os.path.realpath(co_filename) if os.path.isabs(co_filename) else None
            self._known[co_filename] = real if real and real.startswith(self.project_dir) else None
        return self._known[co_filename]

    def _global(self, frame, event, arg):
        path = self._file(frame.f_code.co_filename)
        if path is None:
            return None
        lines = self.lines.setdefault(path, set())
        lines.add(frame.f_lineno)

        def local(frame, event, arg):
            if event == 'line':
                lines.add(frame.f_lineno)
            return local
        return local

    def start(self):
        threading.settrace(self._global)
        sys.settrace(self._global)

    def stop(self):
        sys.settrace(None)
        threading.settrace(None)


def unexecuted_calls(project_dir, files, executed):
    """Every call expression in the project files must have run."""
    import ast
    missing = []
    for rel, src in sorted(files.items()):
        path = os.path.realpath(os.path.join(project_dir, rel))
        ran = executed.get(path, set())
        for node in ast.walk(ast.parse(src, filename=rel)):
            if isinstance(node, ast.Call):
                if not any(line in ran for line in range(node.lineno, node.end_lineno + 1)):
                    missing.append((rel, node.lineno, ast.get_source_segment(src, node).split('\n')[0]))
    return sorted(set(missing))


class _FakeHTTPResponse:
    status_code = 200
    headers = {}
    content = b''
    text = ''
    raw = None


# --------------------------------------------------------------------------
# Running one fixture (in a child process)
# --------------------------------------------------------------------------

def _fresh_env():
    os.environ.update({
        'AWS_ACCESS_KEY_ID': 'testing',
        'AWS_SECRET_ACCESS_KEY': 'testing',
        'AWS_SECURITY_TOKEN': 'testing',
        'AWS_SESSION_TOKEN': 'testing',
        'AWS_DEFAULT_REGION': 'us-east-1',
        'AWS_EC2_METADATA_DISABLED': 'true',
        'AWS_CONFIG_FILE': os.devnull,
        'AWS_SHARED_CREDENTIALS_FILE': os.devnull,
    })
    for var in ('AWS_PROFILE', 'AWS_REGION', 'AWS_ENDPOINT_URL'):
        os.environ.pop(var, None)


def run_fixture(fx):
    """Return (recorded set, stray list, unexecuted calls). Raises on any error."""
    _fresh_env()
    import boto3
    import moto

    boto3.DEFAULT_SESSION = None
    project = tempfile.mkdtemp(prefix='oracle-')
    try:
        for rel, src in fx['files'].items():
            dest = os.path.join(project, rel)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            with open(dest, 'w', encoding='utf-8') as f:
                f.write(src)
        os.chdir(project)
        sys.path.insert(0, project)
        for mod in list(sys.modules):
            if mod == 'app' or mod == 'chalicelib' or mod.startswith('chalicelib.'):
                del sys.modules[mod]

        recorder = Recorder(project, fx['short_circuit'])
        recorder.install()
        with moto.mock_aws(config=MOTO_CONFIG):
            setup_ns = {'__name__': '__oracle_setup__'}
            exec(compile(fx['setup'], f'<{fx["name"]}:setup>', 'exec'), setup_ns)
            tracer = LineTracer(project)
            recorder.active = True
            tracer.start()
            try:
                run_ns = {'__name__': '__oracle_run__'}
                exec(compile(fx['run'], f'<{fx["name"]}:run>', 'exec'), run_ns)
            finally:
                tracer.stop()
                recorder.active = False
        return recorder.recorded, recorder.stray, unexecuted_calls(project, fx['files'], tracer.lines)
    finally:
        os.chdir('/')
        shutil.rmtree(project, ignore_errors=True)


def compare(fx, recorded):
    exp = fx['expect']
    problems = []
    for key in sorted(fx['must_send'] - recorded):
        problems.append(f'  must-send but not sent: {key[0]} {key[1]}')
    for key in sorted(fx['must_not_send'] & recorded):
        problems.append(f'  must-not-send but sent: {key[0]} {key[1]}')
    for key in sorted(exp['must'] - recorded):
        problems.append(f'  expected but not sent: {key[0]} {key[1]}')
    for key in sorted(recorded - exp['must'] - exp['may']):
        if key in exp['never_sent']:
            problems.append(f'  marked ~ (never sent) but sent: {key[0]} {key[1]}')
        else:
            problems.append(f'  sent but not expected: {key[0]} {key[1]}')
    return problems


# What the last check_one in this process recorded, for --results.
_LAST_RUN = {}


def check_one(path):
    """Returns (ok, message lines)."""
    _LAST_RUN.clear()
    try:
        fx = parse_fixture(path)
        validate_expect_names(fx)
    except FixtureError as e:
        return False, [f'  bad fixture: {e}']
    try:
        recorded, stray, unexecuted = run_fixture(fx)
    except BaseException:
        tb = traceback.format_exc().rstrip().split('\n')
        return False, ['  error while running:'] + ['    ' + l for l in tb[-12:]]
    _LAST_RUN['recorded'] = sorted(' '.join(k) for k in recorded)
    _LAST_RUN['short_circuited'] = sorted(' '.join(k) for k in recorded & fx['short_circuit'])
    problems = compare(fx, recorded)
    for key in sorted(set(stray)):
        problems.append(f'  sent from the run section, not from the project: {key[0]} {key[1]}')
    for rel, line, text in unexecuted:
        problems.append(f'  call never executed by the run section: {rel}:{line}: {text}')
    return not problems, problems


def check_expecting_failure(path):
    ok, msgs = check_one(path)
    wanted = read_expect_failure(path)
    if wanted is None:
        return ok, msgs
    text = '\n'.join(msgs)
    if ok:
        return False, [f'  accepted, but should fail with: {wanted}']
    if wanted not in text:
        return False, [f'  failed, but without: {wanted}'] + msgs
    return True, []


def _child(path, conn):
    try:
        ok, msgs = check_expecting_failure(path)
    except BaseException as e:  # pragma: no cover - defensive
        ok, msgs = False, [f'  oracle crashed: {e!r}']
    conn.send((ok, msgs, dict(_LAST_RUN)))
    conn.close()
    sys.stdout.flush()
    os._exit(0)


def _timed_out(path):
    wanted = read_expect_failure(path)
    if wanted is not None and wanted in 'timed out':
        return True, []
    return False, ['  timed out']


def fixture_timeout(path):
    try:
        return parse_fixture(path)['timeout']
    except Exception:
        return DEFAULT_TIMEOUT


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------

def _has_expect_failure(path):
    return read_expect_failure(path) is not None


def collect(args):
    """Fixture paths and their display labels (the path below the directory
    argument: `x.fixture` for a flat directory, `s3/x.fixture` below it)."""
    paths = []
    for arg in args or [DEFAULT_DIR]:
        arg = os.path.abspath(arg)
        if os.path.isdir(arg):
            found = []
            for root, dirs, files in os.walk(arg):
                dirs.sort()
                found.extend(os.path.join(root, n) for n in files if n.endswith('.fixture'))
            paths.extend((p, os.path.relpath(p, arg)) for p in sorted(found))
        else:
            paths.append((arg, os.path.basename(arg)))
    return paths


def preload():
    """Import the heavy modules once in the parent so forked children are fast."""
    _fresh_env()
    import boto3  # noqa: F401
    import boto3.s3.transfer  # noqa: F401
    import botocore.session
    import moto  # noqa: F401
    import chalice  # noqa: F401
    from moto.backends import get_backend
    for name in ('dynamodb', 's3', 'sqs', 'sns', 'ec2', 'iam', 'cloudwatch', 'cloudformation',
                 'glacier', 'lambda', 'ssm', 'secretsmanager', 'stepfunctions', 'sts', 'logs'):
        try:
            get_backend(name)
        except Exception:
            pass
    botocore.session.get_session().get_available_services()
    # The first EC2 backend loads moto's instance-type tables (over a second);
    # loaded once here, every forked child shares them.
    session = boto3.session.Session(region_name='us-east-1')
    with moto.mock_aws():
        session.client('ec2').describe_vpcs()
    # Every new botocore session parses the JSON models of the clients it
    # creates (megabytes for EC2) and lists the data directories: most of a
    # fixture's time. One loader, warmed here, is shared by every session the
    # children create (as a session shares one among its own clients); each
    # child has its own copy of it.
    global _SHARED_LOADER
    warm = boto3.session.Session(region_name='us-east-1', aws_access_key_id='x', aws_secret_access_key='x')
    for name in WARM_CLIENTS:
        warm.client(name)
    for name in warm.get_available_resources():
        warm.resource(name)
    _SHARED_LOADER = warm._loader
    # Starting a mock patches ~1300 URL handlers (a third of a second). Start
    # one here, with fresh empty backends, and leave it running: each forked
    # child inherits it, so run_fixture's mock_aws() only nests inside it,
    # and every fixture still begins from the empty backends of this moment.
    global _PARENT_MOCK
    _PARENT_MOCK = moto.mock_aws(config=MOTO_CONFIG)
    _PARENT_MOCK.start()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('-j', '--jobs', type=int, default=2)
    ap.add_argument('--self-test', action='store_true',
                    help='run the deliberately wrong fixtures in tests/oracle/selftest/ '
                         '(each must be rejected)')
    ap.add_argument('--results', metavar='FILE',
                    help='also write every fixture\'s outcome and recorded operations as JSON')
    ap.add_argument('paths', nargs='*')
    args = ap.parse_args(argv)
    labelled = collect(args.paths or ([SELFTEST_DIR] if args.self_test else []))
    labels = dict(labelled)
    paths = [p for p, _ in labelled]
    if not args.self_test:
        bad = [p for p in paths if _has_expect_failure(p)]
        if bad:
            print('expect-failure fixtures need --self-test: ' + ', '.join(bad))
            return 2
    if not paths:
        print('no fixtures found')
        print('0 passed, 0 failed')
        return 1
    preload()
    ctx = multiprocessing.get_context('fork')
    pending = list(paths)
    running = {}   # path -> (process, conn, deadline)
    results = {}
    started = {}
    start = time.monotonic()
    while pending or running:
        while pending and len(running) < max(1, args.jobs):
            path = pending.pop(0)
            parent_conn, child_conn = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child, args=(path, child_conn))
            proc.start()
            child_conn.close()
            started[path] = time.monotonic()
            running[path] = (proc, parent_conn, started[path] + fixture_timeout(path))
        time.sleep(0.02)
        for path, (proc, conn, deadline) in list(running.items()):
            if conn.poll() or (not proc.is_alive() and conn.poll(0.2)):
                try:
                    results[path] = conn.recv()
                except EOFError:
                    results[path] = (False, ['  oracle child died without a result'], {})
                proc.join()
            elif not proc.is_alive():
                proc.join()
                results[path] = (False, [f'  oracle child exited with code {proc.exitcode}'], {})
            elif time.monotonic() > deadline:
                proc.kill()
                proc.join()
                results[path] = _timed_out(path) + ({},)
            else:
                continue
            conn.close()
            del running[path]
            ok, msgs, info = results[path]
            info['seconds'] = round(time.monotonic() - started[path], 2)
            print(f'{"ok  " if ok else "FAIL"} {labels[path]}', flush=True)
            for m in msgs:
                print(m, flush=True)
    passed = sum(1 for ok, _, _ in results.values() if ok)
    failed = len(results) - passed
    if args.results:
        import json
        out = {os.path.relpath(p, REPO): {'ok': ok, 'messages': msgs, **info}
               for p, (ok, msgs, info) in results.items()}
        with open(args.results, 'w', encoding='utf-8') as f:
            json.dump(out, f, indent=1, sort_keys=True)
            f.write('\n')
    print(f'oracle: {len(results)} fixtures in {time.monotonic() - start:.1f}s')
    print(f'{passed} passed, {failed} failed')
    return 0 if failed == 0 else 1


if __name__ == '__main__':
    sys.exit(main())
