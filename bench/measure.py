"""
---
title: What both benchmark runners share
summary: The runners' command line, the timed loops, what is read back from a run, and the time to each accuracy.
---

# What both benchmark runners share

The anchor's runner and ours differ only in the model they build and the step they take. Everything
that makes their numbers comparable lives here, once: the command line, the device, when the clock
starts and stops, how memory is read, and when a test accuracy counts as reached.

This module imports neither labml-nn 0.5.1 nor this project's `labml_nn`: it is imported by both
runners, each of which sees a different `labml_nn`.

A runner builds an object with these members and hands a function that builds it to `main`:

* `name`, `batch_size`, `train_size` (the number of training images), `notes` (a list);
* `model`: the module its step calls, compiled or not;
* `train_batches()`: one shuffled epoch of `(images, labels)`, on any device;
* `train_step(images, labels)`: one optimisation step on that batch, returning its loss as a
  tensor (read only once the clock has stopped: reading it sooner would wait for the GPU);
* `test_accuracy()`: the test accuracy in percent, computed as `100 * correct / total`.

## What is read back, not taken on trust

The result says what the runner really did, as seen from outside its step:

* `precision`: read at each call of `model`, from the autocast state and the TF32 flags of
  PyTorch's backends in effect at that moment (`fp32`, `tf32`, `bf16`, ...);
* `compiled`: whether `torch.compile` compiled any graph in the process;
* `steps`, `model_calls`: the steps taken and the calls of `model` (in throughput mode, during
  the timed steps: one each);
* `parameters_changed`: the fraction of the model's parameter tensors that the steps changed;
* `losses`: the loss of each timed step, which should fall.

`--precision fp32` and `--precision tf32` set the TF32 flags for the whole run
([the contract](index.html#the-runner-contract) says what each means). A runner whose model sets
its own precision inside its step, as ours does, is reported as it runs.

## When the clock runs

*Training images per second* counts everything that training needs, the steps and the loading
of their batches, and nothing else: evaluation, building the model and reading the files are left
out. On a GPU the device is synchronised before the clock starts and before it stops, so that no
queued work escapes the count.

In `throughput` mode the first `--warmup-steps` steps are left out too: the first steps pay for
memory allocation, kernel selection and, for a compiled model, compilation. The next `--steps`
are timed.

In `accuracy` mode the clock runs over all training, warm-up and compilation included, and stops
while the test set is evaluated, after each epoch (and every `--eval-every-steps` steps, if set).
The time to an accuracy is the training time at the first evaluation that reaches it.
"""

import argparse
import itertools
import json
import platform
import resource
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import torch

# The labml-nn release the benchmark compares against.
ANCHOR_VERSION = '0.5.1'

# The test accuracies, in percent, whose first arrival is timed; they are also the keys of
# `time_to_accuracy` in the output.
THRESHOLDS = ('99.0', '99.5', '99.6', '99.7')

# The four original MNIST files that `torchvision.datasets.MNIST` reads from `root/MNIST/raw/`.
MNIST_FILES = ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte',
               't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')


class AccuracyTimeline:
    """
    ## The time to each accuracy

    Records every evaluation as a pair (training seconds, test accuracy) and keeps, for each
    threshold, the training seconds of the *first* evaluation that reached it. A later dip below a
    threshold does not undo its time; a threshold that is never reached stays `None`.
    """

    def __init__(self, thresholds: Sequence[str] = THRESHOLDS):
        # `{threshold: seconds or None}`
        self.first_reached: Dict[str, Optional[float]] = dict.fromkeys(thresholds)
        # `[(train_seconds, accuracy), ...]`
        self.history: List[Tuple[float, float]] = []

    def record(self, train_seconds: float, accuracy: float):
        """
        One evaluation: `accuracy` in percent after `train_seconds` seconds of training.
        """
        self.history.append((train_seconds, accuracy))
        # A threshold is reached when the accuracy is at least its value.
        for threshold, seconds in self.first_reached.items():
            if seconds is None and accuracy >= float(threshold):
                self.first_reached[threshold] = train_seconds

    @property
    def best(self) -> Optional[float]:
        """
        The best accuracy so far, `None` before the first evaluation.
        """
        return max((accuracy for _, accuracy in self.history), default=None)

    @property
    def all_reached(self) -> bool:
        """
        Whether every threshold has been reached, so that training on would time nothing new.
        """
        return all(seconds is not None for seconds in self.first_reached.values())


