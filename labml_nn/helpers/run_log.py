"""
---
title: A run's log
summary: Reads the metrics of each epoch back from the log.jsonl that labml writes in a run's folder.
---

# A run's log

labml writes the metrics a run tracks to `log.jsonl` in the run's folder (with the `file`
writer), one JSON object a line, whose `track` maps each key to the points logged since the last
line: `{"track": {"loss.train": [[step, [value]], ...], ...}}`. The [training loop](trainer.html)
logs once per epoch, at the number of training samples seen so far. The pictures of a run and the
benchmark's time to accuracy both read it back here.

A resumed run first makes its log [agree](#agree) with its checkpoint.
"""

import json
import os
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

# The name labml gives the log in a run's folder
FILE_NAME = 'log.jsonl'


class RunLogError(RuntimeError):
    """
    A run folder whose log can't be read; the message says which file and why.
    """


def read_log(run_folder: Path) -> Dict[str, List[Tuple[int, float]]]:
    """
    For each key of the log of the run in `run_folder`, such as `loss.train`, the
    `(step, value)` of each epoch, by step.

    A step logged twice, by a run resumed after it had logged an epoch but before its checkpoint,
    keeps its last value.
    """
    path = Path(run_folder) / FILE_NAME
    if not path.is_file():
        raise RunLogError(f'{path} does not exist: give the folder of a training run, '
                          f'logs/capsule_network_mnist/<uuid>, where labml writes its {FILE_NAME}.')
    found: Dict[str, Dict[int, float]] = {}
    for number, line in enumerate(path.read_text(encoding='utf-8').splitlines(), 1):
        if not line.strip():
            continue
        try:
            tracked = json.loads(line)['track']
        except (ValueError, KeyError, TypeError):
            raise RunLogError(f'{path}:{number} is not a line of a labml log') from None
        for key, points in tracked.items():
            for step, values in points:
                found.setdefault(key, {})[step] = values[0]
    if 'loss.train' not in found:
        raise RunLogError(f'{path} has no epoch yet: its run logs the metrics at the end of each epoch')
    return {key: sorted(points.items()) for key, points in found.items()}


def _steps(line: str) -> List[int]:
    """
    The steps a line of the log holds records for; none for a line that isn't a labml record.
    """
    try:
        tracked = json.loads(line)['track']
        return [step for points in tracked.values() for step, _ in points]
    except (ValueError, KeyError, TypeError):
        return []


def agree(run_folder: Path, last_step: int, records: List[Tuple[int, Dict[str, Any]]]):
    """
    ## Agree

    Make the log of the run in `run_folder` hold each epoch of its checkpoint once, and none
    past it. A run killed after logging an epoch but before its checkpoint was renamed in place
    has logged an epoch that it will train again; one killed before labml's writer reached the
    file has a checkpoint whose last epoch is not in the log.

    * `last_step` is the step of the checkpoint's last epoch
    * `records` are the `[step, {key: value}]` of the checkpoint's epochs
    """
    path = Path(run_folder) / FILE_NAME
    lines = path.read_text(encoding='utf-8').splitlines() if path.is_file() else []
    kept, logged = [], set()
    for line in lines:
        steps = set(_steps(line))
        # An epoch past the checkpoint, or one logged before
        if steps and (max(steps) > last_step or steps & logged):
            continue
        logged |= steps
        kept.append(line)
    # The epochs of the checkpoint missing from the log, in labml's form
    for step, values in records:
        if step not in logged:
            kept.append(json.dumps({'track': {key: [[step, [value]]] for key, value in
                                              values.items()}, 'time': time.time()}))
    if kept == lines:
        return
    # Written beside the log, then renamed over it
    temporary = path.with_name(f'.{FILE_NAME}.agree')
    temporary.write_text(''.join(line + '\n' for line in kept), encoding='utf-8')
    os.replace(temporary, path)
