#!/usr/bin/env python3
"""Generate the coverage fixtures: one oracle fixture per entry of boto3's
resource models, per method boto3 injects, and per irregular operation →
IAM action mapping.

Run it with the oracle venv's python (tests/coverage/run does):

    gen.py                 # writes tests/fixtures/coverage/<service>/<entry>.fixture
    gen.py --check         # regenerates into a temp dir, fails on drift
    gen.py --list          # prints every entry and where its fixture is

The entries are read from the *installed* boto3 (its resources-1.json models,
the classes it builds from them, and botocore's waiter models), never from
chalice-iam's own generated copy, so a model entry our data lacks still gets
a fixture and the Rust fixture test then fails on it. What each entry sends
is taken from the same boto3 model; the oracle checks that against what
boto3 really sends, and server/tests/analysis_fixtures.rs checks that the
static analysis predicts exactly that.

Entries:

* service and resource actions (`ec2.create_vpc()`, `vpc.create_subnet()`);
* loads (`vpc.load()`);
* waiters (`instance.wait_until_running()`);
* collections, each through `all()`, `filter()`, `limit()` and
  `page_size()`, and each batch action of the collection's item type
  (`bucket.objects.delete()`), which lists the collection and acts on it;
* methods boto3 injects (s3 transfers, `Bucket.load`, `ObjectSummary.load`,
  `Table.batch_writer`, ec2 `create_tags` / `delete_tags`), found by
  comparing the live classes with their models, so a new injection fails
  generation until it is covered;
* the size and failure dependent sides of the s3 transfers (PutObject below
  the multipart threshold, multipart above it, AbortMultipartUpload when a
  multipart upload fails), proven with `must-send` / `must-not-send`;
* one client paginator and one client waiter per service;
* every irregular operation → action row of server/src/model/data/irregular.txt
  (the IRREGULAR table of tools/gen_model.py).

What each fixture needs (moto resources, call arguments, which operations
moto does not implement) is in specs.py; an entry with no way to run is
listed there in LEFT_OUT with the reason, and reported.
"""

import argparse
import filecmp
import functools
import json
import keyword
import os
import shutil
import sys
import tempfile

import boto3
import botocore
import botocore.session
from botocore import xform_name

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OUT_DEFAULT = os.path.join(REPO, 'tests', 'fixtures', 'coverage')
IRREGULAR_TXT = os.path.join(REPO, 'server', 'src', 'model', 'data', 'irregular.txt')

sys.path.insert(0, HERE)
import specs  # noqa: E402

COLLECTION_METHODS = ('all', 'filter', 'limit', 'page_size')


class GenError(Exception):
    pass


# --------------------------------------------------------------------------
# Entries, from the installed boto3
# --------------------------------------------------------------------------

class Entry:
    """One thing a boto3 user can call that sends requests."""

    def __init__(self, service, owner, kind, name, ops, collection=None, method=None, model_op=None):
        self.service = service
        self.owner = owner            # 'ServiceResource', a resource type, or 'client'
        self.kind = kind              # action, load, waiter, collection, batch, injected, ...
        self.name = name              # action / waiter method / batch action / injected method
        self.ops = ops                # operations the model says it sends
        self.collection = collection  # collection attribute (collection and batch kinds)
        self.method = method          # all / filter / limit / page_size (collection kind)
        self.model_op = model_op
        # The botocore exception the call raises before sending (then ops is
        # empty).
        self.raises = None

    @property
    def id(self):
        if self.kind == 'collection':
            return f'{self.owner}.{self.collection}.{self.method}'
        if self.kind == 'batch':
            return f'{self.owner}.{self.collection}.{self.name}'
        return f'{self.owner}.{self.name}'


@functools.lru_cache(maxsize=None)
def waiter_operation(session, service, waiter_name):
    return session.get_waiter_model(service).get_waiter(waiter_name).operation


