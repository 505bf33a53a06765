"""
---
title: The benchmark harness
summary: Trains labml-nn 0.5.1 and this project's CapsNet, each in its own process, and prints a table and the ratios.
---

# The benchmark harness

```bash
python -m bench.run --quick        # throughput on a few steps: a couple of minutes on a 2-core CPU
python -m bench.run                # throughput on more steps
python -m bench.run --accuracy     # training seconds until the test accuracy reaches 99.0 ... 99.7%
python -m bench.run --table a.json b.json   # the report of saved results, without training
```

(`make bench-quick`, `make bench` and `make bench-accuracy` set the project up first, the anchor
included.)

The *anchor* is labml-nn 0.5.1's MNIST capsule network, trained by [`anchor.py`](anchor.html).
Its package is also called `labml_nn`, so `make anchor` installs it apart from everything else,
into `.build/anchor`, and it is trained in a process of its own with that folder first on
`PYTHONPATH`. *Ours* is this project's model, trained by [`ours.py`](ours.html) with the
project's root first on `PYTHONPATH`. Both get the same device and the same data folder, and
both follow [the runner contract](index.html#the-runner-contract).

## Two comparisons

Each model at its own default settings, and both at the same batch size, 64, in float32. The
anchor's defaults *are* batch 64 in float32, so one anchor run serves both: `--compare both` (the
default for throughput) trains the anchor once and ours twice, once with its defaults and once with
`--batch-size 64 --precision fp32`. `--compare default` and `--compare same-batch` train ours once.
Accuracy runs compare the defaults unless told otherwise.

The harness adds two keys to each runner's result: `runner` (`anchor` or `ours`) and `setting`
(`default` or `batch 64 fp32`).
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from bench.measure import ANCHOR_VERSION, THRESHOLDS

# The project's root, and the runners beside this file.
REPO = Path(__file__).resolve().parents[1]
ANCHOR_SCRIPT = REPO / 'bench' / 'anchor.py'
OURS_SCRIPT = REPO / 'bench' / 'ours.py'
# Where `make anchor` installs the anchor's package, apart from everything else.
ANCHOR_FOLDER = REPO / '.build' / 'anchor'
# The batch size and precision of the same-settings comparison: the anchor's defaults.
SAME_BATCH, SAME_PRECISION = 64, 'fp32'
SAME_SETTING = f'batch {SAME_BATCH} {SAME_PRECISION}'
# Steps of each throughput measurement: `--quick`, and otherwise.
QUICK_STEPS = {'warmup_steps': 5, 'steps': 20}
FULL_STEPS = {'warmup_steps': 10, 'steps': 100}


class BenchError(RuntimeError):
    """
    Something stops the benchmark; the message says what and how to fix it.
    """


def anchor_installed(folder: Path) -> bool:
    """
    Whether `folder` holds labml-nn 0.5.1 with its capsule network.
    """
    return ((folder / f'labml_nn-{ANCHOR_VERSION}.dist-info').is_dir() and
            (folder / 'labml_nn' / 'capsule_networks' / 'mnist.py').is_file())


def require_anchor(folder: Path):
    """
    Stop with the fix when `folder` does not hold labml-nn 0.5.1.
    """
    if not anchor_installed(folder):
        raise BenchError(f'labml-nn {ANCHOR_VERSION} is not installed in {folder}: run '
                         f'`make anchor`, or `{sys.executable} -m pip install --no-deps --target '
                         f'{folder} labml-nn=={ANCHOR_VERSION}`.')


def runner_command(script: Path, options: Dict[str, object]) -> List[str]:
    """
    The command line of one runner: `options` maps each option (without `--`) to its value; `None`
    leaves the runner's default.
    """
    command = [sys.executable, str(script)]
    for name, value in options.items():
        if value is not None:
            command += [f'--{name.replace("_", "-")}', str(value)]
    return command


def run_runner(command: List[str], pythonpath: Path) -> Dict:
    """
    ## Running one runner

    Starts `command` with `pythonpath` first on `PYTHONPATH`, lets its progress through, and returns
    the JSON object on the last line of its standard output.
    """
    env = dict(os.environ)
    inherited = [path for path in env.get('PYTHONPATH', '').split(os.pathsep) if path]
    env['PYTHONPATH'] = os.pathsep.join([str(pythonpath)] + inherited)
    print(f'bench: {" ".join(command)}', file=sys.stderr, flush=True)
    done = subprocess.run(command, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    # Anything the runner printed before its result is passed on.
    for line in lines[:-1]:
        print(line, file=sys.stderr)
    if done.returncode != 0:
        raise BenchError(f'{Path(command[1]).name} failed with exit status {done.returncode}; '
                         'its messages are above.')
    try:
        result = json.loads(lines[-1])
    except (IndexError, json.JSONDecodeError):
        raise BenchError(f'{Path(command[1]).name} did not print a JSON object as its last line of '
                         f'standard output; it printed: {lines[-1] if lines else "nothing"!r}')
    return result


def _number(value: Optional[float], digits: int = 1, unit: str = '') -> str:
    """
    A number for the table, or `-` where there is none.
    """
    return '-' if value is None else f'{value:.{digits}f}{unit}'


def _ratio(ours: Optional[float], anchor: Optional[float]) -> Optional[float]:
    """
    ours / anchor, where both are there and the anchor's is not zero.
    """
    if ours is None or not anchor:
        return None
    return ours / anchor


def label(result: Dict) -> str:
    """
    A result's name in the table: `anchor`, `ours`, or `ours, batch 64 fp32`.
    """
    if result['runner'] == 'ours' and result['setting'] != 'default':
        return f'ours, {result["setting"]}'
    return result['runner']


def _columns(rows: List[List[str]]) -> str:
    """
    Rows of cells as left-aligned columns; the first row is the header.
    """
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return '\n'.join('  '.join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
                     for row in rows)


def loss_change(losses: Optional[List[float]]) -> str:
    """
    The mean loss of the first and of the last tenth of the timed steps (one step at least), as
    `first→last`: the evidence that the steps trained.
    """
    if not losses:
        return '-'
    tenth = max(1, len(losses) // 10)
    first, last = sum(losses[:tenth]) / tenth, sum(losses[-tenth:]) / tenth
    return f'{first:.3g}→{last:.3g}'


# How the table names the kinds of peak memory
MEMORY_KINDS = {'cuda_max_allocated': 'gpu', 'cpu_peak_rss': 'rss'}


def format_table(results: List[Dict]) -> str:
    """
    ## The report

    One row for each result: device, batch, the precision and compilation read back from the run,
    images per second, peak memory, the loss over the timed steps and the training seconds until
    each test accuracy.
    """
    header = ['runner', 'mode', 'device', 'batch', 'precision', 'compiled', 'img/s', 'peak MiB',
              'loss', *[f'{t}%' for t in THRESHOLDS], 'best %']
    rows = [header]
    for result in results:
        memory = _number(result['peak_memory_mb'], 0)
        kind = MEMORY_KINDS.get(result['memory_kind'], result['memory_kind'])
        rows.append([label(result), result['mode'], result['device'], str(result['batch_size']),
                     result['precision'] or '-', 'yes' if result['compiled'] else 'no',
                     _number(result['images_per_second']), f'{memory} ({kind})',
                     loss_change(result['losses']),
                     *[_number(result['time_to_accuracy'].get(t), 1, ' s') for t in THRESHOLDS],
                     _number(result['best_accuracy'], 2)])
    return _columns(rows)


def ratios(results: List[Dict]) -> List[Dict]:
    """
    ours / anchor for each of our results, against the anchor's result of the same mode on the same
    device: images per second (above 1 is faster), peak memory (below 1 is smaller, and only for
    the same kind of memory), and the time to each accuracy (below 1 is sooner).
    """
    compared = []
    for ours in (r for r in results if r['runner'] == 'ours'):
        anchors = [r for r in results if r['runner'] == 'anchor'
                   and r['mode'] == ours['mode'] and r['device'] == ours['device']]
        if not anchors:
            continue
        anchor = anchors[0]
        same_memory = anchor['memory_kind'] == ours['memory_kind']
        compared.append({
            'label': label(ours), 'mode': ours['mode'], 'device': ours['device'],
            'images_per_second': _ratio(ours['images_per_second'], anchor['images_per_second']),
            'peak_memory': (_ratio(ours['peak_memory_mb'], anchor['peak_memory_mb'])
                            if same_memory else None),
            'time_to_accuracy': {t: _ratio(ours['time_to_accuracy'].get(t),
                                           anchor['time_to_accuracy'].get(t)) for t in THRESHOLDS},
        })
    return compared


def format_ratios(compared: List[Dict]) -> str:
    """
    The ratios as a second table.
    """
    header = ['ours / anchor', 'mode', 'device', 'img/s', 'peak memory',
              *[f'{t}%' for t in THRESHOLDS]]
    rows = [header]
    for ratio in compared:
        rows.append([ratio['label'], ratio['mode'], ratio['device'],
                     _number(ratio['images_per_second'], 2, 'x'),
                     _number(ratio['peak_memory'], 2, 'x'),
                     *[_number(ratio['time_to_accuracy'][t], 2, 'x') for t in THRESHOLDS]])
    return _columns(rows)


# What the clock counted, said under every table.
CLOCK_NOTE = ('img/s: in throughput mode, the timed steps after the warm-up, which holds the '
              'compilation of a compiled model; in accuracy mode, all training, compilation '
              'included.')


def report(results: List[Dict]) -> str:
    """
    The table, what the clock counted, each runner's notes, and the ratios.
    """
    lines = [format_table(results), '', CLOCK_NOTE]
    # Which processor or GPU gave the numbers.
    devices = [f'device {r["device"]}: {r["device_name"]}, {r["threads"]} torch threads, '
               f'torch {r["torch"]}' for r in results]
    lines += list(dict.fromkeys(devices))
    # Each note once, though several runs of a runner repeat it.
    notes = [f'note ({label(result)}, {result["name"]}): {note}'
             for result in results for note in result.get('notes', [])]
    lines += list(dict.fromkeys(notes))
    compared = ratios(results)
    if compared:
        lines += ['', format_ratios(compared)]
    return '\n'.join(lines)


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    """
    ## The command line
    """
    parser = argparse.ArgumentParser(
        prog='python -m bench.run',
        description='Benchmark this project\'s capsule network against labml-nn 0.5.1.')
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument('--quick', action='store_true',
                      help=f'throughput on {QUICK_STEPS["warmup_steps"]} + '
                           f'{QUICK_STEPS["steps"]} steps')
    mode.add_argument('--accuracy', action='store_true', help='time to each test accuracy')
    mode.add_argument('--table', nargs='+', type=Path, metavar='JSON',
                      help='report results saved with --save, without training')
    parser.add_argument('--compare', choices=('both', 'default', 'same-batch'), default=None,
                        help='ours at its defaults, at batch 64 fp32, or both '
                             '(default: both for throughput, default for accuracy)')
    parser.add_argument('--runners', default='anchor,ours', help='anchor, ours, or anchor,ours')
    parser.add_argument('--device', choices=('auto', 'cpu', 'cuda'), default='auto')
    parser.add_argument('--data', type=Path, default=REPO / 'data',
                        help='the folder holding MNIST/raw/')
    parser.add_argument('--warmup-steps', type=int, default=None)
    parser.add_argument('--steps', type=int, default=None)
    parser.add_argument('--epochs', type=int, default=None,
                        help='accuracy: cap (runner default: 10)')
    parser.add_argument('--max-seconds', type=float, default=None,
                        help='accuracy: cap on training seconds')
    parser.add_argument('--eval-every-steps', type=int, default=None)
    parser.add_argument('--train-images', type=int, default=None)
    parser.add_argument('--test-images', type=int, default=None)
    parser.add_argument('--anchor-folder', type=Path, default=ANCHOR_FOLDER,
                        help='where labml-nn 0.5.1 is installed (`make anchor`)')
    parser.add_argument('--save', type=Path, default=None,
                        help='also write the results to this JSON file')
    args = parser.parse_args(argv)
    args.runners = [name.strip() for name in args.runners.split(',') if name.strip()]
    unknown = set(args.runners) - {'anchor', 'ours'}
    if unknown or not args.runners:
        parser.error('--runners takes anchor, ours or anchor,ours, not '
                     f'{",".join(sorted(unknown)) or "nothing"}')
    return args


def plan(args: argparse.Namespace) -> List[Dict]:
    """
    ## What to run

    Each run: which runner, which setting, and its command line.
    """
    mode = 'accuracy' if args.accuracy else 'throughput'
    steps = QUICK_STEPS if args.quick else FULL_STEPS
    common = {'mode': mode, 'device': args.device, 'data': args.data.absolute(),
              'train_images': args.train_images, 'test_images': args.test_images}
    if mode == 'throughput':
        for name in ('warmup_steps', 'steps'):
            given = getattr(args, name)
            common[name] = given if given is not None else steps[name]
    else:
        common.update(epochs=args.epochs, max_seconds=args.max_seconds,
                      eval_every_steps=args.eval_every_steps)
    compare = args.compare or ('both' if mode == 'throughput' else 'default')
    settings = {'both': ['default', SAME_SETTING], 'default': ['default'],
                'same-batch': [SAME_SETTING]}[compare]
    runs = []
    if 'anchor' in args.runners:
        runs.append({'runner': 'anchor', 'setting': 'default', 'script': ANCHOR_SCRIPT,
                     'pythonpath': args.anchor_folder, 'options': dict(common)})
    if 'ours' in args.runners:
        for setting in settings:
            same = ({'batch_size': SAME_BATCH, 'precision': SAME_PRECISION}
                    if setting == SAME_SETTING else {})
            runs.append({'runner': 'ours', 'setting': setting, 'script': OURS_SCRIPT,
                         'pythonpath': REPO, 'options': {**common, **same}})
    return runs


def main(argv: Optional[Sequence[str]] = None):
    """
    ## The benchmark

    Check everything that could stop it before training anything, then run, then report.
    """
    args = parse_args(argv)
    if args.table:
        missing = [str(path) for path in args.table if not path.is_file()]
        if missing:
            raise BenchError('no saved results in ' + ', '.join(missing) +
                             ' (save them with --save FILE)')
        results = [result for path in args.table for result in json.loads(path.read_text())]
        # In the order a benchmark runs them, whatever the order of the files
        results.sort(key=lambda r: (r['mode'] != 'throughput', r['runner'] != 'anchor',
                                    r['setting'] != 'default'))
        print(report(results))
        return
    # The MNIST files, put in place and checked by this project's helper.
    from labml_nn.helpers.mnist import MNISTDataError, prepare
    try:
        prepare(args.data)
    except MNISTDataError as error:
        raise BenchError(str(error))
    if 'anchor' in args.runners:
        require_anchor(args.anchor_folder)

    results = []
    for run in plan(args):
        result = run_runner(runner_command(run['script'], run['options']), run['pythonpath'])
        results.append({**result, 'runner': run['runner'], 'setting': run['setting']})
    if args.save:
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_text(json.dumps(results, indent=1))
    print()
    print(report(results))


if __name__ == '__main__':
    try:
        main()
    except BenchError as error:
        sys.exit(f'bench: {error}')
