"""
---
title: Choosing the device
summary: The `device` config of the experiments, `auto` picks the GPU when there is one.
---

# Choosing the device

`device=auto` runs on the first CUDA GPU when PyTorch sees one, and on the CPU otherwise.
A device that is asked for by name but is not there stops the run before any work, with a
message, rather than falling back to the CPU in silence.
"""

import torch

# The names the `device` config accepts, besides `cuda:N` for a particular GPU.
DEVICE_NAMES = ('auto', 'cuda', 'cpu')


def choose_device(name: str = 'auto') -> torch.device:
    """
    * `name` is `auto`, `cpu`, `cuda` or `cuda:N`
    """
    if name == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    if name == 'cpu':
        return torch.device('cpu')
    if name == 'cuda' or name.startswith('cuda:'):
        if not torch.cuda.is_available():
            raise ValueError(f'device={name} was asked for, but PyTorch sees no CUDA GPU here; '
                             'use device=cpu or device=auto')
        device = torch.device(name)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f'device={name}: there are only {torch.cuda.device_count()} GPUs')
        return device
    raise ValueError(f'device={name} is not a device; use one of {", ".join(DEVICE_NAMES)} or cuda:N')