def model_entries(service):
    """Every request-sending entry of one service's boto3 resource model."""
    loader = boto3.session.Session()._loader
    raw = loader.load_service_model(service, 'resources-1')
    session = botocore.session.get_session()
    resources = raw['resources']
    out = []

    def collections(owner, has_many):
        for cname, spec in sorted(has_many.items()):
            cattr = xform_name(cname)
            op = spec['request']['operation']
            for m in COLLECTION_METHODS:
                out.append(Entry(service, owner, 'collection', m, [op], collection=cattr, method=m))
            item = spec['resource']['type']
            for bname, bspec in sorted(resources.get(item, {}).get('batchActions', {}).items()):
                out.append(Entry(service, owner, 'batch', xform_name(bname),
                                 [op, bspec['request']['operation']], collection=cattr))

    svc = raw['service']
    for name, spec in sorted(svc.get('actions', {}).items()):
        out.append(Entry(service, 'ServiceResource', 'action', xform_name(name), [spec['request']['operation']]))
    collections('ServiceResource', svc.get('hasMany', {}))
    for rtype, rdef in sorted(resources.items()):
        load = rdef['load']['request']['operation'] if rdef.get('load') else None
        if load:
            out.append(Entry(service, rtype, 'load', 'load', [load]))
        for name, spec in sorted(rdef.get('actions', {}).items()):
            # A parameter taken from the resource's data makes boto3 load an
            # unloaded resource first (boto3/resources/params.py
            # get_data_member): vpc_address.release() sends DescribeAddresses,
            # then ReleaseAddress.
            from_data = any(p['source'] == 'data' for p in spec['request'].get('params', []))
            ops = [load, spec['request']['operation']] if from_data and load else [spec['request']['operation']]
            out.append(Entry(service, rtype, 'action', xform_name(name), ops))
        for name, spec in sorted(rdef.get('waiters', {}).items()):
            out.append(Entry(service, rtype, 'waiter', 'wait_until_' + xform_name(name),
                             [waiter_operation(session, service, spec['waiterName'])]))
        collections(rtype, rdef.get('hasMany', {}))
    return out


# moto's module for a boto3 client name, where it is not the name itself.
MOTO_MODULES = {'lambda': 'awslambda', 'bedrock-runtime': 'bedrockruntime'}


@functools.lru_cache(maxsize=None)
def moto_lacks(service, op):
    """Why moto cannot answer `op`, or None. moto dispatches most requests
    to the method of the service's response class named after the operation
    in snake_case, which calls the backend's method of the same name (S3
    dispatches on the URL instead, straight to the backend's method).
    Without either, moto answers "Not yet implemented" or, for some S3
    sub-resources, a catch-all empty 200 that implements nothing; some
    handlers exist only to raise NotImplementedError. In all these cases
    the oracle must short-circuit the call."""
    import ast
    import importlib
    import inspect
    import textwrap
    import moto
    from moto.core.base_backend import BaseBackend
    from moto.core.responses import BaseResponse
    name = MOTO_MODULES.get(service, service.replace('-', ''))
    try:
        responses = importlib.import_module(f'moto.{name}.responses')
        models = importlib.import_module(f'moto.{name}.models')
    except ImportError:
        return f'moto {moto.__version__} does not mock {service}'
    method = xform_name(op)
    handlers = [getattr(c, method) for c in vars(responses).values()
                if isinstance(c, type) and issubclass(c, BaseResponse) and hasattr(c, method)]
    in_backend = any(isinstance(c, type) and issubclass(c, BaseBackend) and hasattr(c, method)
                     for c in vars(models).values())
    if not handlers and not in_backend:
        return f'moto {moto.__version__} has no {op} handler'

    def refuses(h):
        fn = ast.parse(textwrap.dedent(inspect.getsource(h))).body[0]
        returns = any(isinstance(n, ast.Return) for n in ast.walk(fn))
        raises = any(isinstance(st, ast.Raise) and 'NotImplementedError' in ast.unparse(st) for st in fn.body)
        return raises and not returns
    if handlers and all(refuses(h) for h in handlers):
        return f'moto {moto.__version__} does not implement {op} (its handler raises NotImplementedError)'
    return None


def page_size_unsupported(session, e):
    """boto3's collection.page_size(n) pages with PaginationConfig PageSize;
    botocore raises PaginationError before sending anything when the
    operation's paginator has no page-size parameter (limit_key)."""
    if e.kind != 'collection' or e.method != 'page_size':
        return False
    config = session.get_paginator_model(e.service)._paginator_config
    return any(name == e.ops[0] and 'limit_key' not in pag for name, pag in config.items())


