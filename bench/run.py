"""
---
title: The benchmark harness
summary: Installs labml-nn 0.5.1, trains it and this project's capsule network in separate processes on the same device, and prints a table, the ratios and a summary line.
---

# The benchmark harness

```bash
python -m bench.run --quick        # throughput on a few steps: a couple of minutes on a 2-core CPU
python -m bench.run                # throughput on more steps
python -m bench.run --accuracy     # the training seconds until the test accuracy reaches 99.0 ... 99.7%
python -m bench.run --table a.json b.json   # the report of saved results, without training
```

(`make bench-quick`, `make bench` and `make bench-accuracy` set the project up first.)

The *anchor* is labml-nn 0.5.1's MNIST capsule network, trained by [`anchor.py`](anchor.html).
Its package is also called `labml_nn`, so it is installed apart from everything else, with
`pip install --no-deps --target .build/anchor labml-nn==0.5.1` (once; later runs reuse the folder),
and trained in a process of its own with that folder first on `PYTHONPATH`.
*Ours* is this project's model, trained by `bench/ours.py` with the project's root first on
`PYTHONPATH`. Both get the same device and the same data folder.

## Two comparisons

The issue asks for two: each model at its own default settings, and both at the same batch size,
64, in float32. The anchor's defaults *are* batch 64 in float32, so one anchor run serves both:
`--compare both` (the default for throughput) trains the anchor once and ours twice, once with its
defaults and once with `--batch-size 64 --precision fp32`. `--compare default` and
`--compare same-batch` train ours once. Accuracy runs compare the defaults unless told otherwise.

## The runner contract

`bench/anchor.py` and `bench/ours.py` are started as
`python bench/<runner>.py --mode throughput|accuracy [options]`; each accepts every option of the
table below, writes progress to standard error, and prints one JSON object as the last line of
standard output. A runner may reject a precision it does not support (the anchor knows only
`fp32`), but must accept `fp32`.

| option | meaning | default |
|---|---|---|
| `--mode` | `throughput` or `accuracy` | required |
| `--device` | `auto` (CUDA when available), `cpu` or `cuda` | `auto` |
| `--data` | the folder holding `MNIST/raw/` | `data` |
| `--batch-size`, `--precision` | training batch size; `fp32`, `bf16`, ... | the runner's own |
| `--warmup-steps`, `--steps` | throughput: untimed, then timed steps | 5, 50 |
| `--epochs`, `--max-seconds` | accuracy: caps on epochs and training seconds | 10, none |
| `--eval-every-steps` | accuracy: also evaluate every this many steps (0: epoch ends only) | 0 |
| `--train-images`, `--test-images` | only the first this many images | all |
| `--seed` | initialisation and shuffling | 0 |

The JSON object has these keys: `name`, `mode`, `device` (`cpu` or `cuda`), `device_name`,
`threads`, `batch_size`, `precision`, `images_per_second`, `train_images`, `train_seconds`,
`peak_memory_mb`, `memory_kind` (`cuda_max_allocated` or `cpu_peak_rss`), `time_to_accuracy`
(`{"99.0": seconds or null, "99.5": ..., "99.6": ..., "99.7": ...}`), `best_accuracy` (percent, or
null), `accuracy_history` (`[[seconds, percent], ...]`), `epochs`, `torch` and `notes` (a list of
strings). The meaning of each, and when the clock runs, are in [`measure.py`](measure.html), whose
`main` gives any runner this command line and this output.

The harness adds two keys to each result: `runner` (`anchor` or `ours`) and `setting` (`default` or
`batch 64 fp32`).
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from bench.measure import ANCHOR_VERSION, THRESHOLDS

# The project's root, and the runners beside this file.
REPO = Path(__file__).resolve().parents[1]
ANCHOR_SCRIPT = REPO / 'bench' / 'anchor.py'
OURS_SCRIPT = REPO / 'bench' / 'ours.py'
# Where the anchor's package is installed, apart from everything else.
ANCHOR_FOLDER = REPO / '.build' / 'anchor'
ANCHOR_REQUIREMENT = f'labml-nn=={ANCHOR_VERSION}'
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
        raise BenchError(f'labml-nn {ANCHOR_VERSION} is not installed in {folder}.\n'
                         f'Install it with `{sys.executable} -m pip install --no-deps --target {folder} '
                         f'{ANCHOR_REQUIREMENT}` (or give a downloaded wheel with --anchor-wheel), '
                         'or run without --no-install to let the benchmark do it.')


def install_anchor(folder: Path, source: str = ANCHOR_REQUIREMENT):
    """
    ## Installing the anchor

    `pip install --no-deps --target` into a sibling folder first, renamed to `folder` once complete,
    so that an interrupted install is not mistaken for a finished one. `source` is the requirement
    `labml-nn==0.5.1` or the path of its wheel (for machines without internet access).
    """
    if anchor_installed(folder):
        return
    partial = folder.with_name(folder.name + '.partial')
    shutil.rmtree(partial, ignore_errors=True)
    command = [sys.executable, '-m', 'pip', 'install', '--no-deps', '--disable-pip-version-check',
               '--target', str(partial), source]
    print(f'bench: installing the anchor: {" ".join(command)}', file=sys.stderr, flush=True)
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0 or not anchor_installed(partial):
        shutil.rmtree(partial, ignore_errors=True)
        output = (done.stdout + done.stderr).strip().splitlines()[-15:]
        raise BenchError(f'Could not install labml-nn {ANCHOR_VERSION} into {folder}: '
                         f'`{" ".join(command)}` failed (exit {done.returncode}):\n  ' + '\n  '.join(output) +
                         '\nWithout access to the package index, download the wheel elsewhere '
                         f'(`pip download --no-deps {ANCHOR_REQUIREMENT}`) and pass it with --anchor-wheel.')
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)


def require_ours(script: Path):
    """
    Stop before any training when the runner for this project's model, `script`, is missing.
    """
    if not script.is_file():
        raise BenchError(f'{script} does not exist: it is the runner for this project\'s model, '
                         'with the command line and JSON output described in bench/run.py. '
                         'Run only the anchor with --runners anchor.')


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
    env['PYTHONPATH'] = os.pathsep.join([str(pythonpath)] + [p for p in env.get('PYTHONPATH', '').split(os.pathsep) if p])
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
    return '\n'.join('  '.join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)


def format_table(results: List[Dict]) -> str:
    """
    ## The report

    One row for each result: device, batch, precision, images per second, peak memory and the
    training seconds until each test accuracy.
    """
    header = ['runner', 'mode', 'device', 'batch', 'precision', 'img/s', 'peak MiB',
              *[f'{t}%' for t in THRESHOLDS], 'best %']
    rows = [header]
    for result in results:
        memory = _number(result['peak_memory_mb'], 0)
        kind = {'cuda_max_allocated': 'gpu', 'cpu_peak_rss': 'rss'}.get(result['memory_kind'], result['memory_kind'])
        rows.append([label(result), result['mode'], result['device'], str(result['batch_size']),
                     result['precision'], _number(result['images_per_second']), f'{memory} ({kind})',
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
            'peak_memory': _ratio(ours['peak_memory_mb'], anchor['peak_memory_mb']) if same_memory else None,
            'time_to_accuracy': {t: _ratio(ours['time_to_accuracy'].get(t), anchor['time_to_accuracy'].get(t))
                                 for t in THRESHOLDS},
        })
    return compared


def format_ratios(compared: List[Dict]) -> str:
    """
    The ratios as a second table.
    """
    header = ['ours / anchor', 'mode', 'device', 'img/s', 'peak memory', *[f'{t}%' for t in THRESHOLDS]]
    rows = [header]
    for ratio in compared:
        rows.append([ratio['label'], ratio['mode'], ratio['device'],
                     _number(ratio['images_per_second'], 2, 'x'), _number(ratio['peak_memory'], 2, 'x'),
                     *[_number(ratio['time_to_accuracy'][t], 2, 'x') for t in THRESHOLDS]])
    return _columns(rows)


def _suffix(result: Dict) -> str:
    """
    How the summary tells our runs apart: nothing for the defaults, `@b64-fp32` for the same settings.
    """
    if result['setting'] == 'default':
        return ''
    return '@' + result['setting'].replace('batch ', 'b').replace(' ', '-')


def summary_line(results: List[Dict]) -> str:
    """
    One line of `key=value`s: the devices; for throughput runs each runner's images per second,
    ours' speed-up and memory ratio; for accuracy runs the best accuracies, and the time to each
    threshold with its ratio ours/anchor.
    """
    parts = ['summary: device=' + ','.join(sorted({r['device'] for r in results}))]
    compared = {(c['label'], c['mode'], c['device']): c for c in ratios(results)}
    for mode in ('throughput', 'accuracy'):
        ours = [r for r in results if r['mode'] == mode and r['runner'] == 'ours']
        anchor = next((r for r in results if r['mode'] == mode and r['runner'] == 'anchor'), None)
        # Ours and its ratio to the anchor, where there is one.
        pairs = [(r, _suffix(r), compared.get((label(r), mode, r['device']), {})) for r in ours]
        if mode == 'throughput':
            parts += [f'ours{suffix}={_number(r["images_per_second"])} img/s' for r, suffix, _ in pairs]
            if anchor:
                parts.append(f'anchor={_number(anchor["images_per_second"])} img/s')
            parts += [f'speedup{suffix}={_number(ratio["images_per_second"], 2, "x")}'
                      for _, suffix, ratio in pairs if ratio]
            parts += [f'memory{suffix}={_number(ratio["peak_memory"], 2, "x")}'
                      for _, suffix, ratio in pairs if ratio]
        elif ours or anchor:
            parts += [f'ours{suffix}_best={_number(r["best_accuracy"], 2, "%")}' for r, suffix, _ in pairs]
            if anchor:
                parts.append(f'anchor_best={_number(anchor["best_accuracy"], 2, "%")}')
            for t in THRESHOLDS:
                parts += [f'ours{suffix}_to{t}={_number(r["time_to_accuracy"].get(t), 1, "s")}'
                          for r, suffix, _ in pairs]
                if anchor:
                    parts.append(f'anchor_to{t}={_number(anchor["time_to_accuracy"].get(t), 1, "s")}')
                parts += [f'ratio{suffix}_to{t}={_number(ratio["time_to_accuracy"][t], 2, "x")}'
                          for _, suffix, ratio in pairs if ratio]
    return ' '.join(parts)


def report(results: List[Dict]) -> str:
    """
    The table, each runner's notes, the ratios, and the summary as the last line.
    """
    lines = [format_table(results), '']
    # Which processor or GPU gave the numbers.
    devices = [f'device {r["device"]}: {r["device_name"]}, {r["threads"]} torch threads, torch {r["torch"]}' for r in results]
    lines += list(dict.fromkeys(devices))
    # Each note once, though several runs of a runner repeat it.
    notes = [f'note ({label(result)}, {result["name"]}): {note}' for result in results for note in result.get('notes', [])]
    lines += list(dict.fromkeys(notes))
    compared = ratios(results)
    if compared:
        lines += ['', format_ratios(compared)]
    lines += ['', summary_line(results)]
    return '\n'.join(lines)


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    """
    ## The command line
    """
    parser = argparse.ArgumentParser(prog='python -m bench.run',
                                     description='Benchmark this project\'s capsule network against labml-nn 0.5.1.')
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument('--quick', action='store_true',
                      help=f'throughput on {QUICK_STEPS["warmup_steps"]} + {QUICK_STEPS["steps"]} steps')
    mode.add_argument('--accuracy', action='store_true', help='time to each test accuracy')
    mode.add_argument('--table', nargs='+', type=Path, metavar='JSON',
                      help='report results saved with --save, without training')
    parser.add_argument('--compare', choices=('both', 'default', 'same-batch'), default=None,
                        help='ours at its defaults, at batch 64 fp32, or both '
                             '(default: both for throughput, default for accuracy)')
    parser.add_argument('--runners', default='anchor,ours', help='anchor, ours, or anchor,ours')
    parser.add_argument('--device', choices=('auto', 'cpu', 'cuda'), default='auto')
    parser.add_argument('--data', type=Path, default=REPO / 'data', help='the folder holding MNIST/raw/')
    parser.add_argument('--warmup-steps', type=int, default=None)
    parser.add_argument('--steps', type=int, default=None)
    parser.add_argument('--epochs', type=int, default=None, help='accuracy: cap (runner default: 10)')
    parser.add_argument('--max-seconds', type=float, default=None, help='accuracy: cap on training seconds')
    parser.add_argument('--eval-every-steps', type=int, default=None)
    parser.add_argument('--train-images', type=int, default=None)
    parser.add_argument('--test-images', type=int, default=None)
    parser.add_argument('--anchor-folder', type=Path, default=ANCHOR_FOLDER)
    parser.add_argument('--anchor-wheel', type=Path, default=None,
                        help='install the anchor from this wheel instead of the package index')
    parser.add_argument('--no-install', action='store_true', help='never run pip; the anchor must be installed')
    parser.add_argument('--save', type=Path, default=None, help='also write the results to this JSON file')
    args = parser.parse_args(argv)
    args.runners = [name.strip() for name in args.runners.split(',') if name.strip()]
    unknown = set(args.runners) - {'anchor', 'ours'}
    if unknown or not args.runners:
        parser.error(f'--runners takes anchor, ours or anchor,ours, not {",".join(sorted(unknown)) or "nothing"}')
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
        common['warmup_steps'] = args.warmup_steps if args.warmup_steps is not None else steps['warmup_steps']
        common['steps'] = args.steps if args.steps is not None else steps['steps']
    else:
        common.update(epochs=args.epochs, max_seconds=args.max_seconds, eval_every_steps=args.eval_every_steps)
    compare = args.compare or ('both' if mode == 'throughput' else 'default')
    settings = {'both': ['default', SAME_SETTING], 'default': ['default'], 'same-batch': [SAME_SETTING]}[compare]
    runs = []
    if 'anchor' in args.runners:
        runs.append({'runner': 'anchor', 'setting': 'default', 'script': ANCHOR_SCRIPT,
                     'pythonpath': args.anchor_folder, 'options': dict(common)})
    if 'ours' in args.runners:
        for setting in settings:
            same = {'batch_size': SAME_BATCH, 'precision': SAME_PRECISION} if setting == SAME_SETTING else {}
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
            raise BenchError('no saved results in ' + ', '.join(missing) + ' (save them with --save FILE)')
        results = [result for path in args.table for result in json.loads(path.read_text())]
        print(report(results))
        return
    # The MNIST files, put in place and checked by this project's helper.
    from labml_nn.helpers.mnist import MNISTDataError, prepare
    try:
        prepare(args.data)
    except MNISTDataError as error:
        raise BenchError(str(error))
    if 'ours' in args.runners:
        require_ours(OURS_SCRIPT)
    if 'anchor' in args.runners:
        if not args.no_install:
            install_anchor(args.anchor_folder, str(args.anchor_wheel.resolve()) if args.anchor_wheel else ANCHOR_REQUIREMENT)
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
