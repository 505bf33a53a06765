"""
---
title: Choosing the device
summary: >
  The device config of the experiments - auto picks a CUDA GPU, then Apple's MPS, then the CPU.
---

# Choosing the device

`device=auto` runs on a CUDA GPU when PyTorch sees one, else on the GPU of an Apple chip (`mps`),
else on the CPU. `device=cuda:1` picks a GPU by its index. A device that is asked for by name but
is not there stops the run before any work, with a message, rather than falling back to the CPU
in silence.

Under [`torchrun`](distributed.html), each process takes the GPU of its local rank: `auto` and
`cuda` mean `cuda:<local rank>`.

On an Apple GPU, an operation that PyTorch's MPS backend does not implement runs on the CPU, with
one warning from PyTorch, rather than stopping the run: [the package](../index.html) sets
`PYTORCH_ENABLE_MPS_FALLBACK=1` before PyTorch loads, unless the user has set it.
"""

import torch

from labml_nn.helpers import distributed
from labml_nn.helpers.configs import ConfigError

# The GPU indices offered as `device=cuda:<index>`: at least eight, more on a larger machine
CUDA_INDICES = range(max(8, torch.cuda.device_count()))


def _mps_available() -> bool:
    """
    Whether PyTorch can use the GPU of an Apple chip.
    """
    return torch.backends.mps.is_available()


def choose_device(name: str = 'auto') -> torch.device:
    """
    * `name` is `auto`, `cpu`, `cuda`, `cuda:<index>` or `mps`
    """
    if name == 'auto':
        if torch.cuda.is_available():
            name = 'cuda'
        elif _mps_available():
            name = 'mps'
        else:
            name = 'cpu'
    kind, _, index = name.partition(':')
    if kind == 'cuda':
        return _cuda_device(name, int(index) if index else None)
    if kind == 'mps' and not _mps_available():
        raise ConfigError('device=mps was asked for, but PyTorch sees no Apple GPU here; '
                         'use device=cpu or device=auto')
    if kind not in ('cpu', 'mps') or index:
        raise ConfigError(f'device={name} is not a device; use auto, cpu, cuda, cuda:<index> '
                         'or mps')
    return torch.device(name)


def _cuda_device(name: str, index) -> torch.device:
    """
    The CUDA GPU of `index`, or of the process's local rank under `torchrun` when `index` is
    `None`.
    """
    if not torch.cuda.is_available():
        raise ConfigError(f'device={name} was asked for, but PyTorch sees no CUDA GPU here; '
                         'use device=cpu or device=auto')
    count = torch.cuda.device_count()
    if index is None:
        return torch.device('cuda', distributed.local_rank() if distributed.launched() else 0)
    if distributed.launched():
        raise ConfigError(f'device={name}: under torchrun each process takes the GPU of its local '
                         'rank; use device=cuda or device=auto, and CUDA_VISIBLE_DEVICES to '
                         'choose the GPUs')
    if index >= count:
        raise ConfigError(f'device={name} was asked for, but PyTorch sees {count} CUDA GPU'
                         f'{"s" if count > 1 else ""} here (cuda:0 to cuda:{count - 1})')
    return torch.device('cuda', index)
