"""
---
title: The training loop
summary: >
  Training with validation at the ends of epochs and at chosen points between them, labml
  tracking, a checkpoint at each validation, and resuming from any of them.
---

# The training loop

An experiment subclasses [`TrainValidConfigs`](#trainvalidconfigs) and says three things: its
batches (`train_batches`, `valid_batches`), what one step computes (`step`), and which objects
carry state (`stateful`); and, if it wants, what a run leaves in its folder at the end
(`save_results`, called by [the runner](runner.html)). This loop does the rest, the same for
every experiment:

* epochs of training, with progress on screen through `labml.monit`;
* a validation at the end of each epoch, and, if the configs ask, at points between them: every
  `valid_every` training examples, and at `curve_start` $\\cdot 2^k$ examples, the points of a
  learning curve on a log axis;
* at each validation, a *record* tracked through `labml.tracker`, which writes it to the run's
  `log.jsonl` (with the `file` writer; labml's default writers keep no values on disk), and a
  [checkpoint](checkpoint.html);
* resuming from any checkpoint, within an epoch too.

### No waiting for the GPU in the loop

A step returns its metrics as tensors, *summed* over the batch. They are added up on the device and
read back (`.item()`) once per record: reading a value inside the loop would make the CPU wait for
the GPU at every step, and the GPU then waits for the CPU to queue the next step.

A checkpoint taken within an epoch holds the state of the random generators at the start of
that epoch and the number of batches trained since, so that [resuming](resuming.html) can
continue within the epoch, on the batches the run would have seen without the interruption.
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

from labml_nn.helpers import checkpoint, distributed, resuming
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
    # Validate (and checkpoint) every `valid_every` training examples as well as at the end of
    # each epoch; `0` for the ends of epochs only
    valid_every: int = 0
    # Validate (and checkpoint) at `curve_start`, twice, four times... as many training examples:
    # the points of a learning curve on a log axis; `0` for none
    curve_start: int = 0
    # The valid values of the configs above, checked [before any work](configs.html)
    _valid = {'device': Check(_device_problem), 'epochs': Range(1), 'seed': Range(0, 2 ** 32 - 1),
              'valid_every': Range(0), 'curve_start': Range(0)}
    # The experiment's own: the random generator of the data order and of the augmentations, on
    # the device, seeded with `seed`
    generator: torch.Generator

    def train_batches(self) -> Iterable:
        """
        The training batches of one epoch, an iterable with a length. Each is a whole batch,
        split evenly over the processes under [torchrun](distributed.html).
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
        Whether training stops at this record, before `epochs`, given the values logged for it
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


@option(TrainValidConfigs.generator)
def _generator(c: TrainValidConfigs):
    generator = torch.Generator(device=c.device)
    generator.manual_seed(c.seed)
    return generator


def _state_of(item) -> Any:
    """
    The saved state of a stateful object; a generator has `get_state()` instead of `state_dict()`.
    """
    return item.get_state() if isinstance(item, torch.Generator) else item.state_dict()


def _synchronize(device: torch.device):
    """
    Wait for the GPU to finish its queued work, so that a clock reading covers it.
    """
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def _add(sums: Dict[str, torch.Tensor], metrics: Dict[str, torch.Tensor]) -> int:
    """
    Add the metrics of a step to the running `sums`, on the device; returns its sample count.
    """
    samples = metrics.pop('samples')
    for key, value in metrics.items():
        sums[key] = sums[key] + value.detach() if key in sums else value.detach()
    return samples


def _means(sums: Dict[str, torch.Tensor], samples: int) -> Dict[str, float]:
    """
    The mean of each metric over the samples of all processes, read from the device at once,
    and their number under `samples`.
    """
    # Under [torchrun](distributed.html), the sums of all processes
    sums, samples = distributed.sum_over_processes(sums, samples)
    means = {key: value.item() / samples for key, value in sums.items()}
    means['samples'] = samples
    return means


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
        samples += _add(sums, conf.step(batch, is_train))
    _synchronize(conf.device)
    seconds = time.perf_counter() - start
    means = _means(sums, samples)
    means['seconds'] = seconds
    return means


