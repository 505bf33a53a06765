"""
---
title: Precision
summary: The number format of the convolutions and matrix products, and the TF32 switches set for the steps only.
---

# Precision

The `precision` config of an experiment says in which number format its convolutions and
matrix products are computed:

| option | convolutions and matrix products | on a GPU |
|---|---|---|
| `fp32` | 32-bit floats | TF32 off: true 32-bit products |
| `tf32` | 32-bit floats | TensorFloat-32: the range of 32-bit floats, a 10-bit mantissa |
| `bf16` | bfloat16 under autocast; the rest in 32-bit floats | TF32 off |
| `auto` | `bf16` where the hardware computes in it, `fp32` elsewhere | |

`auto` is `bf16` on a GPU, and on a CPU that computes in bfloat16 natively (AVX-512 BF16 or AMX);
elsewhere bfloat16 is emulated and slower than 32-bit floats.

TF32 is switched by two flags of PyTorch's backends, global to the process:
`torch.backends.cuda.matmul.allow_tf32` for matrix products and `torch.backends.cudnn.allow_tf32`
for cuDNN's convolutions, which PyTorch turns *on* by default. A config that set them once and
for all would change every later computation of the process, the reader's own included. So
[`Precision.scope`](#precision) sets both for the steps it surrounds and puts them back after;
the experiment's `step` is where it is applied. The flags do nothing on a CPU.
"""

from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

import torch


@dataclass(frozen=True)
class Precision:
    """
    ## Precision

    One choice of the table above.
    """
    # `fp32`, `tf32` or `bf16`, as on the command line
    name: str
    # The format autocast computes the convolutions and matrix products in; `torch.float32` means
    # no autocast
    dtype: torch.dtype
    # Whether a GPU may compute 32-bit matrix products and convolutions in TF32
    tf32: bool

    def __str__(self) -> str:
        return self.name

    @contextmanager
    def scope(self) -> Iterator[None]:
        """
        Set the TF32 flags of this precision while the block runs, the forward and the backward
        pass both, and restore them after, also when the block raises.
        """
        saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
        torch.backends.cuda.matmul.allow_tf32 = self.tf32
        torch.backends.cudnn.allow_tf32 = self.tf32
        try:
            yield
        finally:
            torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved

    def autocast(self, device: torch.device) -> torch.autocast:
        """
        Autocast to `dtype` on `device` for a forward pass; off for 32-bit floats.
        """
        return torch.autocast(device.type, dtype=self.dtype, enabled=self.dtype != torch.float32)


# The three precisions
FP32 = Precision('fp32', torch.float32, tf32=False)
TF32 = Precision('tf32', torch.float32, tf32=True)
BF16 = Precision('bf16', torch.bfloat16, tf32=False)

# The precisions by their names on the command line
PRECISIONS = {precision.name: precision for precision in (FP32, TF32, BF16)}


@lru_cache
def choose(name: str, device: torch.device) -> Precision:
    """
    The precision of the config `precision=name` on `device`, `auto` resolved as the table says.
    """
    if name == 'auto':
        native_bf16 = device.type == 'cuda' or torch.ops.mkldnn._is_mkldnn_bf16_supported()
        return BF16 if native_bf16 else FP32
    return PRECISIONS[name]
