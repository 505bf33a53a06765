r"""
---
title: Training on several GPUs with torchrun
summary: >
  One run on N processes - DistributedDataParallel, each process a share of every batch, the
  metrics summed over all of them, one run folder written by rank 0.
---

# Training on several GPUs with torchrun

```bash
# 8 GPUs of one machine (NCCL), or 8 CPU processes (gloo) where there is no GPU
torchrun --nproc_per_node=8 -m labml_nn.capsule_networks.mnist batch_size=512
# Two machines of 8 GPUs: the same command on both, 10.0.0.1 being one of them
torchrun --nnodes=2 --nproc_per_node=8 --rdzv-backend=c10d --rdzv-endpoint=10.0.0.1:29500 \
    --rdzv-conf join_timeout=300 -m labml_nn.capsule_networks.mnist
```

`torchrun` starts the processes, one per GPU, and gives each its *rank* and the *world size*
in environment variables; this module reads them, and
[the runner](runner.html) makes every experiment one run over all processes. Started without
`torchrun`, none of this happens: the experiment runs as a single process, the same computation
to the bit.

### What DistributedDataParallel does

Every process holds a full copy of the model and computes the forward and backward pass on its
share of the batch. Their gradients differ, and
[DistributedDataParallel](https://pytorch.org/docs/stable/notes/ddp.html) (DDP) makes them the
same: during the backward pass it averages each gradient over the $N$ processes with an
*all-reduce*,

$$g = \frac{1}{N} \sum_{r=1}^{N} g_r,$$

so that every process takes the same optimizer step and the copies never drift apart. It does not
wait for the backward pass to end: the parameters are grouped in *buckets* of about 25 MB, in the
reverse order of the forward pass, and a bucket is sent as soon as all of its gradients are
computed, while the backward pass goes on through the earlier layers. Only the last bucket's
transfer is left to wait for.

Since each $g_r$ is the mean over an equal share of the batch, their mean is the mean over the
whole batch: the step is the one a single process takes on the whole batch, up to the order of
floating-point additions.

### Why the routing needs no communication

[Dynamic routing](../capsule_networks/index.html#router) iterates *within one image*: the
coupling coefficients $c_{ij}$ of an image depend on that image's capsules only, and no
statistic is taken over the batch (there is no batch normalisation in the CapsNet). A process can
route its images without looking at the others' images, so the forward pass needs no
communication at all; only the gradients of the shared weights $\mathbf{W}_{ij}$ and of the
convolutions and decoder are averaged.

### Batch size and learning rate across world sizes

`batch_size` is the *global* batch: each of the $N$ processes takes `batch_size / N` images of
each batch, and it must divide evenly. The number of steps per epoch, the learning-rate schedule
and the learning rate stay those of a single process, so a run on 8 GPUs follows the same
trajectory as a run on one, only faster.

To use more GPUs at the same *per-GPU* batch, the global batch grows with $N$, and the learning
rate has to be retuned. The usual starting points are the *linear scaling rule* for SGD (Goyal
et al., 2017: $\eta \propto N$, with a warm-up) and the *square-root rule* for Adam ($\eta \propto
\sqrt{N}$), both heuristics that fail past some batch size. Here the global batch is what the
configs say, and nothing is rescaled behind the user's back.

### Each process's share of the data

Every process keeps the whole dataset on its device and draws the same random order from the
same seed; a batch is cut out as on one process, and each process keeps its own slice of it
(`share`). The slices are disjoint, so no image is seen twice in an epoch, and the random shifts
are those of a single process: the runs on 1 and on $N$ processes see the very same images.

### One run, written by rank 0

Rank 0 creates the labml run and is the only process that writes: the configs, `log.jsonl` and
the checkpoints. The other ranks compute, and print nothing. The metrics of an epoch are summed
over the processes before they are written, so they are those of the whole training set. A run
started on $N$ processes can be resumed on $M$: the checkpoint holds one model, one optimizer
state and one random generator, the same on every rank. On several machines, every node reads the
checkpoint to resume from, so `logs/` must be on a shared file system.

### Faults

When a process dies, `torchrun`'s agent stops the others within seconds and prints which rank
failed and why; `--resume` continues from the last checkpoint. When a machine never joins, the
c10d rendezvous above gives up after `join_timeout` seconds with a `RendezvousTimeoutError`
(the older `--master_addr` rendezvous waits far longer, in silence). A process that waits longer
than `TIMEOUT` for the others, at the start or inside a step, stops with an error instead of
hanging.

### The end of a process

A process of a `torchrun` job ends with `os._exit`, once it has left the process group and flushed
its output (`leave`): Python's own shutdown is skipped. The reason is a race in PyTorch. Once a
model has been wrapped in DistributedDataParallel, `destroy_process_group` no longer stops gloo's
worker threads, and a worker thread may still be letting go of the tensors of the last all-reduce
when the main thread starts to shut Python down. Letting go of a tensor that Python knows takes
Python's lock, which a thread can't take during the shutdown: Python ends that thread, in a way its
C++ code can't survive, and the process aborts with `terminate called without an active exception`
([pytorch/pytorch#190489](https://github.com/pytorch/pytorch/issues/190489)). On a busy 2-core
machine, 2 of 148 two-process training runs ended that way after their training had finished, and 5
of 40 of the short jobs of `bench/torchrun_exit.py`; with `os._exit`, none of 40. Everything a
process writes is written and closed by the time it leaves, so the skipped shutdown had nothing left
to do.
"""

