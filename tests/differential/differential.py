"""Differential test: real chalice 1.34.0 against `chalice-iam policy --autogen`.

Run through ./run, which provides the venv with the pinned chalice. For every
case this runs chalice's own deploy-time code (config, app import,
validation, app graph, the build steps that produce IAM policies) and our
binary, and requires the same outcome: the same crash/no-crash result, the
same statements with the same Action lists (order included) and Resources,
and the same "Unsupported service" warnings.

Cases:
  cases/snippets/*.py        one app.py each, analysed without a config
                             (a single .py file for chalice-iam). A line
                             `# differential: python-versions` also runs it
                             under the second interpreter (3.12) if present.
  cases/layouts/<name>/      a project directory; `checks` lists one set of
                             chalice-iam arguments per line (--stage,
                             --function); default `--stage dev`.

Usage: differential.py --binary PATH [--only-version-sensitive] [--python-version X.Y]
"""
import argparse
import contextlib
import functools
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, 'cases')
VERSION_MARKER = '# differential: python-versions'

# chalice imports app.py; keep it away from real AWS credentials, the
# instance metadata service and the network.
os.environ['AWS_DEFAULT_REGION'] = 'us-east-1'
os.environ['AWS_EC2_METADATA_DISABLED'] = 'true'
os.environ['AWS_ACCESS_KEY_ID'] = 'testing'
os.environ['AWS_SECRET_ACCESS_KEY'] = 'testing'
os.environ.pop('AWS_PROFILE', None)

from chalice.cli.factory import CLIFactory  # noqa: E402
from chalice.config import Config  # noqa: E402
from chalice.constants import DEFAULT_APIGATEWAY_STAGE_NAME, DEFAULT_ENDPOINT_TYPE  # noqa: E402
from chalice.deploy import models  # noqa: E402
from chalice.deploy.appgraph import ApplicationGraphBuilder, DependencyBuilder  # noqa: E402
from chalice.deploy.deployer import (  # noqa: E402
    BuildStage, InjectDefaults, LambdaEventSourcePolicyInjector,
    PolicyGenerator, WebsocketPolicyInjector)
from chalice.deploy.validate import validate_configuration  # noqa: E402
from chalice.policy import AppPolicyGenerator  # noqa: E402
from chalice.utils import OSUtils  # noqa: E402


def strip_sids(doc):
    if isinstance(doc, dict):
        doc = dict(doc)
        for st in doc.get('Statement', []) if isinstance(doc.get('Statement'), list) else []:
            if isinstance(st, dict):
                st.pop('Sid', None)
    return doc


def forget_app_modules(project_dir):
    """Each case imports its own `app`; drop the previous one."""
    for name, mod in list(sys.modules.items()):
        f = getattr(mod, '__file__', None) or ''
        if name == 'app' or name.startswith('chalicelib') or (f and f.startswith(project_dir)):
            del sys.modules[name]
    while project_dir in sys.path:
        sys.path.remove(project_dir)


def chalice_oracle(project_dir, stage, function, single_file):
    """What `chalice deploy` attaches, or the exception it raises."""
    out = io.StringIO()
    forget_app_modules(project_dir)
    try:
        with contextlib.redirect_stdout(out):
            factory = CLIFactory(project_dir=project_dir)
            if single_file:
                # A project without .chalice/config.json: chalice's defaults.
                user_params = {}
                config = Config(
                    chalice_stage=stage,
                    user_provided_params=user_params,
                    config_from_disk={},
                    default_params={
                        'project_dir': project_dir,
                        'api_gateway_stage': DEFAULT_APIGATEWAY_STAGE_NAME,
                        'api_gateway_endpoint_type': DEFAULT_ENDPOINT_TYPE,
                        'autogen_policy': True,
                    })
                user_params['chalice_app'] = functools.partial(
                    factory.load_chalice_app, config.environment_variables)
            else:
                config = factory.create_config_obj(chalice_stage_name=stage)
            validate_configuration(config)
            application = ApplicationGraphBuilder().build(config, stage)
            resources = DependencyBuilder().build_dependencies(application)
            osutils = OSUtils()
            BuildStage([
                InjectDefaults(),
                PolicyGenerator(AppPolicyGenerator(osutils), osutils),
                LambdaEventSourcePolicyInjector(),
                WebsocketPolicyInjector(),
            ]).execute(config, resources)
            functions = [r for r in resources if isinstance(r, models.LambdaFunction)]
            document = None
            if function is not None:
                matching = [f for f in functions if f.resource_name == function]
                if not matching:
                    return {'outcome': 'no-such-function', 'warnings': []}
                role = matching[0].role
                if isinstance(role, models.ManagedIAMRole):
                    document = role.policy.document
            elif not functions:
                # No Lambda function: what an autogenerated role would get.
                document = AppPolicyGenerator(osutils).generate_policy(config)
            else:
                for f in functions:
                    role = f.role
                    if isinstance(role, models.ManagedIAMRole) and \
                            isinstance(role.policy, models.AutoGenIAMPolicy):
                        document = role.policy.document
                        break
    except BaseException as e:  # chalice's failure is the result
        if isinstance(e, KeyboardInterrupt):
            raise
        return {'outcome': 'crash', 'error': '%s: %s' % (type(e).__name__, str(e).strip().splitlines()[0] if str(e).strip() else ''),
                'warnings': warnings_of(out.getvalue())}
    finally:
        forget_app_modules(project_dir)
    return {'outcome': 'ok', 'document': strip_sids(document), 'warnings': warnings_of(out.getvalue())}


