"""
---
title: Checkpoints
summary: Written atomically after each epoch, found again from a run's UUID or folder.
---

# Checkpoints

A checkpoint is one file, `checkpoint.pt`, in the run's folder `logs/<experiment>/<uuid>/`.
It is written to a temporary file beside it and renamed over the old one, so a run killed while
saving leaves the previous checkpoint whole, never a half-written one; the temporary file such a
kill leaves behind is removed at the next save.

The file holds the state serialized by `torch.save`, as bytes, with their SHA-256: a checkpoint
damaged on disk (one byte is enough) is refused on loading, rather than loaded with wrong weights.
"""

import hashlib
import io
import os
import tempfile
from pathlib import Path
from typing import Any, Dict

import torch
from labml import lab, logger
from labml.logger import Text

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
    # Temporary files of a save that was killed: only one process writes a run
    for orphan in path.parent.glob(f'.{path.name}.*'):
        orphan.unlink()
    payload = io.BytesIO()
    torch.save(state, payload)
    payload = payload.getvalue()
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.')
    try:
        with os.fdopen(handle, 'wb') as f:
            torch.save({'sha256': hashlib.sha256(payload).hexdigest(), 'payload': payload}, f)
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
    Read a checkpoint, its tensors placed on `device`, after checking its SHA-256.
    """
    advice = 'resume from another run or start a new one.'
    try:
        stored = torch.load(path, map_location=device, weights_only=True)
    except Exception as error:
        raise CheckpointError(f'{path} is not a readable checkpoint ({error}). '
                              f'It may be from another program or damaged; {advice}') from None
    # A checkpoint saved before checksums were stored is the state itself
    if not (isinstance(stored, dict) and stored.keys() == {'sha256', 'payload'}):
        logger.log(f'{path} has no checksum (it was saved before checksums were stored): '
                   'loaded without checking it', Text.warning)
        return stored
    payload, digest = stored['payload'], stored['sha256']
    if hashlib.sha256(payload).hexdigest() != digest:
        raise CheckpointError(f'{path} is damaged: its contents do not match the SHA-256 stored '
                              f'with them, so its weights can not be trusted; {advice}')
    return torch.load(io.BytesIO(payload), map_location=device, weights_only=True)
