"""
---
title: Choosing the device
summary: The device config of the experiments - auto picks the GPU when there is one.
---

# Choosing the device

`device=auto` runs on the first CUDA GPU when PyTorch sees one, and on the CPU otherwise.
A device that is asked for by name but is not there stops the run before any work, with a
message, rather than falling back to the CPU in silence.
"""

import torch

def choose_device(name: str = 'auto') -> torch.device:
    """
    * `name` is `auto`, `cpu` or `cuda`
    """
    if name == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    if name == 'cuda' and not torch.cuda.is_available():
        raise ValueError('device=cuda was asked for, but PyTorch sees no CUDA GPU here; '
                         'use device=cpu or device=auto')
    if name not in ('cpu', 'cuda'):
        raise ValueError(f'device={name} is not a device; use auto, cpu or cuda')
    return torch.device(name)
