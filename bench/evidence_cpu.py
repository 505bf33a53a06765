"""
---
title: The long CPU runs of the evidence
summary: >
  The long CPU runs of the evidence pages and of the pictures, in lanes of one CPU thread each,
  at low priority, each run resumed where it stopped.
---

# The long CPU runs of the evidence

The runs behind [the evidence pages](../labml_nn/capsule_networks/evidence_figures.html) and
[the pictures](../labml_nn/capsule_networks/figures.html) take hours of a CPU. This script starts
them, or resumes them where they stopped, so that they can be trained over several sittings:

```bash
.venv/bin/python -m bench.evidence_cpu          # every lane, in the background of the machine
.venv/bin/python -m bench.evidence_cpu --list   # each run, and where it stands
.venv/bin/python -m bench.evidence_cpu --table  # the README's table of where they stand
```

The runs go in three *lanes*, each a process of one thread at the lowest priority (`nice 19`), so
that they share a 2-core machine with other work and measure CPU time that does not depend on
it. Each lane starts in a session of its own: Linux shares the CPU between sessions first
(*autogroups*) and by `nice` only within one, so a lane started from a busy shell's session would
get almost nothing. `echo 5 > /proc/PID/autogroup` lowers a lane's share against the others. A
lane trains its runs one after the other:

1. MultiMNIST: the CapsNet for 6 passes of $59{,}904$ pairs ($468$ whole batches), then the
   baseline on the same stream of pairs and a schedule of the same length, for as long as it is
   given;
2. the affine experiment: the CapsNet, then the baseline, each until $97\\%$ on the same $5{,}000$
   translated test digits, checked every $10{,}240$ training digits;
3. MNIST: the CapsNet of the pictures, 5 epochs at a batch of $128$.

A later run of a lane can train beside the one before it, in a process of its own:
`--lane 0 --first 1` trains the MultiMNIST baseline while the lane's first process trains the
CapsNet; that process, once there, waits for it and passes over it when it has finished. A lane
left alone on the machine can take both cores, `--threads 2`, resumed from its last checkpoint.

A run is found again by its configs: the run of the experiment whose checkpoint holds exactly
these overrides. One that has finished is passed over, one that has not is resumed with
`--resume` (once the process still training it, if any, has ended), and a run killed before its
first checkpoint starts again.
"""

import argparse
import importlib
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Optional, Tuple

import torch

# The project's root
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.evidence_table import PAPER_AFFINE, PAPER_MULTI_MNIST_ERROR  # noqa: E402
from labml_nn.helpers import checkpoint  # noqa: E402
from labml_nn.helpers.configs import entries, parse_arguments  # noqa: E402
from labml_nn.helpers.mnist import TRAIN_IMAGES  # noqa: E402
from labml_nn.helpers.run_log import read_log  # noqa: E402
from labml_nn.helpers.runner import positive  # noqa: E402

# The configs both models of an experiment share: the same data stream, the same schedule
MULTI_MNIST = ['device=cpu', 'epochs=6', 'batch_size=128', 'valid_subset=10000',
               'curve_start=1024']
AFFINE = ['device=cpu', 'epochs=3', 'batch_size=128', 'valid_subset=5000', 'valid_every=10240',
          'curve_start=1024', 'stop_accuracy=0.97']
# The peak learning rates: the paper's Adam at $10^{-3}$ for the CapsNet; $3 \cdot 10^{-4}$ for the
# baseline, whose short CPU run at $10^{-3}$ fell back to chance
CAPSNET = ['learning_rate=1e-3']
BASELINE = ['model=baseline', 'learning_rate=3e-4']

# Each lane: its runs in order, each `(experiment module, command-line configs)`
LANES: List[List[Tuple[str, List[str]]]] = [
    [('multi_mnist', MULTI_MNIST[:3] + CAPSNET + MULTI_MNIST[3:]),
     ('multi_mnist', MULTI_MNIST + BASELINE)],
    [('affine', AFFINE[:3] + CAPSNET + AFFINE[3:]), ('affine', AFFINE + BASELINE)],
    [('mnist', ['device=cpu', 'epochs=5', 'batch_size=128', 'learning_rate=1e-3',
                'curve_start=1024'])],
]

# The folder of each experiment's runs under `logs/`
FOLDERS = {'mnist': 'capsule_network_mnist', 'multi_mnist': 'capsule_network_multi_mnist',
           'affine': 'capsule_network_affine'}


