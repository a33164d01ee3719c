#!/usr/bin/env python3
"""Write docs/coverage.md from the coverage fixtures and the last oracle run,
and compare what is covered with tests/coverage/baseline.json.

    report.py --results RUN.json                 # write docs/coverage.md
    report.py --results RUN.json --check         # also fail if coverage dropped
    report.py --results RUN.json --update-baseline
    report.py --results RUN.json --self-test     # the check fails on any drop

RUN.json is what `tests/oracle/run --results` wrote for
tests/fixtures/coverage. A model entry is covered when its fixture passed in
that run; it was proven by moto when none of its operations was
short-circuited or answered by botocore's Stubber.

Plain Python (no third-party imports), so it runs with any python3.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(REPO, 'tests', 'fixtures', 'coverage')
DOC = os.path.join(REPO, 'docs', 'coverage.md')
BASELINE = os.path.join(HERE, 'baseline.json')

KIND_LABEL = {
    'action': 'action', 'load': 'load', 'waiter': 'waiter', 'collection': 'collection method',
    'batch': 'collection batch action',
}


def load(results_path):
    with open(os.path.join(FIXTURES, 'entries.json'), encoding='utf-8') as f:
        meta = json.load(f)
    with open(results_path, encoding='utf-8') as f:
        raw = json.load(f)
    # The oracle keys results by path relative to the repository.
    results = {}
    prefix = os.path.join('tests', 'fixtures', 'coverage') + os.sep
    for path, r in raw.items():
        if path.startswith(prefix):
            results[path[len(prefix):].replace(os.sep, '/')] = r
    return meta, results


def proof(meta, results, rel):
    """(passed, path, detail) for one fixture. The path is how its
    operations were answered in the run: moto, short-circuit or Stubber."""
    r = results.get(rel)
    if r is None:
        return False, 'not run', 'the fixture was not in the oracle run'
    if not r['ok']:
        return False, 'failed', '; '.join(m.strip() for m in r['messages'][:3])
    info = meta['fixtures'][rel]
    if info['stubbed']:
        return True, 'Stubber', _by_reason(info['stubbed'])
    short = sorted({op.split(' ', 1)[1] for op in r.get('short_circuited', [])})
    if short:
        return True, 'short-circuit', _by_reason({op: info['short_circuit'].get(op, '') for op in short})
    return True, 'moto', ''


def _by_reason(reasons):
    """'A, B: why' for {op: why}, one group per distinct reason."""
    groups = {}
    for op, why in sorted(reasons.items()):
        groups.setdefault(why, []).append(op)
    return '; '.join(f'{", ".join(ops)}: {why}' for why, ops in groups.items())


def summarise(meta, results):
    """Counts per group, for the table and the baseline."""
    out = {}
    for service, entries in sorted(meta['model'].items()):
        row = {'entries': len(entries), 'covered': 0, 'moto': 0, 'short-circuit': 0, 'Stubber': 0, 'left out': 0,
               'failed': 0}
        for e in entries.values():
            if e['fixture'] is None:
                row['left out'] += 1
                continue
            ok, path, _ = proof(meta, results, e['fixture'])
            if ok:
                row['covered'] += 1
                row[path] += 1
            else:
                row['failed'] += 1
        out[service] = row
    for group, kinds in (('injected methods', ('injected', 'transfer')), ('client paginators and waiters',
                                                                          ('paginator', 'waiter')),
                         ('irregular mappings', ('irregular',))):
        row = {'entries': 0, 'covered': 0, 'moto': 0, 'short-circuit': 0, 'Stubber': 0, 'left out': 0, 'failed': 0}
        for rel, info in meta['fixtures'].items():
            if info['kind'] not in kinds:
                continue
            row['entries'] += 1
            ok, path, _ = proof(meta, results, rel)
            if ok:
                row['covered'] += 1
                row[path] += 1
            else:
                row['failed'] += 1
        out[group] = row
    return out


def pct(row):
    return f"{100 * row['covered'] / row['entries']:.1f}%" if row['entries'] else '-'


def dependent_section():
    """The dependent-action table (kms:Decrypt, iam:PassRole; CIAM019 and
    CIAM020) with each row's source and the analysis fixture whose `+` line
    proves it (the oracle runs that fixture: the operation is really sent)."""
    rows = []
    with open(os.path.join(REPO, 'server', 'src', 'model', 'data', 'dependent.txt'), encoding='utf-8') as f:
        for line in f:
            if line.startswith('#') or not line.strip():
                continue
            head, reason, source = line.rstrip('\n').split('\t')
            client, op, action, when = head.split(' ')
            rows.append((client, op, action, when, reason, source))
    proven = {}
    analysis = os.path.join(REPO, 'tests', 'fixtures', 'analysis')
    for name in sorted(os.listdir(analysis)):
        if not name.endswith('.fixture'):
            continue
        with open(os.path.join(analysis, name), encoding='utf-8') as f:
            for line in f:
                if line.startswith('+ ') and line[2:].strip() != 'none':
                    proven.setdefault(tuple(line[2:].split()), name)
    lines = [
        '## Dependent actions',
        '',
        'Some calls succeed only with a second permission, depending on how the resource is set up or on a '
        'parameter. The analysis attaches them to each call as hints, never to its actions, a policy or a fix: '
        '`CIAM019` (a role passed: `iam:PassRole`, information) and `CIAM020` (a KMS key the resource may use: '
        'off by default, in the hover) in `docs/diagnostics.md`. Each row below is `DEPENDENT` in '
        '`tools/gen_model.py` with its source; the fixture\'s `+` line is checked by '
        '`server/tests/analysis_fixtures.rs` (`every_dependent_action_row_has_a_fixture` requires one per row, and '
        'for a row that depends on a parameter, one call that does not pass it and gets no hint).',
        '',
        '| call | also | when | source | fixture |',
        '|---|---|---|---|---|',
    ]
    for client, op, action, when, reason, source in rows:
        cond = reason if when == 'always' else f'{reason}; only when `{when[3:]}` is passed'
        fixture = proven.get((client, op, action))
        lines.append(f"| {client} `{op}` | `{action}` | {cond} | {source} | "
                     f"{'`' + fixture + '`' if fixture else '**none**'} |")
    return lines + ['']


def timing_section():
    with open(os.path.join(HERE, 'timing.json'), encoding='utf-8') as f:
        runs = json.load(f)['runs']
    mins = lambda s: f'{s // 60} min {s % 60:02d} s'
    lines = [
        '## Running time',
        '',
        '`tests/coverage/run` from a cold venv (`rm -rf tests/.venv-oracle; time tests/coverage/run`); the budget '
        'is 10 minutes on 2 cores. `tests/run` (`.ci/run`) shares the venv with `tests/oracle/run`, so it is made '
        'once per CI run. The figures are in `tests/coverage/timing.json`.',
        '',
        '| measured | machine | wall | venv | oracle (fixtures, at a time) | CPU (user + system) |',
        '|---|---|---:|---:|---:|---:|',
    ]
    for t in runs:
        lines.append(f"| {t['date']} | {t['machine']} | **{mins(t['wall_seconds'])}** | {mins(t['venv_seconds'])} | "
                     f"{mins(t['oracle_seconds'])} ({t['fixtures']}, {t['jobs']}) | {mins(t['cpu_seconds'])} |")
    return lines + ['']


def render(meta, results):
    summary = summarise(meta, results)
    v = meta['versions']
    lines = [
        '# Coverage of boto3\'s resource API and of operation → IAM action mapping',
        '',
        '<!-- generated by tests/coverage/report.py from tests/fixtures/coverage and the last oracle run; '
        'do not edit -->',
        '',
        f"boto3 {v['boto3']}, botocore {v['botocore']}, moto {v['moto']}.",
        '',
        'Every entry of the resource models boto3 ships (`boto3/data/*/resources-1.json`) that sends a request has '
        'a fixture in `tests/fixtures/coverage/<service>/`, generated by `tests/coverage/gen.py` from the installed '
        'boto3: service and resource actions, loads, waiters, each collection through `all()`, `filter()`, '
        '`limit()` and `page_size()`, and each batch action of a collection. The oracle '
        '(`tests/oracle/oracle.py`) runs each fixture\'s code with boto3 and records the operations really sent; '
        '`server/tests/analysis_fixtures.rs` requires the static analysis of the same code to predict exactly '
        'those. An entry is covered when both hold.',
        '',
        'How the operations were answered in the oracle run:',
        '',
        '- **moto**: moto 5 served every request;',
        '- **short-circuit**: moto lacks the operation (or cannot serve it here); the oracle recorded the request '
        'and answered it with an empty response (`# oracle: short-circuit`);',
        '- **Stubber**: botocore\'s Stubber, attached to the app\'s client in the fixture\'s run section, answered '
        'with the response the call needs.',
        '',
        'Either way the operation recorded is the one boto3 sent; only the answer differs.',
        '',
        '## Resource model entries',
        '',
        '| service | entries | covered | % | moto | short-circuit | Stubber | left out | failed |',
        '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ]
    total = {k: 0 for k in ('entries', 'covered', 'moto', 'short-circuit', 'Stubber', 'left out', 'failed')}
    for service in sorted(meta['model']):
        row = summary[service]
        for k in total:
            total[k] += row[k]
        lines.append(f"| {service} | {row['entries']} | {row['covered']} | {pct(row)} | {row['moto']} | "
                     f"{row['short-circuit']} | {row['Stubber']} | {row['left out']} | {row['failed']} |")
    lines.append(f"| **all** | {total['entries']} | {total['covered']} | {pct(total)} | {total['moto']} | "
                 f"{total['short-circuit']} | {total['Stubber']} | {total['left out']} | {total['failed']} |")
    lines += [
        '',
        'Sub-resource constructors (`bucket.Object(key)`) and identifiers send nothing; reading a shape attribute '
        'or a reference (`instance.vpc`) sends the load, which the `load` entries cover.',
        '',
        '### Left out',
        '',
        'Entries no fixture can prove, and why:',
        '',
    ]
    left = [(s, i, e['left_out']) for s, entries in sorted(meta['model'].items())
            for i, e in sorted(entries.items()) if e['left_out']]
    for s, i, why in left:
        lines.append(f'- {s} `{i}`: {why}.')
    if not left:
        lines.append('- none')
    silent = [(s, i, e['raises']) for s, entries in sorted(meta['model'].items())
              for i, e in sorted(entries.items()) if e.get('raises')]
    if silent:
        lines += ['', 'Entries proven to send nothing: boto3 pages a collection with `PaginationConfig` `PageSize`, '
                  'and botocore raises before sending when the operation\'s paginator has no page-size parameter '
                  '(the analysis predicts nothing for them):', '']
        for s, i, exc in silent:
            lines.append(f'- {s} `{i}` raises {exc}')
    lines += ['', 'Batch actions no collection can reach (boto3 only puts batch actions on collections, and no '
              'collection yields these resource types), so nothing can call them:', '']
    unreachable = [(s, i) for s, ids in sorted(meta['unreachable'].items()) for i in ids]
    for s, i in unreachable:
        lines.append(f'- {s} `{i}`')
    if not unreachable:
        lines.append('- none')
    lines += ['', '### Not proven by moto', '', '| service | entry | path | why |', '|---|---|---|---|']
    for service, entries in sorted(meta['model'].items()):
        for i, e in sorted(entries.items()):
            if e['fixture'] is None:
                continue
            ok, path, detail = proof(meta, results, e['fixture'])
            if path != 'moto':
                lines.append(f'| {service} | `{i}` | {path} | {detail} |')
    lines += ['', '## Methods boto3 injects, paginators, waiters, irregular mappings', '',
              '| group | fixtures | passed | % | moto | short-circuit | Stubber | failed |',
              '|---|---:|---:|---:|---:|---:|---:|---:|']
    for group in ('injected methods', 'client paginators and waiters', 'irregular mappings'):
        row = summary[group]
        lines.append(f"| {group} | {row['entries']} | {row['covered']} | {pct(row)} | {row['moto']} | "
                     f"{row['short-circuit']} | {row['Stubber']} | {row['failed']} |")
    lines += [
        '',
        '- **Injected methods** (found on the live classes by `gen.py`, which fails when boto3 injects one it does '
        'not cover): the s3 transfers on the client, `Bucket` and `Object`, each below the multipart threshold, '
        'above it, and failing mid-way (`must-send` / `must-not-send` prove which side each run took: '
        '`PutObject` or `CreateMultipartUpload`/`UploadPart`/`CompleteMultipartUpload`, `AbortMultipartUpload` on '
        'failure; `CopyObject` or `UploadPartCopy` parts); `Bucket.load` (ListBuckets); `ObjectSummary.load` '
        '(HeadObject); `Table.batch_writer`; ec2 `Instance.delete_tags`. ec2\'s injected '
        '`ServiceResource.create_tags` replaces the model action of that name, covered above.',
        '- **Client paginators and waiters**: per service, one fixture iterating every paginator of the client and '
        'one polling once with every waiter, with placeholder arguments, short-circuited: they prove the '
        'operation each paginator and waiter sends.',
        '- **Irregular mappings**: one fixture per row of the operation → action table (`IRREGULAR` in '
        '`tools/gen_model.py`), named `irregular/<client>.<Operation>.fixture`; '
        '`every_irregular_mapping_has_a_source_and_a_fixture_proving_it` checks that each row has a source, '
        'only catalogue actions and its fixture, and that the analysis maps the call to the row\'s actions. '
        'Rows with a moto setup in `specs.py` run against moto; the others use placeholder arguments and a '
        'short-circuit. `dynamodb.TransactWriteItems` sends one transaction of each item kind (Put, Update, '
        'ConditionCheck, Delete), each sent as TransactWriteItems.',
        '',
    ]
    lines += dependent_section()
    lines += timing_section()
    lines += [
        '## Every entry',
        '',
    ]
    for service, entries in sorted(meta['model'].items()):
        row = summary[service]
        lines += [f'<details><summary>{service}: {row["covered"]} of {row["entries"]}</summary>', '',
                  '| entry | kind | proof |', '|---|---|---|']
        for i, e in sorted(entries.items()):
            if e['fixture'] is None:
                status = 'left out'
            else:
                ok, path, _ = proof(meta, results, e['fixture'])
                status = path if ok else f'**{path}**'
            lines.append(f"| `{i}` | {KIND_LABEL.get(e['kind'], e['kind'])} | {status} |")
        lines += ['', '</details>', '']
    return '\n'.join(lines).rstrip('\n') + '\n', summary


def below_baseline(summary, baseline):
    """Groups whose covered fraction (or count) dropped below the baseline."""
    problems = []
    for group, base in sorted(baseline.items()):
        row = summary.get(group)
        if row is None:
            problems.append(f'{group}: missing from the run')
            continue
        # covered/entries >= base_covered/base_entries, in integers.
        if row['covered'] * base['entries'] < base['covered'] * row['entries'] or row['covered'] < base['covered']:
            problems.append(f"{group}: {row['covered']} of {row['entries']} covered, baseline "
                            f"{base['covered']} of {base['entries']}")
    return problems


def self_test(meta, results, baseline):
    """The baseline check must fail when coverage drops: for each group,
    one covered entry's fixture is marked failed in a copy of the run, and
    below_baseline must name that group and no other; a group missing from
    the run must be named too. Returns the problems with the check itself."""
    problems = []
    if below_baseline(summarise(meta, results), baseline):
        return ['the run itself is below the baseline']
    fixtures_of = {}
    for service, entries in meta['model'].items():
        fixtures_of[service] = [e['fixture'] for e in entries.values() if e['fixture']]
    for group, kinds in (('injected methods', ('injected', 'transfer')),
                         ('client paginators and waiters', ('paginator', 'waiter')),
                         ('irregular mappings', ('irregular',))):
        fixtures_of[group] = [rel for rel, info in meta['fixtures'].items() if info['kind'] in kinds]
    for group in sorted(baseline):
        # A fixture proving an entry of this group only (a fixture may
        # prove entries of several groups).
        others = {rel for g, rels in fixtures_of.items() if g != group for rel in rels}
        candidates = [rel for rel in fixtures_of.get(group, []) if rel not in others and results.get(rel, {}).get('ok')]
        if not candidates:
            problems.append(f'{group}: no covered entry to take away')
            continue
        dropped = dict(results)
        dropped[candidates[0]] = dict(results[candidates[0]], ok=False, messages=['self-test'])
        named = [p.split(':', 1)[0] for p in below_baseline(summarise(meta, dropped), baseline)]
        if named != [group]:
            problems.append(f'{group}: failing {candidates[0]} made the check report {named}')
    missing = below_baseline({}, baseline)
    if len(missing) != len(baseline):
        problems.append('groups missing from a run are not all reported')
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--results', required=True, help='the JSON written by tests/oracle/run --results')
    ap.add_argument('--out', default=DOC)
    ap.add_argument('--check', action='store_true', help='fail if any group is below tests/coverage/baseline.json')
    ap.add_argument('--update-baseline', action='store_true')
    ap.add_argument('--self-test', action='store_true',
                    help='check that the baseline check fails when any group loses a covered entry')
    args = ap.parse_args()
    meta, results = load(args.results)
    if args.self_test:
        with open(BASELINE, encoding='utf-8') as f:
            problems = self_test(meta, results, json.load(f))
        for p in problems:
            print(f'baseline self-test: {p}')
        print('baseline self-test: ' + ('failed' if problems else 'a drop in any group fails the check'))
        return 1 if problems else 0
    text, summary = render(meta, results)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, 'w', encoding='utf-8', newline='\n') as f:
        f.write(text)
    counts = {g: {'entries': r['entries'], 'covered': r['covered']} for g, r in summary.items()}
    if args.update_baseline:
        with open(BASELINE, 'w', encoding='utf-8', newline='\n') as f:
            json.dump(counts, f, indent=1, sort_keys=True)
            f.write('\n')
    for g, r in summary.items():
        print(f"coverage: {g}: {r['covered']} of {r['entries']} ({pct(r)})")
    if args.check:
        with open(BASELINE, encoding='utf-8') as f:
            problems = below_baseline(summary, json.load(f))
        for p in problems:
            print(f'coverage below baseline: {p}')
        return 1 if problems else 0
    return 0


if __name__ == '__main__':
    sys.exit(main())