def unreachable_batch_actions(service):
    """Batch actions of resource types no collection yields: nothing can call
    them (boto3 only puts batch actions on collections)."""
    loader = boto3.session.Session()._loader
    raw = loader.load_service_model(service, 'resources-1')
    items = {s['resource']['type'] for s in raw['service'].get('hasMany', {}).values()}
    for rdef in raw['resources'].values():
        items |= {s['resource']['type'] for s in rdef.get('hasMany', {}).values()}
    out = []
    for rtype, rdef in sorted(raw['resources'].items()):
        if rtype not in items:
            for name in sorted(rdef.get('batchActions', {})):
                out.append(f'{rtype}.{xform_name(name)}')
    return out


def live_injected():
    """Methods boto3 adds to the classes it builds, beyond their models:
    {(service, owner): set(method)} where owner is 'client', 'ServiceResource'
    or a resource type. Found on the live classes, so a boto3 upgrade that
    injects something new is noticed."""
    import botocore.client
    session = boto3.session.Session(region_name='us-east-1', aws_access_key_id='x', aws_secret_access_key='x')
    base_client = set(dir(botocore.client.BaseClient))
    found = {}
    for service in sorted(session.get_available_resources()):
        client = session.client(service)
        ops = {xform_name(op) for op in client.meta.service_model.operation_names}
        extra = {m for m in dir(client) if not m.startswith('_') and m not in base_client and m not in ops}
        if extra:
            found[(service, 'client')] = extra
        res = session.resource(service)
        classes = [('ServiceResource', res)]
        # One instance of every resource type, from dummy identifiers (the
        # service resource can build every type).
        for sub in res.meta.resource_model.subresources:
            n = len(sub.resource.identifiers)
            obj = getattr(res, sub.name)(*(['x'] * n)) if n else getattr(res, sub.name)()
            classes.append((sub.resource.type, obj))
        for owner, obj in classes:
            model = obj.meta.resource_model
            known = {'meta', 'get_available_subresources', 'load', 'reload'} if model.load else {'meta', 'get_available_subresources'}
            known |= {xform_name(i.name) for i in model.identifiers}
            known |= {a.name for a in model.actions}
            known |= {a.name for a in model.batch_actions}
            known |= {c.name for c in model.collections}
            known |= {s.name for s in model.subresources}
            known |= {r.name for r in model.references}
            known |= {w.name for w in model.waiters}
            if model.shape:
                # Attribute names as boto3 gives them, renamed where they
                # clash with another member (instance.network_interfaces_attribute).
                shape = obj.meta.client.meta.service_model.shape_for(model.shape)
                known |= set(model.get_attributes(shape))
            base = set(dir(boto3.resources.base.ServiceResource))
            extra = {m for m in dir(obj) if not m.startswith('_') and m not in base and m not in known}
            if extra:
                found[(service, owner)] = found.get((service, owner), set()) | extra
    return found


# --------------------------------------------------------------------------
# Fixture text
# --------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def constructors(service):
    """{resource type: the service resource's constructor for it}, from the
    live classes: boto3 exposes every type under a `has` name of that type
    or its own name, except where a `has` name takes the type's name for
    another type (ec2.KeyPair builds a KeyPairInfo; a KeyPair only comes
    from create_key_pair)."""
    session = boto3.session.Session(region_name='us-east-1', aws_access_key_id='x', aws_secret_access_key='x')
    res = session.resource(service)
    out = {}
    for sub in res.meta.resource_model.subresources:
        out.setdefault(sub.resource.type, sub.name)
    return out


def var_name(rtype):
    n = xform_name(rtype)
    if keyword.iskeyword(n) or n in ('object', 'type', 'id', 'filter'):
        return {'object': 'obj'}.get(n, n + '_')
    return n


def ordered_makers(spec, names):
    """Makers and their dependencies, dependencies first, each once."""
    done = []

    def visit(n, stack=()):
        if n in done:
            return
        if n in stack:
            raise GenError(f'maker cycle: {" -> ".join(stack + (n,))}')
        if n not in spec.makers:
            raise GenError(f'{spec.service}: unknown maker {n!r}')
        for d in spec.makers[n].deps:
            visit(d, stack + (n,))
        done.append(n)

    for n in names:
        visit(n)
    return done


def indent(code, n=4):
    return '\n'.join((' ' * n + l) if l.strip() else '' for l in code.strip('\n').split('\n'))


