"""
---
title: How torchrun processes end
summary: >
  Two-process gloo jobs that end through Python's shutdown, beside jobs that end with
  distributed.leave: how many of each abort after their work is done.
---

# How torchrun processes end

```bash
.venv/bin/python bench/torchrun_exit.py             # about 6 minutes on a 2-core CPU
.venv/bin/python bench/torchrun_exit.py --jobs 100
```

Each job is `torchrun --nproc_per_node=2` on a small script that goes through the project's own
[distributed helpers](../labml_nn/helpers/distributed.html): it joins the gloo process group
(`init`), wraps a small model in DistributedDataParallel (`wrap`), sums a few metrics over the
processes (`sum_over_processes`, one all-reduce each) and leaves the group (`close`). Then it
ends in one of two ways:

* **Python's shutdown**: the script returns, as any Python program does;
* **`distributed.leave`**: the process ends at once, with `os._exit`, as every experiment started
  by `torchrun` does.

The two kinds of jobs are started in turn, two at a time, so that the machine is as busy for both.
A job counts as aborted when a process of it died of `SIGABRT`, which is how PyTorch's race
between a gloo worker thread and Python's shutdown ends (`distributed.leave` says more). Any other
failure is counted apart, and printed.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# The project's root, for `labml_nn`, when started as `python bench/torchrun_exit.py`
ROOT = Path(__file__).resolve().parents[1]

# The work of each process; the way it ends is the first argument
WORKER = '''
import sys
import torch
from labml_nn.helpers import distributed
distributed.init()
model = distributed.wrap(torch.nn.Linear(8, 8))
for epoch in range(10):
    distributed.sum_over_processes({'loss': torch.tensor(1.0), 'correct': torch.tensor(3.0)}, 8)
distributed.close()
if sys.argv[1] == 'leave':
    distributed.leave()
'''

# The ways to end: a name, and the argument the worker takes
WAYS = [("Python's shutdown", 'return'), ('distributed.leave', 'leave')]


def job(worker: Path, way: str) -> str:
    """
    Run one job; `'ok'`, `'aborted'` or the end of its output when it failed otherwise.
    """
    result = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2',
         str(worker), way],
        env={**os.environ, 'PYTHONPATH': str(ROOT), 'OMP_NUM_THREADS': '1'},
        capture_output=True, text=True, timeout=300)
    if result.returncode == 0:
        return 'ok'
    if 'Signal 6 (SIGABRT)' in result.stderr:
        return 'aborted'
    return result.stderr[-2000:]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n# ')[0])
    parser.add_argument('--jobs', type=int, default=40, help='jobs of each way')
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        worker = Path(folder) / 'worker.py'
        worker.write_text(WORKER)
        # Both ways in turn: return, leave, return, leave, ...
        queue = [way for _ in range(arguments.jobs) for way in WAYS]
        with ThreadPoolExecutor(max_workers=2) as pool:
            ends = list(pool.map(lambda way: (way[0], job(worker, way[1])), queue))

    print(f'{"way of ending":20}  {"jobs":>5}  {"aborted":>8}  {"other failures":>15}')
    for name, _ in WAYS:
        mine = [end for way, end in ends if way == name]
        aborted = mine.count('aborted')
        others = [end for end in mine if end not in ('ok', 'aborted')]
        print(f'{name:20}  {len(mine):5}  {aborted:8}  {len(others):15}')
        for other in others:
            print(f'  {name} failed otherwise:\n{other}')


if __name__ == '__main__':
    main()