def find_run(module: str, arguments: List[str]) -> Tuple[Optional[Path], bool]:
    """
    The folder of the run of `module` started with `arguments`, and whether it has finished;
    `(None, False)` when there is none with a checkpoint.
    """
    configs = importlib.import_module(f'labml_nn.capsule_networks.{module}').Configs
    # What the run keeps in its checkpoint
    wanted = parse_arguments(configs, arguments)
    for path in sorted((ROOT / 'logs' / FOLDERS[module]).glob(f'*/{checkpoint.FILE_NAME}')):
        state = checkpoint.load(path, torch.device('cpu'))
        if state['overrides'] != wanted:
            continue
        epochs = wanted.get('epochs', entries(configs)['epochs'].default)
        return path.parent, state['epoch'] >= epochs or state.get('reached_goal', False)
    return None, False


def training(folder: Path) -> bool:
    """
    Whether a process is training the run in `folder` now: labml's `run.pid` names a live one.
    """
    pid_file = folder / 'run.pid'
    text = pid_file.read_text().strip() if pid_file.is_file() else ''
    if not text.isdigit():
        return False
    try:
        os.kill(int(text), 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        pass
    return True


def wilson(correct: float, total: int, z: float = 1.96) -> Tuple[float, float]:
    """
    The 95% confidence interval of an accuracy of `correct` right of `total` test examples,
    Wilson's: it stays within $[0, 1]$ near either end.
    """
    p = correct / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return centre - half, centre + half


# What each experiment's accuracy counts, and the size of its whole test set
COUNTED = {'multi_mnist': ('MultiMNIST, both digits right', 'pairs', 100_000),
           'affine': ('affine: translated test digits right', 'digits', 10_000)}


# Each lane's runs of the tables, as `(module, arguments, folder, finished)`
Found = List[List[Tuple[str, List[str], Optional[Path], bool]]]


def find_counted() -> Found:
    """
    Find, once for both tables, the runs of the lanes whose accuracy the tables count: finding
    a run loads every checkpoint of its experiment.
    """
    return [[(module, arguments, *find_run(module, arguments)) for module, arguments in runs]
            for runs in LANES if runs[0][0] in COUNTED]


def table(found: Found) -> List[str]:
    """
    The README's table of the evidence runs: how far each has trained, its last test accuracy
    with its confidence interval, its CPU time (training only, compilation included).
    """
    rows = ['| experiment | model | trained on | test accuracy (95% interval) | CPU time '
            '| transformed test digits right | the paper |', '|---|---|---|---|---|---|---|']
    for runs in found:
        for module, arguments, folder, finished in runs:
            what, unit, whole = COUNTED[module]
            model = 'baseline' if 'model=baseline' in arguments else 'CapsNet'
            # The paper's accuracies: MultiMNIST's from its error; on the affine experiment, on
            # the translated digits where training stopped, then on affNIST
            if module == 'multi_mnist':
                paper = f'{100 - PAPER_MULTI_MNIST_ERROR[model.lower()]:.1f}%'
            else:
                paper = '{:.2f}%, then {:.0f}% of affNIST'.format(*PAPER_AFFINE[model.lower()])
            if folder is None:
                rows.append(f'| {what} | {model} | not started | | | | {paper} |')
                continue
            log = read_log(folder)
            seen, accuracy = log['accuracy.valid'][-1]
            cpu = log['cpu_time.train'][-1][1]
            configs = parse_arguments(importlib.import_module(
                f'labml_nn.capsule_networks.{module}').Configs, arguments)
            epochs, tested = configs['epochs'], configs.get('valid_subset') or whole
            # An epoch trains on whole batches only
            per_epoch = TRAIN_IMAGES // configs['batch_size'] * configs['batch_size']
            # A run with a target accuracy stops there, or after its epochs
            at_most = 'at most ' if any(a.startswith('stop_accuracy=') for a in arguments) else ''
            state = 'finished' if finished else f'of {at_most}{epochs * per_epoch:,} planned'
            # The transformed digits are tested once the affine run has finished
            affine = log.get('accuracy.affine')
            transformed = f'{affine[-1][1]:.2%}' if affine else (
                'when finished' if module == 'affine' else '')
            low, high = wilson(accuracy * tested, tested)
            rows.append(f'| {what} | {model} | {seen:,} {unit}, {state} | {accuracy:.2%} '
                        f'({low:.1%} to {high:.1%}) of {tested:,} | {cpu:,.0f} s '
                        f'| {transformed} | {paper} |')
    return rows


def side_by_side(found: Found) -> List[str]:
    """
    The two models of each experiment at the same examples seen: their test accuracies at every
    record both runs have reached, and the CPU time each took to get there.
    """
    rows = []
    for runs in found:
        if len(runs) != 2:
            continue
        module = runs[0][0]
        what, unit, _ = COUNTED[module]
        logs = [read_log(folder) for _, _, folder, _ in runs if folder]
        if len(logs) < 2:
            continue
        accuracies = [dict(log['accuracy.valid']) for log in logs]
        seconds = [dict(log['cpu_time.train']) for log in logs]
        common = sorted(set(accuracies[0]) & set(accuracies[1]))
        rows += ['', f'{what}, both models at the same {unit} seen:', '',
                 f'| {unit} seen | CapsNet | baseline | CPU time, CapsNet | CPU time, baseline |',
                 '|---|---|---|---|---|']
        rows += [f'| {step:,} | {accuracies[0][step]:.2%} | {accuracies[1][step]:.2%} '
                 f'| {seconds[0][step]:,.0f} s | {seconds[1][step]:,.0f} s |' for step in common]
    return rows


def run_lane(lane: int, first: int = 0, threads: int = 1):
    """
    Train the runs of `lane` in turn, from its run number `first`, at the lowest priority, on
    `threads` threads: one, unless the other lanes have finished and left a core free.
    """
    os.nice(19)
    environment = dict(os.environ, OMP_NUM_THREADS=str(threads))
    for module, arguments in LANES[lane][first:]:
        folder, finished = find_run(module, arguments)
        while folder is not None and not finished and training(folder):
            time.sleep(60)
            folder, finished = find_run(module, arguments)
        if finished:
            continue
        command = [sys.executable, '-m', f'labml_nn.capsule_networks.{module}']
        command += ['--resume', str(folder)] if folder else arguments
        print(' '.join(command), flush=True)
        subprocess.run(command, cwd=ROOT, env=environment, check=True)


def main(argv: List[str]):
    parser = argparse.ArgumentParser(description=__doc__.split('---')[2].strip().split('\n')[0])
    parser.add_argument('--lane', type=int, choices=range(len(LANES)),
                        help='train this lane in this process (default: start every lane in '
                             'the background, in a session of its own, its output in '
                             'logs/evidence-lane-N.txt)')
    parser.add_argument('--first', type=int, default=0, metavar='K',
                        help="with --lane, start at the lane's run K (from 0): a run later in a "
                             'lane trains beside the one before it, on a core of its own')
    parser.add_argument('--threads', type=positive, default=1, metavar='N',
                        help="with --lane, train on N threads (default: 1); the CPU time a run "
                             "logs counts every thread's")
    parser.add_argument('--list', action='store_true', help='list the runs and where they stand')
    parser.add_argument('--table', action='store_true',
                        help="print the README's tables: where the runs stand, and both models of "
                             'an experiment at the same examples seen')
    args = parser.parse_args(argv)
    if args.table:
        found = find_counted()
        print('\n'.join(table(found) + side_by_side(found)))
        return
    if args.list:
        for lane, runs in enumerate(LANES):
            for module, arguments in runs:
                folder, finished = find_run(module, arguments)
                where = 'not started' if folder is None else (
                    f'{folder.name}, ' + ('finished' if finished else 'unfinished'))
                print(f'lane {lane}: {module} {" ".join(arguments)}: {where}')
        return
    if args.first and (args.lane is None or not 0 <= args.first < len(LANES[args.lane])):
        parser.error('--first needs --lane, and a run of that lane: from 0 to one less than its '
                     'number of runs')
    if args.threads != 1 and args.lane is None:
        parser.error('--threads needs --lane')
    if args.lane is not None:
        run_lane(args.lane, args.first, args.threads)
        return
    (ROOT / 'logs').mkdir(exist_ok=True)
    for lane in range(len(LANES)):
        with open(ROOT / 'logs' / f'evidence-lane-{lane}.txt', 'a') as out:
            subprocess.Popen([sys.executable, '-m', 'bench.evidence_cpu', '--lane', str(lane)],
                             cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                             start_new_session=True)
        print(f'lane {lane} started: logs/evidence-lane-{lane}.txt')


if __name__ == '__main__':
    main(sys.argv[1:])