class Fixture:
    def __init__(self, rel, description, app, setup='', expect=(), maybe=(), short=(), must=(), must_not=(),
                 run='import app\napp.handler()', entry=None, reasons=None, kind='injected'):
        self.rel = rel
        self.description = description
        self.app = app
        self.setup = setup
        self.expect = list(expect)
        self.maybe = list(maybe)
        self.short = list(short)
        self.must = list(must)
        self.must_not = list(must_not)
        self.run = run
        self.entry = entry
        self._kind = kind
        # Why each short-circuited operation is: {Operation: reason}.
        self.reasons = dict(reasons or {})
        # Operations botocore's Stubber answers: {Operation: reason}.
        self.stubbed = {}

    @property
    def group(self):
        """The report's row: the service, for model entries and injected
        methods; 'irregular' for the mapping fixtures."""
        return self.rel.split('/')[0]

    @property
    def kind(self):
        return self.entry.kind if self.entry is not None else self._kind

    def text(self):
        lines = [f'# {self.description}',
                 '# generated by tests/coverage/gen.py; do not edit']
        by_client = {}
        for client, op in self.short:
            by_client.setdefault(client, []).append(op)
        for client, ops in sorted(by_client.items()):
            lines.append(f'# oracle: short-circuit {client} {" ".join(sorted(set(ops)))}')
        for word, items in (('must-send', self.must), ('must-not-send', self.must_not)):
            grouped = {}
            for client, op in items:
                grouped.setdefault(client, []).append(op)
            for client, ops in sorted(grouped.items()):
                lines.append(f'# oracle: {word} {client} {" ".join(sorted(set(ops)))}')
        if self.setup.strip():
            lines += ['#- setup', self.setup.strip('\n')]
        lines += ['#- app.py', self.app.strip('\n'), '#- run', self.run.strip('\n'), '#- expect']
        seen = []
        for client, op in self.expect:
            if (client, op) not in seen:
                seen.append((client, op))
                lines.append(f'{client} {op}')
        for client, op in self.maybe:
            if (client, op) not in seen:
                seen.append((client, op))
                lines.append(f'? {client} {op}')
        return '\n'.join(lines) + '\n'


def setup_text(spec, makers, pre=''):
    """The setup section: the service client, the makers, then their exports
    as environment variables (the app reads identifiers moto generates from
    os.environ, as a Chalice app reads its configuration)."""
    parts = ['import os', '', 'import boto3', '']
    parts.append(spec.setup_prelude.strip('\n'))
    exports = []
    for n in makers:
        m = spec.makers[n]
        parts.append(m.code.strip('\n'))
        exports += m.exports
    if pre.strip():
        parts.append(pre.strip('\n'))
    for e in exports:
        parts.append(f"os.environ['{e}'] = str({e})")
    return '\n'.join(parts) + '\n'


