"""
---
title: Time to accuracy of an experiment run
summary: The training seconds until a run of the experiment first reached each test accuracy.
---

# Time to accuracy of an experiment run

The benchmark's runners time training under one clock for both models. The goal the tutorial sets
itself is also stated for the experiment as users run it,
`python -m labml_nn.capsule_networks.mnist`, from a fresh process. That run tracks, after each
epoch, its training time so far (`time.train`: compilation included, validation and checkpoints
left out) and its test accuracy (`accuracy.valid`) in `log.jsonl`. This reads them back, with
[the reader of a run's log](../labml_nn/helpers/run_log.html):

```bash
python -m bench.experiment_log logs/capsule_network_mnist/<uuid>
```

It prints one line per run: epochs, best accuracy, and the seconds to each threshold.
"""

import sys
from pathlib import Path
from typing import List, Tuple

from bench.measure import AccuracyTimeline
from labml_nn.helpers.run_log import RunLogError, read_log


def accuracy_by_training_time(run: Path) -> List[Tuple[float, float]]:
    """
    `(training seconds, test accuracy in percent)` after each epoch of the run in folder `run`.
    """
    log = read_log(run)
    seconds = dict(log.get('time.train', []))
    return [(seconds[step], 100 * accuracy) for step, accuracy in log.get('accuracy.valid', [])
            if step in seconds]


def describe(run: Path) -> str:
    """
    One line for the run: epochs, best accuracy and the time to each threshold.
    """
    try:
        epochs = accuracy_by_training_time(run)
    except RunLogError as error:
        return f'experiment {run.name}: {error}'
    timeline = AccuracyTimeline()
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