import os
import sys
from contextlib import contextmanager, redirect_stdout
from datetime import timedelta
from typing import Dict, Iterator, Optional, Tuple

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from labml_nn.helpers.configs import ConfigError

# How long a process waits for the others, at the start and in each collective, before it stops.
# Set `CAPSULES_DISTRIBUTED_TIMEOUT` (in seconds) to change it.
TIMEOUT = timedelta(seconds=float(os.environ.get('CAPSULES_DISTRIBUTED_TIMEOUT', 300)))


class DistributedError(RuntimeError):
    """
    The processes of a job could not start together; the message says where it waited.
    """


def launched() -> bool:
    """
    Whether this process was started by `torchrun`, which sets `RANK` and `WORLD_SIZE`.
    """
    return 'RANK' in os.environ and 'WORLD_SIZE' in os.environ


def launched_rank() -> int:
    """
    This process's rank as `torchrun` gave it, $0$ without `torchrun`; known before `init`.
    """
    return int(os.environ.get('RANK', 0))


def init():
    """
    Join the other processes of the job, when started by `torchrun`; nothing otherwise.

    The process group has two backends: gloo for the tensors on the CPU, and NCCL for those on
    GPUs where PyTorch has it. Each process uses the GPU of its local rank.
    """
    if not launched() or dist.is_initialized():
        return
    backend = 'gloo'
    if torch.cuda.is_available() and dist.is_nccl_available():
        backend = 'cpu:gloo,cuda:nccl'
        torch.cuda.set_device(local_rank())
    try:
        dist.init_process_group(backend, timeout=TIMEOUT)
    except (RuntimeError, TimeoutError) as error:
        address = f'{os.environ.get("MASTER_ADDR")}:{os.environ.get("MASTER_PORT")}'
        raise DistributedError(
            f'rank {launched_rank()} of {os.environ["WORLD_SIZE"]} could not join the others at '
            f'{address} within {TIMEOUT.total_seconds():.0f} s ({error}). Check that every node '
            'was started with the same --nnodes and --master_addr, and that the address is '
            'reachable from this one.') from None


def close():
    """
    Leave the process group at the end of the job.
    """
    if dist.is_initialized():
        dist.destroy_process_group()


def leave(error: Optional[str] = None):
    """
    End the process: at once under `torchrun`, with `os._exit`, after printing `error` (to the
    standard error); with `sys.exit(error)` otherwise, which returns when there is no error. The
    process group must be closed first.
    """
    if not launched():
        if error is not None:
            sys.exit(error)
        return
    if error is not None:
        print(error, file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0 if error is None else 1)


def rank() -> int:
    """
    This process's rank, $0$ to $N - 1$; $0$ for a single process.
    """
    return dist.get_rank() if dist.is_initialized() else 0


def world_size() -> int:
    """
    The number of processes $N$; $1$ for a single process.
    """
    return dist.get_world_size() if dist.is_initialized() else 1


def local_rank() -> int:
    """
    This process's rank among the processes of its machine: the index of its GPU.
    """
    return int(os.environ.get('LOCAL_RANK', 0))


def is_main() -> bool:
    """
    Whether this process writes: rank 0, or the only process.
    """
    return rank() == 0


