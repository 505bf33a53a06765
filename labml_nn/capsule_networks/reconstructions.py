r"""
---
title: Reconstructions
summary: >
  The picture every run of the MNIST experiment ends with: test digits above the decoder's
  reconstructions from their capsules, and the misclassified ones, as in Figure 3 of the paper.
---

# Reconstructions

![Test digits above their reconstructions, and misclassified digits](images/reconstructions.png)

Every run of [the MNIST experiment](mnist.html) ends with this picture, `reconstructions.png` in
its folder, and [the pictures](figures.html) of a run draw it again, light and dark, with the
others.

Left, the first test digits above their reconstructions from the predicted digit's capsule, the
capsule [the decoder](mnist.html#the-capsnet) sees at evaluation (masked as in the paper). Right,
as in Figure 3 of the paper, the first misclassified digits with two reconstructions: from the
capsule of the predicted digit and from that of the true label.

The reconstructions keep each digit's shape, position and slant, and lose its texture: the
decoder draws a smooth, blurred stroke. Drawn from its label's capsule instead, a misclassified
digit often turns back into its label: the capsule of the true digit still encodes a pose, though
it came out shorter than the winning one.

The model is the experiment's CapsNet: called on images, it returns the digit capsules, the
reconstructions and the predictions; `model.decode` draws from the capsule of a given digit.
"""

from pathlib import Path
from typing import Tuple

import torch
from matplotlib.figure import Figure
from torch import nn

from labml_nn.helpers.pictures import Panel, headline, panels_figure, save


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """
    The predicted digit of each of `images`, `[n, 1, 28, 28]`: the longest digit capsule.
    Returns `[n]`.
    """
    return torch.cat([model(batch)[2] for batch in images.split(batch_size)])


@torch.no_grad()
def reconstructions_figure(model: nn.Module, images: torch.Tensor, labels: torch.Tensor,
                           predictions: torch.Tensor, title: str = '', n: int = 8,
                           n_wrong: int = 4, scale: int = 2) -> Figure:
    """
    The picture: left, the first `n` test digits above their reconstructions; right, the first
    `n_wrong` misclassified digits above their two reconstructions.

    * `images`, `[n_test, 1, 28, 28]`, `labels` and `predictions`, `[n_test]`, are the test set
      and what the model predicts for it
    * `scale` is the number of pixels of the PNG for a pixel of a digit
    """
    # The first misclassified digits, `[n_wrong]` indices, fewer if there are fewer
    wrong = (predictions != labels).nonzero().flatten()[:n_wrong]
    # The reconstructions of the first digits, `[n, 784]`
    _, reconstructions, _ = model(images[:n])
    # Both reconstructions of each misclassified digit, `[n_wrong, 784]` each
    wrong_capsules, from_prediction, _ = model(images[wrong])
    from_label = model.decode(wrong_capsules, labels[wrong])
    # The digits above their reconstructions, `[2, n, 28, 28]`
    panels = [Panel(torch.stack([images[:n, 0], reconstructions.view(-1, 28, 28)]),
                    f'The first {n} test digits', xlabel='predicted digit',
                    column_labels=[str(p.item()) for p in predictions[:n]],
                    row_labels=['test digit', 'reconstruction'])]
    # The misclassified digits above their two reconstructions, `[3, n_wrong, 28, 28]`
    if len(wrong):
        panels.append(Panel(torch.stack([images[wrong, 0], from_prediction.view(-1, 28, 28),
                                         from_label.view(-1, 28, 28)]),
                            'Misclassified', xlabel='label→prediction', labels_right=True,
                            column_labels=[f'{labels[i].item()}→{predictions[i].item()}'
                                           for i in wrong],
                            row_labels=['', 'from prediction', 'from label']))
    return panels_figure(panels, headline('Reconstructions', title), scale,
                         left=110, right=120, between=30, bottom=40)


@torch.no_grad()
def save_reconstructions(model: nn.Module, test_digits: Tuple[torch.Tensor, torch.Tensor],
                         path: Path, n_test: int = 1000):
    """
    The reconstructions of the first `n_test` of `test_digits` (images `[n, 28, 28]` of `uint8`,
    and labels), in the light theme, to `path`: the picture every run of the experiment ends
    with.
    """
    model.eval()
    images, labels = test_digits[0][:n_test].unsqueeze(1).float() / 255, test_digits[1][:n_test]
    predictions = predict(model, images)
    save(reconstructions_figure(model, images, labels, predictions), path)