def is_record_point(conf: TrainValidConfigs, before: int, after: int) -> bool:
    """
    Whether a validation falls within the step that took the number of training examples seen
    from `before` to `after`: a multiple of `valid_every`, or `curve_start` times a power of two,
    in $(\\text{before}, \\text{after}]$. The ends of epochs are records too.
    """
    if conf.valid_every > 0 and after // conf.valid_every > before // conf.valid_every:
        return True
    if conf.curve_start > 0 and after >= conf.curve_start:
        # The largest point of the curve up to `after`: `curve_start` times $2^k$
        point = conf.curve_start << ((after // conf.curve_start).bit_length() - 1)
        return point > before
    return False


def _stop_if_diverged(values: Dict[str, float], epoch: int, global_step: int, last_kept: int,
                      run_path: Path):
    """
    Raise `TrainingDiverged` when a metric of the record is `nan` or infinite: the weights are no
    longer numbers, and every later step would only copy them. The checkpoint of the last good
    record, at `last_kept` training examples, stays as it is.
    """
    broken = [f'{key}={value}' for key, value in values.items() if not math.isfinite(value)]
    if not broken:
        return
    kept = (f'the checkpoint at {last_kept:,} training examples in {run_path} is kept' if last_kept
            else 'no checkpoint was written')
    raise TrainingDiverged(f'training diverged in epoch {epoch + 1}, before {global_step:,} '
                           f'training examples: {", ".join(broken)}; {kept}. '
                           'Start a new run with a smaller learning_rate.')


class _Clock:
    """
    The training time, wall-clock and CPU, summed over the stretches of training between
    records: validation and checkpoints are left out.
    """

    def __init__(self, device: torch.device, seconds: float, cpu_seconds: float):
        self.device, self.seconds, self.cpu_seconds = device, seconds, cpu_seconds
        self.started = None

    def start(self):
        _synchronize(self.device)
        self.started = (time.perf_counter(), time.process_time())

    def stop(self) -> float:
        """
        Stop the clock; returns the seconds since it started.
        """
        _synchronize(self.device)
        wall, cpu = time.perf_counter() - self.started[0], time.process_time() - self.started[1]
        self.seconds += wall
        self.cpu_seconds += cpu
        return wall


def _global_rng_state() -> Dict[str, torch.Tensor]:
    """
    PyTorch's global random states, which dropout draws from.
    """
    state = {'cpu': torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state()
    return state


def train(conf: TrainValidConfigs, run_path: Path, overrides: Dict[str, Any],
          resume_from: Optional[Dict[str, Any]] = None, pause_after: float = 0.0) -> bool:
    """
    Train for `conf.epochs` epochs, tracking and checkpointing each record. Returns whether the
    run has finished: all its epochs, or its goal.

    * `run_path` is the run's folder, where the checkpoint goes
    * `overrides` are the configs given on the command line, kept in the checkpoint so that a
      resumed run is configured the same way
    * `resume_from` is a loaded checkpoint to continue from
    * `pause_after`, when above $0$, pauses the run at its first checkpoint after this many
      seconds of this call: it stays unfinished, and `--resume` continues it
    """
    # The objects with state, made now so that all of them exist before the first step (a
    # learning-rate schedule made after it would miss its first value)
    stateful = conf.stateful()
    generators = {name: item for name, item in stateful.items()
                  if isinstance(item, torch.Generator)}
    # Where to start: the epoch and the batch within it, the examples seen, the clocks
    epoch, epoch_batches, global_step = 0, 0, 0
    clock = _Clock(conf.device, 0.0, 0.0)
    # The generators' states at the start of the epoch, for a checkpoint within it
    epoch_start: Dict[str, torch.Tensor] = {}
    # The metrics of each record, `[step, {key: value}]`, kept in the checkpoint too, so that a
    # resumed run can restore a log line that a kill kept from reaching `log.jsonl`
    records = []
    if resume_from is not None:
        resuming.restore(stateful, resume_from)
        epoch, global_step = resume_from['epoch'], resume_from['global_step']
        epoch_batches = resume_from.get('epoch_batches', 0)
        epoch_start = resume_from.get('epoch_start', {})
        clock = _Clock(conf.device, resume_from['train_seconds'],
                       resume_from.get('cpu_seconds', 0.0))
        records = list(resume_from.get('records', []))
    called = time.monotonic()
    finished = paused = False

    # Print the losses and accuracies on screen as well as in `log.jsonl`
    for pattern in ('loss.*', 'accuracy.*'):
        tracker.set_scalar(pattern, True)

    with experiment.start(global_step=global_step):
        for epoch in monit.loop(range(epoch, conf.epochs)):
            if epoch_batches == 0:
                epoch_start = {name: _state_of(item) for name, item in generators.items()}
            batches = conf.train_batches()
            iterator = iter(batches)
            # Within an epoch, its first batches drawn again, as they were before the checkpoint
            if epoch_batches:
                resuming.replay(iterator, epoch_batches, generators, epoch_start, resume_from)
            # The sums since the last record, on the device, and their sample count
            sums: Dict[str, torch.Tensor] = {}
            samples = 0
            clock.start()
            for batch in monit.iterate('Train', iterator, len(batches) - epoch_batches):
                step_samples = _add(sums, conf.step(batch, True))
                samples += step_samples
                epoch_batches += 1
                # Every process has an equal share of a training batch
                before = global_step
                global_step += step_samples * distributed.world_size()
                epoch_ends = epoch_batches == len(batches)
                if not (epoch_ends or is_record_point(conf, before, global_step)):
                    continue

                # A record: the training since the last one, then a validation, with no gradients
                seconds = clock.stop()
                train_metrics = _means(sums, samples)
                with torch.no_grad():
                    valid_metrics = run_epoch(conf, conf.valid_batches(), False, 'Valid')
                # Under torchrun, the copies of the model must still be the same on every process
                for item in stateful.values():
                    if isinstance(item, torch.nn.Module):
                        distributed.check_replicas(item)
                values = {f'{key}.train': value for key, value in train_metrics.items()
                          if key != 'samples'}
                values.update({f'{key}.valid': value for key, value in valid_metrics.items()
                               if key not in ('seconds', 'samples')})
                values['time.train'] = clock.seconds
                values['cpu_time.train'] = clock.cpu_seconds
                values['images_per_second.train'] = train_metrics['samples'] / seconds
                # The end of the last epoch, or the record that reached the experiment's goal,
                # adds its final tests
                goal = conf.reached_goal(values)
                finished = goal or (epoch_ends and epoch + 1 == conf.epochs)
                if finished:
                    with torch.no_grad():
                        values.update(conf.final_tests())
                # A run that diverged stops here, before its log or its checkpoint take the record
                _stop_if_diverged(values, epoch, global_step, records[-1][0] if records else 0,
                                  run_path)
                tracker.save(global_step, values)
                records.append([global_step, values])
                paused = (not finished and pause_after > 0 and
                          distributed.any_process(time.monotonic() - called >= pause_after))

                # The checkpoint: enough to continue exactly where this record is
                within = not epoch_ends
                checkpoint.save(run_path / checkpoint.FILE_NAME, {
                    'epoch': epoch if within else epoch + 1,
                    'epoch_batches': epoch_batches if within else 0,
                    'epoch_start': epoch_start if within else {},
                    'global_step': global_step,
                    'train_seconds': clock.seconds,
                    'cpu_seconds': clock.cpu_seconds,
                    'overrides': overrides,
                    'records': records,
                    # A run that reached its goal has finished, though epochs were left
                    'reached_goal': goal,
                    'state': {name: _state_of(item) for name, item in stateful.items()},
                    'rng': _global_rng_state(),
                })
                tracker.new_line()
                if finished or paused:
                    break
                sums, samples = {}, 0
                clock.start()
            if finished or paused:
                break
            epoch_batches = 0

    # labml writes `log.jsonl` from a thread of its own, told to finish when the run ended: wait
    # for it, so that the log is whole when training returns (to a test, a notebook, a script)
    for thread in threading.enumerate():
        if isinstance(thread, FileWriterThread):
            thread.join()
    return not paused