@contextmanager
def quiet() -> Iterator[None]:
    """
    Keep the screen to rank 0: the other ranks' output is dropped while the block runs. Their
    errors still reach the screen, on the standard error.
    """
    if is_main():
        yield
        return
    with open(os.devnull, 'w') as devnull, redirect_stdout(devnull):
        yield


def check_divides(batch_size: int, last_batch: int = 0):
    """
    Stop, with the numbers, when the global batch can't be split evenly over the processes, or
    when a `last_batch` smaller than the others would leave a process without a sample.
    """
    size = world_size()
    if batch_size % size != 0:
        multiples = sorted({max(size, batch_size // size * size), (batch_size // size + 1) * size})
        raise ConfigError(f'batch_size={batch_size} can not be split evenly over {size} '
                          f'processes ({batch_size} / {size} = {batch_size / size:g} images '
                          f'each); use a multiple of {size}, such as ' +
                          ' or '.join(f'batch_size={multiple}' for multiple in multiples))
    if 0 < last_batch < size:
        raise ConfigError(f'the last batch of {last_batch} would leave some of the {size} '
                          'processes without a sample; choose a subset or a batch_size that '
                          f'leaves a last batch of {size} or more, or none')


def share(batch):
    """
    This process's slice of a global `batch`, `[batch_size / N, ...]`, a view; the whole batch
    for a single process. A tuple of tensors (a named one too) is sliced tensor by tensor. A last,
    smaller batch is split as evenly as it goes.
    """
    if world_size() == 1:
        return batch
    if isinstance(batch, tuple):
        shares = [share(item) for item in batch]
        return type(batch)(*shares) if hasattr(batch, '_fields') else tuple(shares)
    return batch.tensor_split(world_size())[rank()]


def wrap(model: nn.Module) -> nn.Module:
    """
    The model in `DistributedDataParallel`, when there are several processes; the model itself
    otherwise. Call it through the wrapper so that the backward pass averages the gradients, and
    compile the wrapper, not the other way round: the compiler then splits its graph at the
    buckets' boundaries so that their all-reduces still overlap the backward pass.
    """
    if not dist.is_initialized():
        return model
    device = next(model.parameters()).device
    return DistributedDataParallel(model, device_ids=[device] if device.type == 'cuda' else None)


def sum_over_processes(sums: Dict[str, torch.Tensor],
                       samples: int) -> Tuple[Dict[str, torch.Tensor], int]:
    """
    The metric `sums` of an epoch and its number of `samples`, added up over all processes in one
    all-reduce; as they are for a single process.
    """
    if world_size() == 1:
        return sums, samples
    names = list(sums)
    device = sums[names[0]].device if names else torch.device('cpu')
    # `[n_metrics + 1]`: every sum, and the sample count last, in 64-bit floats so that the count
    # stays exact
    stacked = torch.stack([sums[name].double() for name in names] +
                          [torch.tensor(float(samples), dtype=torch.float64, device=device)])
    dist.all_reduce(stacked)
    return {name: stacked[i] for i, name in enumerate(names)}, int(stacked[-1].item())


def check_replicas(model: nn.Module):
    """
    Stop when the copies of `model` on the processes differ. They stay equal as long as the
    experiment calls its model through `wrap`; a step that goes around it would let them drift
    apart in silence.
    """
    if world_size() == 1:
        return
    # One number per process: the sum of all weights, in 64 bits
    checksum = torch.stack([p.detach().double().sum() for p in model.parameters()]).sum()
    checksums = [torch.zeros_like(checksum) for _ in range(world_size())]
    dist.all_gather(checksums, checksum)
    # Equal up to the order in which different devices may add the same numbers
    if any(not torch.isclose(other, checksums[0], rtol=1e-9, atol=0) for other in checksums):
        raise RuntimeError('The copies of the model on the processes differ (sums of weights '
                           f'{[c.item() for c in checksums]}): the step must call the model '
                           'through labml_nn.helpers.distributed.wrap, which averages the '
                           'gradients.')


def any_process(flag: bool) -> bool:
    """
    Whether `flag` holds on any process: a decision that every process then takes together, such
    as pausing a run when one process's clock says so.
    """
    if world_size() == 1:
        return flag
    flags = torch.tensor([float(flag)])
    dist.all_reduce(flags, op=dist.ReduceOp.MAX)
    return bool(flags.item())
