"""
---
title: Compiling the model
summary: Whether torch.compile can run on a device, and the compile config's auto, on and off.
---

# Compiling the model

`torch.compile` fuses the many small element-wise operations of a step into a few kernels. It
generates Triton kernels on a GPU and C++ on a CPU, so it needs Triton, or a C++ compiler. The
`compile` config of an experiment is one of:

* `auto` (the default): compile wherever the compiler can run;
* `on`: compile; where the compiler can't run, the model runs as it is, with a warning;
* `off`: never compile.
"""

import os
import shutil
from typing import Optional

import torch
from labml import logger
from labml.logger import Text


def missing(device: torch.device) -> Optional[str]:
    """
    What `torch.compile` lacks on `device`, or `None` when it has all it needs.
    """
    if device.type == 'cuda':
        from torch.utils._triton import has_triton
        return None if has_triton() else 'Triton is not installed'
    compiler = os.environ.get('CXX', 'g++')
    return None if shutil.which(compiler) else f'there is no C++ compiler ({compiler})'


def wanted(setting: str, device: torch.device) -> bool:
    """
    Whether to compile, for the config `compile=setting` on `device`.
    """
    if setting == 'off':
        return False
    lacking = missing(device)
    if lacking is not None and setting == 'on':
        logger.log(f'compile=on, but {lacking}: running without torch.compile', Text.warning)
    return lacking is None