def entry_fixture(spec, e):
    """The fixture proving one model entry."""
    x = spec.entry(e.id)
    res_var = spec.resource_var
    ctor = constructors(e.service)
    makers = list(x.needs)
    if e.owner == 'ServiceResource':
        recv = res_var
        body = []
    else:
        r = spec.resources.get(e.owner)
        if r is None:
            raise GenError(f'{e.service}: no way to build a {e.owner} in specs.py')
        makers = (list(r.makers) if x.only is None else list(x.only)) + makers
        recv = var_name(e.owner)
        if e.owner not in ctor and not x.receiver:
            raise GenError(f'{e.service}: boto3 cannot construct a {e.owner}; specs.py must give a receiver')
        body = [f'{recv} = {res_var}.{ctor.get(e.owner)}({", ".join(r.identifiers)})']
    if x.receiver:
        body = [x.receiver]
        recv = x.receiver.split(' = ')[0]
    if e.kind == 'action' or e.kind == 'load':
        call = f'{recv}.{e.name}({x.args})'
    elif e.kind == 'waiter':
        # A short WaiterConfig bounds the run if moto's state were wrong; the
        # first poll succeeds when it is right.
        args = x.args or "WaiterConfig={'Delay': 1, 'MaxAttempts': 3}"
        call = f'{recv}.{e.name}({args})'
    elif e.kind == 'collection':
        margs = {'all': '', 'filter': x.args, 'limit': '2', 'page_size': '10'}[e.method]
        call = f'list({recv}.{e.collection}.{e.method}({margs}))'
    elif e.kind == 'batch':
        call = f'{recv}.{e.collection}.{e.name}({x.args})'
    else:
        raise GenError(e.kind)
    imports = ['import os']
    if x.app_extra:
        imports += x.app_extra.strip('\n').split('\n')
    imports = sorted(imports) + ['', 'import boto3']
    if e.raises:
        body += ['try:', f'    {call}', f'except {e.raises}:', '    pass']
        imports.append(f'from botocore.exceptions import {e.raises}')
    else:
        body.append((x.wrap or '{call}').format(call=call))
    app = ('\n'.join(imports) + f"\n\n{res_var} = boto3.resource('{e.service}')\n\n\n"
           'def handler():\n' + indent('\n'.join(body)) + '\n')
    makers = ordered_makers(spec, makers)
    setup = setup_text(spec, makers, x.pre)
    reasons = {}
    stubbed_ops = {xform_name_to_op(e.service, m) for m, _ in x.stub}
    for op in e.ops:
        if op in stubbed_ops:
            continue
        why = x.short_circuit.get(op) or spec.short_circuit.get(op) or moto_lacks(e.service, op)
        if why:
            reasons[op] = why
    short = [(e.service, op) for op in reasons]
    kind = {'action': 'action', 'load': 'load', 'waiter': 'waiter',
            'collection': f'collection {e.method}()', 'batch': 'collection batch action'}[e.kind]
    if e.raises:
        desc = (f'{e.service} {e.id}: {kind}; the {e.model_op} paginator has no page-size parameter, so '
                f'iterating raises {e.raises} before sending anything')
    else:
        desc = f'{e.service} {e.id}: {kind}, sends {", ".join(dict.fromkeys(e.ops))}'
    run = 'import app\napp.handler()'
    stubbed = {}
    if x.stub:
        # botocore's Stubber on the app's client answers these calls (after
        # the oracle's recorder has seen them), in this order, and checks
        # that each was made.
        lines = ['import app', 'from botocore.stub import Stubber', '',
                 f'stubber = Stubber(app.{res_var}.meta.client)']
        for method, response in x.stub:
            lines.append(f'stubber.add_response({method!r}, {response})')
            stubbed[xform_name_to_op(e.service, method)] = x.stub_reason
        lines += ['with stubber:', '    app.handler()', 'stubber.assert_no_pending_responses()']
        run = '\n'.join(lines)
    f = Fixture(f'{e.service}/{e.id}.fixture', desc, app, setup, run=run,
                expect=[(e.service, op) for op in x.receiver_ops + e.ops], short=short, entry=e)
    f.reasons = reasons
    f.stubbed = stubbed
    return f


@functools.lru_cache(maxsize=None)
def xform_name_to_op(service, method):
    model = _session().get_service_model(service)
    for op in model.operation_names:
        if xform_name(op) == method:
            return op
    raise GenError(f'{service} has no method {method}')


def all_fixtures():
    """Every fixture, and per service every model entry with the fixture
    proving it or the reason it has none."""
    session = botocore.session.get_session()
    fixtures = []
    model = {}
    services = sorted(boto3.session.Session().get_available_resources())
    if set(services) != set(specs.SPECS):
        raise GenError(f'boto3 resource services {services} differ from specs.py {sorted(specs.SPECS)}')
    for service in services:
        spec = specs.SPECS[service]
        ids = set()
        model[service] = {}
        for e in model_entries(service):
            ids.add(e.id)
            if page_size_unsupported(session, e):
                # Iterating it raises before sending: the fixture proves that
                # nothing is sent.
                e.model_op, e.ops = e.ops[0], []
                e.raises = 'PaginationError'
            reason = spec.left_out.get(e.id)
            if reason:
                model[service][e.id] = {'kind': e.kind, 'fixture': None, 'left_out': reason}
                continue
            f = entry_fixture(spec, e)
            fixtures.append(f)
            model[service][e.id] = {'kind': e.kind, 'fixture': f.rel, 'left_out': None, 'ops': e.ops,
                                    'raises': e.raises}
        for k in spec.entries:
            if k not in ids and k not in spec.extra_ids():
                raise GenError(f'{service}: specs.py describes {k}, which the boto3 model does not have')
        for k in spec.left_out:
            if k not in ids:
                raise GenError(f'{service}: specs.py leaves out {k}, which the boto3 model does not have')
    injected = live_injected()
    fixtures += specs.injected_fixtures(Fixture, setup_text, injected)
    fixtures += client_fixtures()
    fixtures += irregular_fixtures(read_irregular())
    seen = set()
    for f in fixtures:
        if f.rel in seen:
            raise GenError(f'two fixtures at {f.rel}')
        seen.add(f.rel)
    return fixtures, model


