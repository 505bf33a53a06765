"""
---
title: Checkpoints
summary: Written atomically after each epoch, found again from a run's UUID or folder.
---

# Checkpoints

A checkpoint is one file, `checkpoint.pt`, in the run's folder `logs/<experiment>/<uuid>/`.
It is written to a temporary file beside it and renamed over the old one, so a run killed while
saving leaves the previous checkpoint whole, never a half-written one.
"""

import os
import tempfile
from pathlib import Path
from typing import Any, Dict

import torch
from labml import lab

# The checkpoint's file name inside a run folder.
FILE_NAME = 'checkpoint.pt'


class CheckpointError(RuntimeError):
    """
    A checkpoint that can't be found or read; the message says where it looked.
    """


def save(path: Path, state: Dict[str, Any]):
    """
    Write `state` to `path` atomically: a temporary file in the same folder, then a rename.
    """
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.')
    try:
        with os.fdopen(handle, 'wb') as f:
            torch.save(state, f)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def find(run: str, experiment_name: str) -> Path:
    """
    The checkpoint of a run given as a checkpoint file, a run folder, or a run UUID of
    `experiment_name` (looked up under labml's `logs/` folder).
    """
    candidates = [Path(run), Path(run) / FILE_NAME,
                  lab.get_experiments_path() / experiment_name / run / FILE_NAME]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise CheckpointError(f'No checkpoint for "{run}": looked for ' +
                          ', '.join(str(c) for c in candidates) +
                          '. Give a run UUID, a run folder or a checkpoint file; '
                          'a run has a checkpoint once its first epoch has ended.')


def load(path: Path, device: torch.device) -> Dict[str, Any]:
    """
    Read a checkpoint, its tensors placed on `device`.
    """
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except Exception as error:
        raise CheckpointError(f'{path} is not a readable checkpoint ({error}). '
                              'It may be from another program or damaged; '
                              'resume from another run or start a new one.') from None
