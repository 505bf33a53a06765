"""
---
title: A run's log
summary: The metrics of each record of a run, read back from the log.jsonl labml writes.
---

# A run's log

labml writes the metrics a run tracks to `log.jsonl` in the run's folder (with the `file`
writer), one JSON object a line, whose `track` maps each key to the points logged since the last
line: `{"track": {"loss.train": [[step, [value]], ...], ...}}`. The [training loop](trainer.html)
logs a record at each validation, at the number of training examples seen so far. The pictures of
a run and the benchmark's time to accuracy both read it back here; a resumed run first makes its
log [agree](resuming.html#agree) with its checkpoint.
"""

import json
from pathlib import Path
from typing import Dict, List, Tuple

# The name labml gives the log in a run's folder
FILE_NAME = 'log.jsonl'


class RunLogError(RuntimeError):
    """
    A run folder whose log can't be read; the message says which file and why.
    """


def read_log(run_folder: Path) -> Dict[str, List[Tuple[int, float]]]:
    """
    For each key of the log of the run in `run_folder`, such as `loss.train`, the
    `(step, value)` of each record, by step.

    A step logged twice, by a run resumed after it had logged a record but before its checkpoint,
    keeps its last value.
    """
    path = Path(run_folder) / FILE_NAME
    if not path.is_file():
        raise RunLogError(f'{path} does not exist: give the folder of a training run, '
                          f'logs/<experiment>/<uuid>, where labml writes its {FILE_NAME}.')
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
        raise RunLogError(f'{path} has no record yet: its run logs the metrics at each validation, '
                          'at the end of each epoch at the latest')
    return {key: sorted(points.items()) for key, points in found.items()}