# --------------------------------------------------------------------------
# Placeholder arguments, for calls answered by a short-circuit
# --------------------------------------------------------------------------

def placeholder(shape):
    """The smallest value botocore's parameter validation accepts for a
    shape: required members only, minimum lengths, the first enum value."""
    t = shape.type_name
    meta = shape.metadata
    if t == 'structure':
        return {m: placeholder(shape.members[m]) for m in shape.required_members}
    if t == 'list':
        return [placeholder(shape.member) for _ in range(max(meta.get('min', 1), 1))]
    if t == 'map':
        return {placeholder(shape.key): placeholder(shape.value)}
    if t == 'string':
        if shape.enum:
            return shape.enum[0]
        return 'x' * max(meta.get('min', 1), 1)
    if t in ('integer', 'long'):
        return max(meta.get('min', 1), 1)
    if t in ('float', 'double'):
        return float(max(meta.get('min', 1), 1))
    if t == 'boolean':
        return True
    if t == 'timestamp':
        return '2024-01-01T00:00:00Z'
    if t == 'blob':
        return b'x'
    raise GenError(f'no placeholder for shape type {t}')


@functools.lru_cache(maxsize=None)
def _session():
    return botocore.session.get_session()


def placeholder_args(service, op, drop=()):
    model = _session().get_service_model(service).operation_model(op)
    if model.input_shape is None:
        return ''
    args = placeholder(model.input_shape)
    return ', '.join(f'{k}={v!r}' for k, v in args.items() if k not in drop)


def client_fixtures():
    """Per resource service, one fixture sending every paginator of its
    client and one polling with every waiter. They prove the paginator /
    waiter → operation mapping, so placeholder arguments are enough and
    every call is short-circuited (a waiter gets one attempt, which the
    empty answer leaves unfinished: WaiterError)."""
    session = botocore.session.get_session()
    out = []
    for service in sorted(specs.SPECS):
        pag = session.get_paginator_model(service)._paginator_config
        lines, ops = [], []
        for name in sorted(pag):
            args = placeholder_args(service, name)
            lines.append(f"    list(client.get_paginator({xform_name(name)!r}).paginate({args}))")
            ops.append(name)
        reason = 'placeholder arguments: only the operation each paginator sends is under test'
        app = (f"import boto3\n\nclient = boto3.client({service!r})\n\n\ndef handler():\n" + '\n'.join(lines) + '\n')
        out.append(Fixture(f'{service}/client.paginators.fixture',
                           f'{service}: every paginator of the client, iterated', app,
                           expect=[(service, o) for o in ops], short=[(service, o) for o in ops],
                           reasons={o: reason for o in ops}, kind='paginator'))
        try:
            wm = session.get_waiter_model(service)
        except botocore.exceptions.UnknownServiceError:
            continue
        lines, ops = [], []
        for name in sorted(wm.waiter_names):
            op = wm.get_waiter(name).operation
            args = placeholder_args(service, op)
            sep = ', ' if args else ''
            lines += ['    try:',
                      f"        client.get_waiter({xform_name(name)!r}).wait({args}{sep}"
                      "WaiterConfig={'Delay': 1, 'MaxAttempts': 1})",
                      '    except (WaiterError, JMESPathError):', '        pass']
            ops.append(op)
        reason = 'placeholder arguments: only the operation each waiter polls with is under test'
        # The short-circuit's empty answer leaves the waiter unfinished
        # (WaiterError), or is not even a shape its acceptors can read.
        app = ("import boto3\nfrom botocore.exceptions import WaiterError\nfrom jmespath.exceptions import JMESPathError\n\n"
               f"client = boto3.client({service!r})\n\n\ndef handler():\n" + '\n'.join(lines) + '\n')
        out.append(Fixture(f'{service}/client.waiters.fixture',
                           f'{service}: every waiter of the client, one attempt each', app,
                           expect=[(service, o) for o in ops], short=[(service, o) for o in set(ops)],
                           reasons={o: reason for o in ops}, kind='waiter'))
    return out


