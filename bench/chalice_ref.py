"""Runs chalice 1.34.0's own code on an app.py, for comparison (run with the
benchmark venv's python).

    chalice_ref.py policy APP [REPEAT]     policy_from_source_code
    chalice_ref.py analyzer APP [REPEAT]   get_client_calls_for_app

With REPEAT, also prints the in-process milliseconds of each of REPEAT calls
(the import of chalice and interpreter start-up excluded), one per line.
"""
import sys
import time

from chalice.analyzer import get_client_calls_for_app
from chalice.policy import policy_from_source_code

FUNCTIONS = {'policy': policy_from_source_code, 'analyzer': get_client_calls_for_app}


def main():
    what, path = sys.argv[1], sys.argv[2]
    repeat = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    fn = FUNCTIONS[what]
    with open(path, encoding='utf-8') as f:
        source = f.read()
    for _ in range(repeat):
        start = time.perf_counter()
        fn(source)
        if len(sys.argv) > 3:
            print(f'{(time.perf_counter() - start) * 1000:.3f}')


if __name__ == '__main__':
    main()