def warnings_of(text):
    return [line for line in text.splitlines() if line.startswith('Unsupported service for auto policy generation')]


def ours(binary, path, extra_args, python_version):
    cmd = [binary, 'policy', '--autogen', path, '--python-version', python_version] + extra_args
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    warnings = warnings_of(p.stderr)
    if 'defines no Lambda function named' in p.stderr:
        return {'outcome': 'no-such-function', 'warnings': []}
    if p.returncode == 2:
        return {'outcome': 'crash', 'error': p.stderr.strip().splitlines()[-1] if p.stderr.strip() else '', 'warnings': warnings}
    if p.returncode != 0:
        return {'outcome': 'error', 'error': 'exit %d: %s' % (p.returncode, p.stderr.strip())}
    document = json.loads(p.stdout) if p.stdout.strip() else None
    return {'outcome': 'ok', 'document': document, 'warnings': warnings, 'stderr': p.stderr}


def summarize(doc):
    if doc is None:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get('Statement'), list):
        return doc
    return [(st.get('Effect'), st.get('Action'), st.get('Resource')) for st in doc['Statement']]


def compare(expected, actual):
    """None when they agree, else why not."""
    if expected['outcome'] != actual['outcome']:
        return 'chalice: %s %s | chalice-iam: %s %s' % (
            expected['outcome'], expected.get('error', ''), actual['outcome'], actual.get('error', ''))
    if expected['outcome'] == 'ok':
        e, a = expected['document'], actual['document']
        if summarize(e) != summarize(a) or (isinstance(e, dict) and e.get('Version') != (a or {}).get('Version')):
            return 'documents differ:\n  chalice:     %s\n  chalice-iam: %s' % (json.dumps(e), json.dumps(a))
    if expected.get('warnings', []) != actual.get('warnings', []):
        return 'warnings differ: chalice %s | chalice-iam %s' % (expected.get('warnings'), actual.get('warnings'))
    return None


def snippet_cases(only_version_sensitive):
    folder = os.path.join(CASES, 'snippets')
    for name in sorted(os.listdir(folder)):
        if not name.endswith('.py'):
            continue
        path = os.path.join(folder, name)
        with open(path, encoding='utf-8', errors='replace') as f:
            sensitive = VERSION_MARKER in f.read()
        if only_version_sensitive and not sensitive:
            continue
        yield 'snippets/' + name, path


def layout_cases():
    folder = os.path.join(CASES, 'layouts')
    for name in sorted(os.listdir(folder)):
        project = os.path.join(folder, name)
        if not os.path.isdir(project):
            continue
        checks_file = os.path.join(project, 'checks')
        checks = [['--stage', 'dev']]
        if os.path.exists(checks_file):
            with open(checks_file) as f:
                checks = [line.split() for line in f if line.strip() and not line.startswith('#')]
        yield name, project, checks


def parse_check(args):
    stage, function = 'dev', None
    it = iter(args)
    for a in it:
        if a == '--stage':
            stage = next(it)
        elif a == '--function':
            function = next(it)
    return stage, function


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--binary', required=True)
    parser.add_argument('--only-version-sensitive', action='store_true')
    args = parser.parse_args()
    version = '%d.%d' % sys.version_info[:2]
    passed = failed = 0
    started = time.time()

    def report(label, expected, actual):
        nonlocal passed, failed
        why = compare(expected, actual)
        if why is None:
            passed += 1
            print('ok    [py%s] %s' % (version, label))
        else:
            failed += 1
            print('FAIL  [py%s] %s\n      %s' % (version, label, why.replace('\n', '\n      ')))
        sys.stdout.flush()

    tmp = tempfile.mkdtemp(prefix='chalice-differential-')
    try:
        for label, path in snippet_cases(args.only_version_sensitive):
            project = os.path.join(tmp, os.path.basename(path)[:-3])
            os.makedirs(project)
            shutil.copyfile(path, os.path.join(project, 'app.py'))
            expected = chalice_oracle(project, 'dev', None, single_file=True)
            actual = ours(args.binary, path, [], version)
            report(label, expected, actual)
        if not args.only_version_sensitive:
            for name, project, checks in layout_cases():
                # Copy so chalice's __pycache__ and our reads see the same tree.
                copy = os.path.join(tmp, 'layout-' + name)
                shutil.copytree(project, copy, ignore=shutil.ignore_patterns('checks', '__pycache__'))
                for check in checks:
                    stage, function = parse_check(check)
                    expected = chalice_oracle(copy, stage, function, single_file=False)
                    actual = ours(args.binary, copy, check, version)
                    report('layouts/%s %s' % (name, ' '.join(check)), expected, actual)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print('# python %s: %d passed, %d failed in %.1fs' % (version, passed, failed, time.time() - started))
    # The caller adds up the per-interpreter counts.
    print('COUNTS %d %d' % (passed, failed))
    return 0


if __name__ == '__main__':
    sys.exit(main())