def irregular_fixtures(rows):
    """One fixture per row of irregular.txt: the client method that sends
    the operation. Rows specs.IRREGULAR_CALLS describes run against moto;
    the others use placeholder arguments and a short-circuit."""
    out = []
    for client, op, actions, source in rows:
        method = xform_name_to_method(client, op)
        custom = specs.IRREGULAR_CALLS.get((client, op))
        desc = f'{client}.{method} sends {op}, which needs {", ".join(actions)} ({source})'
        if custom is not None:
            setup, call = custom
            why = moto_lacks(client, op)
            short = [(client, op)] if why else []
            reasons = {op: why} if why else {}
        else:
            setup = ''
            call = f'client.{method}({placeholder_args(client, op)})'
            short = [(client, op)]
            reasons = {op: 'placeholder arguments: only the operation the method sends is under test'}
        app = (f"import boto3\n\nclient = boto3.client({client!r})\n\n\ndef handler():\n"
               + '\n'.join('    ' + l for l in call.strip('\n').split('\n')) + '\n')
        out.append(Fixture(f'irregular/{client}.{op}.fixture', desc, app,
                           ("import boto3\n\n" + setup.strip('\n') + '\n') if setup.strip() else '',
                           expect=[(client, op)], short=short, reasons=reasons, kind='irregular'))
    return out


def xform_name_to_method(service, op):
    model = _session().get_service_model(service)
    if op not in model.operation_names:
        raise GenError(f'irregular.txt: {service} has no operation {op}')
    return xform_name(op)


def read_irregular():
    rows = []
    with open(IRREGULAR_TXT, encoding='utf-8') as f:
        for line in f:
            if line.startswith('#') or not line.strip():
                continue
            head, _, source = line.rstrip('\n').partition('\t')
            client, op, actions = head.split(' ')
            rows.append((client, op, actions.split(','), source))
    return rows


def write_all(out_dir):
    fixtures, model = all_fixtures()
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    for f in fixtures:
        path = os.path.join(out_dir, f.rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w', encoding='utf-8', newline='\n') as fh:
            fh.write(f.text())
    # What the report needs and cannot read from the fixtures themselves.
    import moto
    meta = {
        'versions': {'boto3': boto3.__version__, 'botocore': botocore.__version__, 'moto': moto.__version__},
        'model': model,
        'unreachable': {s: unreachable_batch_actions(s) for s in sorted(specs.SPECS)},
        'fixtures': {f.rel: {'group': f.group, 'kind': f.kind, 'short_circuit': f.reasons, 'stubbed': f.stubbed}
                     for f in fixtures},
    }
    with open(os.path.join(out_dir, 'entries.json'), 'w', encoding='utf-8', newline='\n') as fh:
        json.dump(meta, fh, indent=1, sort_keys=True)
        fh.write('\n')
    return len(fixtures)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default=OUT_DEFAULT)
    ap.add_argument('--check', action='store_true', help='regenerate into a temp dir and compare')
    args = ap.parse_args()
    if not args.check:
        n = write_all(args.out)
        print(f'wrote {n} fixtures to {os.path.relpath(args.out, REPO)}')
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = os.path.join(tmp, 'coverage')
        write_all(fresh)
        drift = []
        cmp = filecmp.dircmp(fresh, args.out)

        def walk(c, prefix=''):
            drift.extend(prefix + n for n in c.left_only + c.right_only + c.diff_files + c.funny_files)
            for name, sub in sorted(c.subdirs.items()):
                walk(sub, prefix + name + '/')
        walk(cmp)
        # dircmp compares shallowly (size and mtime); compare contents too.
        for root, _, files in os.walk(fresh):
            for n in files:
                a = os.path.join(root, n)
                b = os.path.join(args.out, os.path.relpath(a, fresh))
                if os.path.exists(b) and not filecmp.cmp(a, b, shallow=False):
                    drift.append(os.path.relpath(a, fresh))
        drift = sorted(set(drift))
        if drift:
            print('generated coverage fixtures drifted: ' + ', '.join(drift[:20])
                  + (f' (+{len(drift) - 20} more)' if len(drift) > 20 else ''), file=sys.stderr)
            print('run tests/coverage/gen.py (with the oracle venv) and commit the result', file=sys.stderr)
            return 1
        print('generated coverage fixtures are up to date')
        return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except GenError as e:
        print(f'gen.py: {e}', file=sys.stderr)
        sys.exit(2)
