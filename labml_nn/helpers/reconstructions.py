"""
---
title: The reconstructions of a run
summary: A PNG of test digits above their reconstructions, written at the end of every run.
---

# The reconstructions of a run

Every run of a capsule network with a decoder ends with `reconstructions.png` in its folder:
the first test images above their reconstructions. It needs nothing beyond torchvision, so every
run has it; [the pictures of the tutorial](../capsule_networks/figures.html) draw more, with
captions.
"""

from pathlib import Path

import torch
from torch import nn


@torch.no_grad()
def save_reconstructions(model: nn.Module, images: torch.Tensor, path: Path, n: int = 10):
    """
    Write a PNG of the first `n` of `images` (top row) above their reconstructions (bottom row),
    atomically: to a temporary file, then renamed.

    * `model` is in the form of the capsule networks here: `model(images)` returns a tuple whose
      second item is the reconstructions, `[n, height * width]` in $[0, 1]$
    * `images` are `[N, height, width]` of `uint8`, on the model's device
    """
    from torchvision.utils import save_image

    model.eval()
    # `[n, 1, height, width]` in $[0, 1]$
    inputs = images[:n].unsqueeze(1).float() / 255
    reconstructions = model(inputs)[1]
    # `[2 * n, 1, height, width]`: the images, then their reconstructions, `n` to a row
    grid = torch.cat([inputs, reconstructions.view_as(inputs)]).float().cpu()
    temporary = path.with_name(f'.{path.name}.tmp')
    save_image(grid, temporary, nrow=n, padding=2, pad_value=0.5, format='png')
    temporary.replace(path)
