"""
---
title: Resuming a run
summary: >
  Everything that continues an interrupted run - its checkpoint found and checked, its folder
  reopened, its log made to agree, its state put back, and its epoch drawn again up to where it
  stopped.
---

# Resuming a run

`--resume RUN` continues a run from its last [checkpoint](checkpoint.html), exactly where it
stopped, in its own folder. In order:

1. [`prepare`](#prepare): find the checkpoint, refuse a copy of a run folder, leave a finished run
   as it is, [reopen](#reopen) the folder and make its [log agree](#agree) with the checkpoint;
2. [`restore`](#restore): put back the state of every stateful object, and PyTorch's random
   state;
3. [`replay`](#replay): within an epoch, draw its batches again up to the checkpoint.

The [runner](runner.html) calls the first, the [training loop](trainer.html) the other two.
"""

import json
import os
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple, Type

import torch
from labml import lab, logger
from labml.logger import Text

from labml_nn.helpers import checkpoint, distributed, run_log
from labml_nn.helpers.configs import entries


def prepare(run: str, experiment_name: str,
            configs: Type) -> Tuple[Path, Optional[Dict[str, Any]]]:
    """
    ## Prepare

    The checkpoint of `run`, and its loaded state when the run can continue in its own folder
    (`None` when the run has finished). Raises `CheckpointError` for a copy of a run folder.
    Under [torchrun](distributed.html) rank 0 alone touches the folder.

    * `experiment_name` is the folder of the experiment's runs under `logs/`
    * `configs` is the experiment's configs class, for the default number of epochs
    """
    path = checkpoint.find(run, experiment_name)
    state = checkpoint.load(path, torch.device('cpu'))
    # labml writes a run to `logs/<name>/<uuid>/`: resuming a copy would write to the original
    home = lab.get_experiments_path() / experiment_name / path.parent.name
    if path.parent.resolve() != home.resolve() or path.name != checkpoint.FILE_NAME:
        raise checkpoint.CheckpointError(
            f'{path} is not the checkpoint of a run in its own folder: a resumed run is '
            f'written to {home}' + (', another run' if home.exists() else '') +
            '. Resume the run in its own folder (move this run folder to '
            f'{home.parent} if that is where it came from), or --evaluate it where it is.')
    epochs = state['overrides'].get('epochs', entries(configs)['epochs'].default)
    if state['epoch'] >= epochs or state.get('reached_goal', False):
        done = (f'reached its goal after {state["epoch"]} of its {epochs} epochs'
                if state['epoch'] < epochs else f'has finished all its {epochs} epochs')
        logger.log(f'{path.parent} {done}: nothing to resume, nothing changed. '
                   f'--evaluate {path.parent.name} tests its checkpoint.')
        return path, None
    if distributed.is_main():
        reopen(path.parent)
        agree(path.parent, state['global_step'], state.get('records', []))
    return path, state


def reopen(run_path: Path):
    """
    ### Reopen

    Make a run folder ready to continue. labml marks a running run with a `run.pid` file and
    refuses to start in a folder that has one; it stays behind when a run is killed. It is
    removed here, unless its process is still alive: two processes must not write one run.
    """
    pid_file = Path(run_path) / 'run.pid'
    if not pid_file.exists():
        return
    text = pid_file.read_text(errors='replace').strip()
    # labml writes its process id; anything else was left by something else, and marks no run
    if not text.isdigit() or int(text) == 0:
        logger.log(f'{pid_file} held {text[:40]!r}, not a process id: removed it', Text.warning)
        pid_file.unlink()
        return
    pid = int(text)
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        pid_file.unlink()
        return
    except PermissionError:
        pass
    if pid == os.getpid():
        pid_file.unlink()
        return
    raise checkpoint.CheckpointError(f'{run_path} is still being written by process {pid}; '
                                     'stop it before resuming the run.')


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
    ### Agree

    Make the [log](run_log.html) of the run in `run_folder` hold each record of its checkpoint
    once, and none past it. A run killed after logging a record but before its checkpoint was
    renamed in place has logged a record that it will train again; one killed before labml's
    writer reached the file has a checkpoint whose last record is not in the log.

    * `last_step` is the step of the checkpoint's last record
    * `records` are the `[step, {key: value}]` of the checkpoint's records
    """
    path = Path(run_folder) / run_log.FILE_NAME
    lines = path.read_text(encoding='utf-8').splitlines() if path.is_file() else []
    kept, logged = [], set()
    for line in lines:
        steps = set(_steps(line))
        # A record past the checkpoint, or one logged before
        if steps and (max(steps) > last_step or steps & logged):
            continue
        logged |= steps
        kept.append(line)
    # The records of the checkpoint missing from the log, in labml's form
    for step, values in records:
        if step not in logged:
            kept.append(json.dumps({'track': {key: [[step, [value]]] for key, value in
                                              values.items()}, 'time': time.time()}))
    if kept == lines:
        return
    # Written beside the log, then renamed over it
    temporary = path.with_name(f'.{run_log.FILE_NAME}.agree')
    temporary.write_text(''.join(line + '\n' for line in kept), encoding='utf-8')
    os.replace(temporary, path)


def _restore(item, state: Any):
    """
    Put a saved state back; a generator has `set_state()` instead of `load_state_dict()`.
    """
    if isinstance(item, torch.Generator):
        item.set_state(state.cpu())
    else:
        item.load_state_dict(state)


def restore(stateful: Dict[str, Any], resume_from: Dict[str, Any]):
    """
    ## Restore

    Put back the state of each of the `stateful` objects from the checkpoint `resume_from`, and
    PyTorch's global random state, which dropout draws from.
    """
    for name, item in stateful.items():
        _restore(item, resume_from['state'][name])
    rng = resume_from.get('rng', {})
    if 'cpu' in rng:
        torch.set_rng_state(rng['cpu'].cpu())
    if 'cuda' in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state(rng['cuda'].cpu())


def replay(batches: Iterator, n_batches: int, generators: Dict[str, torch.Generator],
           epoch_start: Dict[str, torch.Tensor], resume_from: Dict[str, Any]):
    """
    ## Replay

    Draw the first `n_batches` of the epoch's `batches` again, without training on them: the
    `generators` are set back to their state at the start of the epoch, `epoch_start`, first.
    The order of the digits, their shifts, the generated pairs are then those the run would have
    seen without the interruption. Making a batch is indexing on the device, a small fraction of
    a step.

    The generators must end where the checkpoint `resume_from` says they were; otherwise the
    batches are not made as when the run was started, and the run stops here.
    """
    for name, item in generators.items():
        _restore(item, epoch_start[name])
    for _ in range(n_batches):
        next(batches)
    for name, item in generators.items():
        if not torch.equal(item.get_state().cpu(), resume_from['state'][name].cpu()):
            raise checkpoint.CheckpointError(
                f'drawing the first {n_batches} batches of the epoch again left the generator '
                f'{name!r} elsewhere than the checkpoint: the training batches are not made as '
                'when the run was started (another version of the code?). Start a new run.')
