"""
---
title: The training loop
summary: >
  Epochs of training and validation with labml tracking, a checkpoint after each epoch, and
  resuming.
---

# The training loop

An experiment subclasses [`TrainValidConfigs`](#trainvalidconfigs) and says three things: its
batches (`train_batches`, `valid_batches`), what one step computes (`step`), and which objects
carry state (`stateful`); and, if it wants, what a run leaves in its folder at the end
(`save_results`, called by [the runner](runner.html)). This loop does the rest, the same for
every experiment:

* epochs of training then validation, with progress on screen through `labml.monit`;
* the metrics of each epoch tracked through `labml.tracker`, which writes them to the run's
  `log.jsonl` (with the `file` writer; labml's default writers keep no values on disk);
* a [checkpoint](checkpoint.html) after each epoch, and resuming from it.

### No waiting for the GPU in the loop

A step returns its metrics as tensors, *summed* over the batch. They are added up on the device and
read back (`.item()`) once per epoch: reading a value inside the loop would make the CPU wait for
the GPU at every step, and the GPU then waits for the CPU to queue the next step.
"""

import math
import threading
import time
from pathlib import Path
from typing import Any, Dict, Iterable, Optional

import torch
from labml import experiment, monit, tracker
from labml.configs import BaseConfigs, option
from labml.internal.tracker.writers.file import FileWriterThread

from labml_nn.helpers import checkpoint, distributed
from labml_nn.helpers.configs import Check, Range
from labml_nn.helpers.device import CUDA_INDICES, choose_device


class TrainingDiverged(RuntimeError):
    """
    A loss or a metric that became `nan` or infinite; the message says when, and what to do.
    """


def _device_problem(name: str) -> Optional[str]:
    """
    Why `device=name` can't be used on this machine, and what to do; `None` when it can.
    """
    try:
        choose_device(name)
    except ValueError as error:
        return str(error)
    return None


class TrainValidConfigs(BaseConfigs):
    """
    ## TrainValidConfigs

    The configs every experiment has, and the loop that trains it.
    """
    # The device: `auto` (a GPU when there is one), `cpu`, `cuda`, `cuda:<index>` or `mps`
    device: torch.device = 'auto'
    # Number of passes over the training set
    epochs: int = 10
    # The seed of every random choice: initial weights, data order, augmentation
    seed: int = 0
    # The valid values of the configs above, checked [before any work](configs.html)
    _valid = {'device': Check(_device_problem), 'epochs': Range(1), 'seed': Range(0, 2 ** 32 - 1)}

    def train_batches(self) -> Iterable:
        """
        The training batches of one epoch, an iterable with a length.
        """
        raise NotImplementedError

    def valid_batches(self) -> Iterable:
        """
        The validation batches, an iterable with a length.
        """
        raise NotImplementedError

    def step(self, batch: Any, is_train: bool) -> Dict[str, torch.Tensor]:
        """
        One step on `batch`, with an optimizer update when `is_train`. Returns each metric *summed*
        over the batch, as a tensor, and the number of samples under `samples`, as an `int`: a
        number the host already knows, since making it a tensor on the GPU would be a copy that
        waits for the device.
        """
        raise NotImplementedError

    def stateful(self) -> Dict[str, Any]:
        """
        The objects to checkpoint, by name: anything with `state_dict()` and `load_state_dict()`,
        such as the model, the optimizer, the learning-rate schedule or a `torch.Generator`
        (whose state is read with `get_state()`).
        """
        raise NotImplementedError

    def save_results(self, run_path: Path):
        """
        What a run writes into its folder `run_path` when training ends, beside its checkpoint
        and log: nothing, unless an experiment says.
        """

    def reached_goal(self, values: Dict[str, float]) -> bool:
        """
        Whether training stops after this epoch, before `epochs`, given the values logged for it
        (`accuracy.valid`, `time.train`...): never, unless an experiment sets a goal, such as a
        test accuracy or a training time.
        """
        return False

    def final_tests(self) -> Dict[str, float]:
        """
        Metrics measured once, when training ends and by `--evaluate`, beside the validation set's,
        such as the accuracy on a second test set: none, unless an experiment says.
        """
        return {}


def _device_option(name: str):
    """
    The option `device=name`, which gives `choose_device(name)`.
    """
    def device(c: TrainValidConfigs) -> torch.device:
        return choose_device(name)
    return device


# `auto`, `cpu`, `cuda`, `mps`, and `cuda:0`, `cuda:1`, ... for a GPU by its index
for _name in ['auto', 'cpu', 'cuda', 'mps'] + [f'cuda:{index}' for index in CUDA_INDICES]:
    option(TrainValidConfigs.device, _name)(_device_option(_name))


def _state_of(item) -> Any:
    """
    The saved state of a stateful object; a generator has `get_state()` instead of `state_dict()`.
    """
    return item.get_state() if isinstance(item, torch.Generator) else item.state_dict()


def _restore(item, state: Any):
    """
    Put a saved state back.
    """
    if isinstance(item, torch.Generator):
        item.set_state(state.cpu())
    else:
        item.load_state_dict(state)