def parse_args(argv: Optional[Sequence[str]], *, default_batch_size: int,
               precisions: Sequence[str]) -> argparse.Namespace:
    """
    ## The command line

    Every runner takes the same options (listed in [the contract](index.html)); only the default
    batch size and the precisions it supports differ. The first of `precisions` is the default.
    """
    parser = argparse.ArgumentParser(description='Train one capsule network and print its '
                                                 'measurements as JSON on the last line.')
    parser.add_argument('--mode', choices=('throughput', 'accuracy'), required=True)
    parser.add_argument('--device', choices=('auto', 'cpu', 'cuda'), default='auto')
    parser.add_argument('--data', type=Path, default=Path('data'),
                        help='the folder holding MNIST/raw/')
    parser.add_argument('--batch-size', type=int, default=default_batch_size)
    parser.add_argument('--precision', choices=tuple(precisions), default=precisions[0])
    # Throughput mode.
    parser.add_argument('--warmup-steps', type=int, default=5)
    parser.add_argument('--steps', type=int, default=50)
    # Accuracy mode.
    parser.add_argument('--epochs', type=int, default=10)
    parser.add_argument('--max-seconds', type=float, default=None)
    parser.add_argument('--eval-every-steps', type=int, default=0)
    # Tiny runs.
    parser.add_argument('--train-images', type=int, default=None)
    parser.add_argument('--test-images', type=int, default=None)
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


def pick_device(name: str) -> torch.device:
    """
    `auto` is CUDA when it is available, else the CPU. Asking for CUDA where there is none stops
    the run, rather than quietly measuring the CPU.
    """
    if name == 'auto':
        name = 'cuda' if torch.cuda.is_available() else 'cpu'
    if name == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda was asked for, but torch sees no CUDA device '
                         f'(torch {torch.__version__}). Use --device cpu or auto.')
    return torch.device(name)


def device_name(device: torch.device) -> str:
    """
    The GPU's name, or the processor's as `/proc/cpuinfo` gives it.
    """
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    cpuinfo = Path('/proc/cpuinfo')
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith('model name'):
                return line.split(':', 1)[1].strip()
    return platform.processor() or platform.machine()


def synchronize(device: torch.device):
    """
    Wait for the GPU's queued work, so that the clock sees it; the CPU runs synchronously.
    """
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def peak_memory(device: torch.device) -> Tuple[float, str]:
    """
    ## Peak memory

    On a GPU, the most memory torch's tensors held at once; on the CPU, the process's peak resident
    set size, which also counts the interpreter, torch's libraries and the data set. Returned in
    MiB, with the kind of memory it is.
    """
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device) / 2 ** 20, 'cuda_max_allocated'
    # Linux gives `ru_maxrss` in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 10, 'cpu_peak_rss'


def require_mnist(root: Path) -> Path:
    """
    ## The data

    Both runners read the same four files. A missing file stops the run here
    with the files' names and the fix, not inside torchvision.
    """
    raw = Path(root) / 'MNIST' / 'raw'
    missing = [name for name in MNIST_FILES if not (raw / name).is_file()]
    if missing:
        raise SystemExit(f'MNIST is missing from {raw}: ' + ', '.join(missing) + '.\n'
                         'Run `make setup` (or `python -m labml_nn.helpers.mnist DATA_ROOT`) to '
                         'put the four original files there, and pass that root with --data.')
    return raw


def first_images(dataset: torch.utils.data.Dataset,
                 count: Optional[int]) -> torch.utils.data.Dataset:
    """
    The first `count` images of `dataset`, for tiny runs; all of them when `count` is `None`.
    """
    if count is None or count >= len(dataset):
        return dataset
    return torch.utils.data.Subset(dataset, range(count))


@contextmanager
def tf32_allowed(allowed: bool) -> Iterator[None]:
    """
    ## The TF32 flags of a run

    TF32 on or off for both the matrix products and cuDNN's convolutions while the block runs,
    then as they were. (The experiment has the same switch in `labml_nn.helpers.precision`, which
    the anchor's process can't import: there, `labml_nn` is labml-nn 0.5.1.)
    """
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = allowed
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def precision_in_effect(device: torch.device) -> str:
    """
    The precision that convolutions and matrix products on `device` get right now: the autocast
    format when autocast is on, else `fp32`; on a GPU, with the TF32 flags that are on.
    """
    name = 'fp32'
    if torch.is_autocast_enabled(device.type):
        dtype = torch.get_autocast_dtype(device.type)
        name = {torch.bfloat16: 'bf16', torch.float16: 'fp16'}.get(dtype, str(dtype))
    if device.type != 'cuda':
        return name
    matmul, convolution = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    if matmul and convolution:
        return 'tf32' if name == 'fp32' else f'{name}, tf32'
    if matmul or convolution:
        return f'{name}, tf32 ' + ('matmul' if matmul else 'conv')
    return name


