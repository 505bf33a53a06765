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

from labml_nn.helpers import distributed

# The checkpoint's file name inside a run folder.
FILE_NAME = 'checkpoint.pt'


class CheckpointError(RuntimeError):
    """
    A checkpoint that can't be found or read; the message says where it looked.
    """


def save(path: Path, state: Dict[str, Any]):
    """
    Write `state` to `path` atomically: a temporary file in the same folder, then a rename.
    Under [torchrun](distributed.html), rank 0 alone writes: the state is the same on every rank.
    """
    if not distributed.is_main():
        return
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


def reopen(run_path: Path):
    """
    Make a run folder ready to continue. labml marks a running run with a `run.pid` file and
    refuses to start in a folder that has one; it stays behind when a run is killed. It is
    removed here, unless its process is still alive: two processes must not write one run.
    """
    pid_file = Path(run_path) / 'run.pid'
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text() or 0)
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, ValueError, OverflowError):
        pid_file.unlink()
        return
    except PermissionError:
        pass
    if pid == os.getpid():
        pid_file.unlink()
        return
    raise CheckpointError(f'{run_path} is still being written by process {pid}; '
                          'stop it before resuming the run.')


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