def _synchronize(device: torch.device):
    """
    Wait for the GPU to finish its queued work, so that a clock reading covers it.
    """
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def run_epoch(conf: TrainValidConfigs, batches: Iterable, is_train: bool,
              name: str) -> Dict[str, float]:
    """
    One pass over `batches`. Returns the mean of each metric over the samples, and the pass's
    duration in seconds under `seconds`.
    """
    _synchronize(conf.device)
    start = time.perf_counter()
    # Running sums, kept on the device, and the number of samples, counted on the host
    sums: Dict[str, torch.Tensor] = {}
    samples = 0
    for batch in monit.iterate(name, batches):
        metrics = conf.step(batch, is_train)
        samples += metrics.pop('samples')
        for key, value in metrics.items():
            sums[key] = sums[key] + value.detach() if key in sums else value.detach()
    _synchronize(conf.device)
    seconds = time.perf_counter() - start
    # Under [torchrun](distributed.html), the sums of all processes
    sums, samples = distributed.sum_over_processes(sums, samples)
    # One read from the device for the whole epoch
    means = {key: value.item() / samples for key, value in sums.items()}
    means['seconds'] = seconds
    means['samples'] = samples
    return means


def _stop_if_diverged(values: Dict[str, float], epoch: int, run_path: Path):
    """
    Raise `TrainingDiverged` when a metric of the epoch is `nan` or infinite: the weights are no
    longer numbers, and every later epoch would only copy them. The checkpoint of the last good
    epoch stays as it is.
    """
    broken = [f'{key}={value}' for key, value in values.items() if not math.isfinite(value)]
    if not broken:
        return
    kept = (f'the checkpoint of epoch {epoch} in {run_path} is kept' if epoch
            else 'no checkpoint was written')
    raise TrainingDiverged(f'training diverged in epoch {epoch + 1}: {", ".join(broken)}; {kept}. '
                           'Start a new run with a smaller learning_rate.')


def train(conf: TrainValidConfigs, run_path: Path, overrides: Dict[str, Any],
          resume_from: Optional[Dict[str, Any]] = None):
    """
    Train for `conf.epochs` epochs, tracking each one and saving a checkpoint after it.

    * `run_path` is the run's folder, where the checkpoint goes
    * `overrides` are the configs given on the command line, kept in the checkpoint so that a
      resumed run is configured the same way
    * `resume_from` is a loaded checkpoint to continue from
    """
    # The objects with state, made now so that all of them exist before the first step (a
    # learning-rate schedule made after it would miss its first value)
    stateful = conf.stateful()
    # Where to start: the epoch after the checkpoint's, with its clock and its sample count
    epoch, global_step, train_seconds = 0, 0, 0.0
    # The metrics of each epoch, `[step, {key: value}]`, kept in the checkpoint too, so that a
    # resumed run can restore a log line that a kill kept from reaching `log.jsonl`
    records = []
    if resume_from is not None:
        for name, item in stateful.items():
            _restore(item, resume_from['state'][name])
        epoch = resume_from['epoch']
        global_step = resume_from['global_step']
        train_seconds = resume_from['train_seconds']
        records = list(resume_from.get('records', []))

    # Print the losses and accuracies on screen as well as in `log.jsonl`
    for pattern in ('loss.*', 'accuracy.*'):
        tracker.set_scalar(pattern, True)

    with experiment.start(global_step=global_step):
        for epoch in monit.loop(range(epoch, conf.epochs)):
            # Training. Its duration, summed over the epochs, is the run's *training time*: the
            # time-to-accuracy figures are measured in it. It leaves out validation and
            # checkpoints, and includes everything else, compilation included.
            train_metrics = run_epoch(conf, conf.train_batches(), True, 'Train')
            train_seconds += train_metrics['seconds']
            global_step += train_metrics['samples']
            # Under torchrun, the copies of the model must still be the same on every process
            for item in stateful.values():
                if isinstance(item, torch.nn.Module):
                    distributed.check_replicas(item)
            # Validation, with no gradients
            with torch.no_grad():
                valid_metrics = run_epoch(conf, conf.valid_batches(), False, 'Valid')

            # One record per epoch in `log.jsonl`, at the number of training samples seen
            values = {f'{key}.train': value for key, value in train_metrics.items()
                      if key not in ('seconds', 'samples')}
            values.update({f'{key}.valid': value for key, value in valid_metrics.items()
                           if key not in ('seconds', 'samples')})
            values['time.train'] = train_seconds
            values['images_per_second.train'] = train_metrics['samples'] / train_metrics['seconds']
            # The last epoch, or the one that reached the experiment's goal, adds its final tests
            stop = conf.reached_goal(values)
            if stop or epoch + 1 == conf.epochs:
                with torch.no_grad():
                    values.update(conf.final_tests())
            # A run that diverged stops here, before its log or its checkpoint take the epoch
            _stop_if_diverged(values, epoch, run_path)
            tracker.save(global_step, values)
            records.append([global_step, values])

            # The checkpoint: enough to continue exactly where this epoch ended
            checkpoint.save(run_path / checkpoint.FILE_NAME, {
                'epoch': epoch + 1,
                'global_step': global_step,
                'train_seconds': train_seconds,
                'overrides': overrides,
                'records': records,
                # A run that reached its goal has finished, though epochs were left
                'reached_goal': stop,
                'state': {name: _state_of(item) for name, item in stateful.items()},
            })
            tracker.new_line()
            if stop:
                break

    # labml writes `log.jsonl` from a thread of its own, told to finish when the run ended: wait
    # for it, so that the log is whole when training returns (to a test, a notebook, a script)
    for thread in threading.enumerate():
        if isinstance(thread, FileWriterThread):
            thread.join()
