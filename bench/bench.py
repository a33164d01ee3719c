"""chalice-iam benchmarks: wall time and peak RSS of the CLI on the example
apps and on generated fixtures. Prints a Markdown table; asserts nothing."""
import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_once(cmd):
    """Wall seconds and peak RSS (KiB) of one run of `cmd`."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f'{" ".join(cmd)} exited {code}')
    return wall, usage.ru_maxrss


def measure(cmd, runs):
    run_once(cmd)  # warm the page cache
    samples = [run_once(cmd) for _ in range(runs)]
    walls = [w * 1000 for w, _ in samples]
    rss = max(r for _, r in samples) / 1024
    return statistics.median(walls), min(walls), max(walls), rss


def machine():
    cpu = 'unknown CPU'
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    return f'{os.cpu_count()} cores, {cpu}, {platform.system()} {platform.release()}'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--binary', required=True)
    ap.add_argument('--runs', type=int, default=20)
    ap.add_argument('what', nargs='*', default=['cli'])
    args = ap.parse_args()
    print(f'machine: {machine()}')
    print(f'date: {time.strftime("%Y-%m-%d")}')
    print()
    print('| command | median ms | min ms | max ms | peak RSS MiB |')
    print('|---|---|---|---|---|')
    cases = [
        ('policy examples/thread-resource', [args.binary, 'policy', os.path.join(ROOT, 'examples/thread-resource')]),
        ('policy examples/media-library', [args.binary, 'policy', os.path.join(ROOT, 'examples/media-library')]),
        ('check examples/thread-resource', [args.binary, 'check', os.path.join(ROOT, 'examples/thread-resource')]),
        ('check examples/media-library', [args.binary, 'check', os.path.join(ROOT, 'examples/media-library')]),
    ]
    for name, cmd in cases:
        med, lo, hi, rss = measure(cmd, args.runs)
        print(f'| `{name}` | {med:.1f} | {lo:.1f} | {hi:.1f} | {rss:.1f} |')


if __name__ == '__main__':
    sys.exit(main())
