"""
---
title: Time to accuracy of an experiment run
summary: Reads a labml run's log.jsonl and prints the training seconds until the test accuracy first reached each threshold.
---

# Time to accuracy of an experiment run

The benchmark's runners time training under one clock for both models. The goal the tutorial sets
itself is also stated for the experiment as users run it, `python -m labml_nn.capsule_networks.mnist`,
from a fresh process. That run tracks, after each epoch, its training time so far (`time.train`:
compilation included, validation and checkpoints left out) and its test accuracy
(`accuracy.valid`) in `log.jsonl`. This reads them back:

```bash
python -m bench.experiment_log logs/capsule_network_mnist/<uuid>
```

It prints one line per run: epochs, best accuracy, and the seconds to each threshold.
"""

import json
import sys
from pathlib import Path
from typing import Dict, List, Tuple

from bench.measure import AccuracyTimeline


def read_log(run: Path) -> List[Tuple[float, float]]:
    """
    `(training seconds, test accuracy in percent)` after each epoch of the run in folder `run`.
    """
    path = run / 'log.jsonl'
    if not path.is_file():
        raise SystemExit(f'{path} does not exist: give the folder of a run, '
                         'logs/capsule_network_mnist/<uuid>')
    seconds: Dict[int, float] = {}
    accuracy: Dict[int, float] = {}
    for line in path.read_text().splitlines():
        track = json.loads(line)['track']
        for step, values in track.get('time.train', []):
            seconds[step] = values[0]
        for step, values in track.get('accuracy.valid', []):
            accuracy[step] = 100 * values[0]
    return [(seconds[step], accuracy[step]) for step in sorted(accuracy) if step in seconds]


def describe(run: Path) -> str:
    """
    One line for the run: epochs, best accuracy and the time to each threshold.
    """
    timeline = AccuracyTimeline()
    epochs = read_log(run)
    for seconds, accuracy in epochs:
        timeline.record(seconds, accuracy)
    times = ' '.join(f'to{threshold}=' + (f'{seconds:.1f}s' if seconds is not None else '-')
                     for threshold, seconds in timeline.first_reached.items())
    best = f'{timeline.best:.2f}%' if timeline.best is not None else '-'
    total = f'{epochs[-1][0]:.1f}s' if epochs else '-'
    return f'experiment {run.name}: epochs={len(epochs)} train={total} best={best} {times}'


if __name__ == '__main__':
    if len(sys.argv) < 2:
        raise SystemExit('usage: python -m bench.experiment_log RUN_FOLDER [RUN_FOLDER ...]')
    for folder in sys.argv[1:]:
        print(describe(Path(folder)))