class ModelProbe:
    """
    ## The probe on the model

    A forward pre-hook on the runner's model, for as long as the `with` block lasts: it counts the
    model's calls and reads the precision in effect at each. It runs on the host, outside any
    compiled code, and waits for nothing.
    """

    def __init__(self, model: torch.nn.Module, device: torch.device):
        self.model, self.device = model, device
        self.calls = 0
        # The precisions seen, in the order first seen
        self.seen: Dict[str, None] = {}

    def __call__(self, module: torch.nn.Module, inputs):
        self.calls += 1
        self.seen[precision_in_effect(self.device)] = None

    def __enter__(self) -> 'ModelProbe':
        self.handle = self.model.register_forward_pre_hook(self)
        return self

    def __exit__(self, *exception):
        self.handle.remove()

    @property
    def precision(self) -> Optional[str]:
        """
        The precision of every call, several joined by ` / ` when they differed, `None` without
        a call.
        """
        return ' / '.join(self.seen) or None


def parameters_of(model: torch.nn.Module) -> List[torch.Tensor]:
    """
    A copy of the model's parameters, to tell afterwards which ones training changed.
    """
    return [parameter.detach().clone() for parameter in model.parameters()]


def changed_fraction(before: List[torch.Tensor], model: torch.nn.Module) -> float:
    """
    The fraction of the parameter tensors that differ from their copy `before`.
    """
    changed = [not torch.equal(old, new) for old, new in zip(before, model.parameters())]
    return sum(changed) / len(changed)


def compiled_graphs() -> int:
    """
    The number of graphs `torch.compile` has compiled in this process so far. Its counters live in
    `torch._dynamo`, which compiling imports: a process that never imported it compiled nothing
    (and is spared the seconds the import takes).
    """
    dynamo = sys.modules.get('torch._dynamo.utils')
    return dynamo.counters['stats']['unique_graphs'] if dynamo else 0


def measure_throughput(runner, device: torch.device, warmup_steps: int, steps: int) -> Dict:
    """
    ## Throughput

    Takes `warmup_steps` untimed steps, then times `steps` steps, batches included. The batches run
    on across epochs, so that any number of steps can be timed.
    """
    # One epoch after another, without end.
    batches: Iterator = itertools.chain.from_iterable(
        runner.train_batches() for _ in itertools.count())

    def take_steps(count: int) -> Tuple[int, List[torch.Tensor]]:
        # `count` steps on the next batches; returns the number of images they saw, and their losses
        images, losses = 0, []
        for _ in range(count):
            batch_images, labels = next(batches)
            losses.append(runner.train_step(batch_images, labels))
            images += len(labels)
        return images, losses

    warmup_images, _ = take_steps(warmup_steps)
    before = parameters_of(runner.model)
    with ModelProbe(runner.model, device) as probe:
        synchronize(device)
        start = time.perf_counter()
        images, losses = take_steps(steps)
        # The clock stops once the device has done all the work queued
        synchronize(device)
        seconds = time.perf_counter() - start
    return {'images_per_second': images / seconds, 'train_images': images, 'train_seconds': seconds,
            'epochs': (warmup_images + images) / runner.train_size, 'timeline': AccuracyTimeline(),
            'steps': len(losses), 'model_calls': probe.calls, 'precision': probe.precision,
            'parameters_changed': changed_fraction(before, runner.model),
            'losses': [loss.item() for loss in losses]}


def train_to_accuracy(runner, device: torch.device, epochs: int, max_seconds: Optional[float],
                      eval_every_steps: int = 0, log: Callable[[str], None] = print) -> Dict:
    """
    ## Time to accuracy

    Trains for at most `epochs` epochs and `max_seconds` training seconds, evaluating the test
    accuracy after each epoch and every `eval_every_steps` steps. It stops early once every
    threshold has been reached. The clock is stopped while evaluating.
    """
    timeline = AccuracyTimeline()
    train_seconds, images, steps = 0.0, 0, 0

    def evaluate() -> float:
        # Stop the clock, evaluate, and return the seconds of training so far.
        synchronize(device)
        elapsed = train_seconds + time.perf_counter() - start
        accuracy = runner.test_accuracy()
        timeline.record(elapsed, accuracy)
        log(f'epoch {images / runner.train_size:.2f}  train {elapsed:.1f} s  '
            f'test accuracy {accuracy:.2f}%')
        return elapsed

    def result() -> Dict:
        # The rate is over all training, warm-up and compilation included
        return {'images_per_second': images / train_seconds if train_seconds else None,
                'train_images': images, 'train_seconds': train_seconds,
                'epochs': images / runner.train_size, 'timeline': timeline, 'steps': steps,
                'model_calls': probe.calls, 'precision': probe.precision,
                'parameters_changed': changed_fraction(before, runner.model), 'losses': None}

    before = parameters_of(runner.model)
    with ModelProbe(runner.model, device) as probe:
        for _ in range(epochs):
            synchronize(device)
            start = time.perf_counter()
            # Whether the model has been evaluated since its last step.
            evaluated = False
            for batch_images, labels in runner.train_batches():
                runner.train_step(batch_images, labels)
                images += len(labels)
                steps += 1
                # The cap on time is read without synchronising: it only decides when to stop.
                out_of_time = (max_seconds is not None and
                               train_seconds + time.perf_counter() - start >= max_seconds)
                evaluated = out_of_time or bool(eval_every_steps and steps % eval_every_steps == 0)
                if evaluated:
                    train_seconds = evaluate()
                    if out_of_time or timeline.all_reached:
                        return result()
                    start = time.perf_counter()
            # The end of an epoch, unless its last step was just evaluated.
            if not evaluated:
                train_seconds = evaluate()
            if timeline.all_reached:
                break
        return result()


def log_to_stderr(message: str):
    """
    Progress goes to standard error: standard output is kept for the result.
    """
    print(message, file=sys.stderr, flush=True)


def main(make_runner: Callable[[argparse.Namespace, torch.device], object], *,
         default_batch_size: int, precisions: Sequence[str], argv: Optional[Sequence[str]] = None):
    """
    ## A runner's `main`

    Parses the command line, builds the runner with `make_runner(args, device)`, measures in the
    mode asked for, and prints the result as one JSON object on the last line of standard output.
    """
    args = parse_args(argv, default_batch_size=default_batch_size, precisions=precisions)
    device = pick_device(args.device)
    require_mnist(args.data)
    # The same seed gives both runners the same kind of start; it does not make them equal.
    torch.manual_seed(args.seed)
    with tf32_allowed(args.precision == 'tf32'):
        runner = make_runner(args, device)
        log_to_stderr(f'{runner.name}: {args.mode} on {device.type}, batch {runner.batch_size}, '
                      f'{args.precision} asked for')
        if args.mode == 'throughput':
            measured = measure_throughput(runner, device, args.warmup_steps, args.steps)
        else:
            measured = train_to_accuracy(runner, device, args.epochs, args.max_seconds,
                                         args.eval_every_steps, log=log_to_stderr)
    if measured['steps'] and measured['model_calls'] == 0:
        raise SystemExit(f'{runner.name}: {measured["steps"]} steps were taken, and none of them '
                         'called the runner\'s model: its train_step does not train `model`.')
    memory, memory_kind = peak_memory(device)
    timeline = measured['timeline']

    result = {
        'name': runner.name,
        'mode': args.mode,
        'device': device.type,
        'device_name': device_name(device),
        'threads': torch.get_num_threads(),
        'batch_size': runner.batch_size,
        'precision': measured['precision'],
        'compiled': compiled_graphs() > 0,
        'images_per_second': measured['images_per_second'],
        'train_images': measured['train_images'],
        'train_seconds': measured['train_seconds'],
        'steps': measured['steps'],
        'model_calls': measured['model_calls'],
        'parameters_changed': measured['parameters_changed'],
        'losses': measured['losses'],
        'peak_memory_mb': memory,
        'memory_kind': memory_kind,
        'time_to_accuracy': timeline.first_reached,
        'best_accuracy': timeline.best,
        'accuracy_history': timeline.history,
        'epochs': measured['epochs'],
        'torch': torch.__version__,
        'notes': list(runner.notes),
    }
    print(json.dumps(result), flush=True)
