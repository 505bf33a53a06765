r"""
---
title: Pictures of what a trained CapsNet does
summary: >
  Reconstructions, what each dimension of a digit capsule encodes, the coupling coefficients of
  routing by agreement, and the training curves, drawn from a run's checkpoint and log.
---

# Pictures of what a trained CapsNet does

This module draws, from the checkpoint and the `log.jsonl` of a run of
[the MNIST experiment](mnist.html), the pictures the notes of this tutorial show:

1. [test digits beside their reconstructions](#reconstructions), and the misclassified ones;
2. [what each dimension of a digit capsule encodes](#perturbations), Figure 4 of the paper;
3. [the coupling coefficients of routing](#routing) over the primary capsules' maps, and
   [how they change over the iterations](#routing-iterations);
4. [the training curves](#training-curves).

```bash
python -m labml_nn.capsule_networks.figures <run>                # PNGs into the run's folder, in figures/
python -m labml_nn.capsule_networks.figures <run> --out labml_nn/capsule_networks/images
python -m labml_nn.capsule_networks.figures <run> --test-subset 1000   # a quicker look
```

`<run>` is a run UUID, a run folder or a checkpoint file, as for `--evaluate`. The second command
refreshes the pictures of this site. Each caption gives the number of epochs of the checkpoint
and the test accuracy, which this module computes from the checkpoint on the test digits (all
10,000 unless `--test-subset` is given), in 32-bit floats on the CPU or the GPU.

The test digits are picked in order, so that the pictures are the same on every machine: the
first digits of the test set, and the first misclassified ones found scanning it from the start.

Each picture is a `matplotlib.figure.Figure` made without `pyplot`: no global state and no
backend to choose, so the same functions save PNGs here and show the pictures inline in
[the notebook](mnist.ipynb).
"""

import io
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import matplotlib
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from PIL import Image

from labml_nn.capsule_networks.mnist import EXPERIMENT_NAME, MNISTCapsuleNetworkModel
from labml_nn.helpers import checkpoint, mnist
from labml_nn.helpers.device import choose_device
from labml_nn.helpers.mnist import MNISTDataError
from labml_nn.helpers.run_log import RunLogError, read_log

# Pixels per inch of the PNGs: a figure of $w \times h$ inches is $100 w \times 100 h$ pixels.
DPI = 100
# The perturbations of Figure 4: $-0.25, -0.20, \dots, 0.25$, eleven values
PERTURBATIONS = torch.linspace(-0.25, 0.25, 11)


class UsageError(ValueError):
    """
    A command line that can't be used; the message says what is wrong.
    """


@dataclass
class Run:
    """
    ## A trained run

    The model of a checkpoint, and where it came from.
    """
    # The model with the checkpoint's weights, in evaluation mode
    model: MNISTCapsuleNetworkModel
    # The checkpoint file and the run folder it lies in
    checkpoint_path: Path
    # The number of epochs the checkpoint was trained for
    epochs: int
    # The configs the run was started with on the command line
    overrides: Dict

    @property
    def folder(self) -> Path:
        return self.checkpoint_path.parent


def load_run(run: str, device: torch.device = torch.device('cpu')) -> Run:
    """
    The model of the checkpoint of `run`: a run UUID, a run folder or a checkpoint file.

    The model is built with the routing configs the run was started with, and its weights are
    loaded in 32-bit floats.
    """
    path = checkpoint.find(run, EXPERIMENT_NAME)
    state = checkpoint.load(path, device)
    overrides = state['overrides']
    # The configs that shape the model; the others keep the defaults of the model's constructor,
    # which are those of the experiment.
    model_configs = {key: overrides[key] for key in ('routing_iterations', 'gradient_through_routing')
                     if key in overrides}
    model = MNISTCapsuleNetworkModel(**model_configs).to(device)
    model.load_state_dict(state['state']['model'])
    model.eval()
    return Run(model, path, state['epoch'], overrides)


def load_test_set(data_path: Path = mnist.DEFAULT_ROOT, subset: int = 0,
                device: torch.device = torch.device('cpu')) -> Tuple[torch.Tensor, torch.Tensor]:
    """
    The MNIST test set, the first `subset` digits when `subset > 0`: images `[n, 1, 28, 28]` in
    $[0, 1]$ and labels `[n]`.
    """
    images, labels = mnist.load(Path(data_path), train=False)
    if subset > 0:
        images, labels = images[:subset], labels[:subset]
    return images.unsqueeze(1).to(device).float() / 255, labels.to(device)


@torch.no_grad()
def predict(model: MNISTCapsuleNetworkModel, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """
    The predicted digit of each of `images`, `[n, 1, 28, 28]`: the longest digit capsule.
    Returns `[n]`.
    """
    return torch.cat([model(batch)[2] for batch in images.split(batch_size)])


def mosaic(images: torch.Tensor, gap: int = 2) -> np.ndarray:
    """
    ## A grid of images in one array

    * `images` is `[rows, columns, height, width]`

    Returns the images side by side, `gap` pixels apart, as one array: a figure with one image
    instead of hundreds of small axes draws faster and makes a smaller PNG. The gaps are `NaN`,
    which the colour maps below draw in white.
    """
    rows, columns, height, width = images.shape
    # A gap below and to the right of each image: `[rows, columns, height + gap, width + gap]`
    padded = F.pad(images.float().cpu(), (0, gap, 0, gap), value=float('nan'))
    # Rows of images one above the other, `[rows * (height + gap), columns * (width + gap)]`
    grid = padded.permute(0, 2, 1, 3).reshape(rows * (height + gap), columns * (width + gap))
    # Without the gap after the last row and column
    return grid[:-gap, :-gap].numpy() if gap else grid.numpy()


def _show_grid(axes, images: torch.Tensor, *, gap: int = 2, column_labels: Optional[List[str]] = None,
               row_labels: Optional[List[str]] = None, **imshow):
    """
    Draw `images`, `[rows, columns, height, width]`, as a mosaic on `axes`, with a label under each
    column and beside each row. Returns the `AxesImage`, for a colour bar.
    """
    rows, columns, height, width = images.shape
    colour_map = matplotlib.colormaps[imshow.pop('cmap', 'gray')].with_extremes(bad='white')
    image = axes.imshow(mosaic(images, gap), cmap=colour_map, interpolation='nearest', **imshow)
    # The centre of each cell, in pixels of the mosaic
    axes.set_xticks([c * (width + gap) + (width - 1) / 2 for c in range(columns)] if column_labels else [])
    axes.set_yticks([r * (height + gap) + (height - 1) / 2 for r in range(rows)] if row_labels else [])
    axes.set_xticklabels(column_labels or [])
    axes.set_yticklabels(row_labels or [])
    axes.tick_params(length=0)
    for spine in axes.spines.values():
        spine.set_visible(False)
    return image


def caption(run: Run, accuracy: float, n_test: int) -> str:
    """
    The line each picture carries: how long the model was trained and how well it does.
    """
    epochs = f'{run.epochs} epoch' + ('' if run.epochs == 1 else 's')
    return f'after {epochs}: {accuracy:.2%} test accuracy on {n_test:,} MNIST test digits'


@torch.no_grad()
def reconstructions_figure(model: MNISTCapsuleNetworkModel, images: torch.Tensor, labels: torch.Tensor,
                           predictions: torch.Tensor, title: str = '', n: int = 10,
                           n_wrong: int = 5) -> Figure:
    """
    ## Reconstructions

    ![Reconstructions](images/reconstructions.png)

    The first `n` test digits above their reconstructions from the predicted digit's capsule (the
    capsule the decoder sees at evaluation, [masked](mnist.html#the-capsnet) as in the paper), and
    the first `n_wrong` misclassified digits with two reconstructions, as in Figure 3 of the paper:
    from the capsule of the predicted digit and from that of the true label.

    * `images`, `[n_test, 1, 28, 28]`, `labels` and `predictions`, `[n_test]`, are the test set and
      what the model predicts for it

    A misclassified digit reconstructed from its label's capsule often looks more like the input
    than the one from the predicted capsule: the capsule of the true digit still encodes the
    digit's pose, though it came out shorter than the winning one.
    """
    # The first misclassified digits, `[n_wrong]` indices, fewer if there are fewer
    wrong = (predictions != labels).nonzero().flatten()[:n_wrong]
    # The reconstructions of the first digits, `[n, 784]`
    _, reconstructions, _ = model(images[:n])
    # Both reconstructions of each misclassified digit, `[n_wrong, 784]` each
    wrong_capsules, from_prediction, _ = model(images[wrong])
    from_label = model.decode(wrong_capsules, labels[wrong])

    figure = Figure(figsize=(n * 0.6 + len(wrong) * 0.6 + 1.6, 2.6), dpi=DPI, layout='constrained')
    # The widths of the two panels follow their number of columns
    left, right = figure.subplots(1, 2, width_ratios=[n, max(len(wrong), 1) + 0.8])
    # The digits above their reconstructions, `[2, n, 28, 28]`
    _show_grid(left, torch.stack([images[:n, 0], reconstructions.view(-1, 28, 28)]), vmin=0, vmax=1,
               column_labels=[str(p.item()) for p in predictions[:n]], row_labels=['test digit', 'reconstruction'])
    left.set_xlabel('predicted digit')
    left.set_title(f'The first {n} test digits', fontsize=9)
    if len(wrong):
        # The digits above their two reconstructions, `[3, n_wrong, 28, 28]`
        _show_grid(right, torch.stack([images[wrong, 0], from_prediction.view(-1, 28, 28),
                                       from_label.view(-1, 28, 28)]), vmin=0, vmax=1,
                   column_labels=[f'{labels[i].item()}→{predictions[i].item()}' for i in wrong],
                   row_labels=['', 'from prediction', 'from label'])
        right.yaxis.tick_right()
        right.set_xlabel('label→prediction')
    else:
        right.axis('off')
    right.set_title('Misclassified' if len(wrong) else 'No misclassified digit', fontsize=9)
    figure.suptitle(f'Reconstructions from the capsule of the predicted digit, {title}', fontsize=9)
    return figure


@torch.no_grad()
def perturbation_grid(model: MNISTCapsuleNetworkModel, digit_capsules: torch.Tensor, digit: int,
                      perturbations: torch.Tensor = PERTURBATIONS) -> torch.Tensor:
    """
    ## Perturbations

    What each of the $16$ dimensions of a digit capsule encodes, as in Figure 4 of the paper: the
    capsule of `digit` with one dimension changed by each of `perturbations`, decoded.

    * `digit_capsules` are the capsules of one image, `[10, 16]`

    Returns the decoded images, `[16, len(perturbations), 28, 28]`: row $d$ is dimension $d$
    perturbed, column $k$ perturbation $k$.
    """
    n_dimensions, n_perturbations = digit_capsules.shape[-1], len(perturbations)
    # $\Delta$ for each (dimension, perturbation): `perturbations[k]` on dimension `d`, zero on the
    # others, `[16, 11, 16]`
    delta = torch.eye(n_dimensions, device=digit_capsules.device)[:, None, :] * \
        perturbations.to(digit_capsules.device)[None, :, None]
    # The capsules of all $16 \cdot 11$ images, only `digit`'s perturbed: `[16 * 11, 10, 16]`
    capsules = digit_capsules.expand(n_dimensions * n_perturbations, -1, -1).clone()
    capsules[:, digit] += delta.reshape(-1, n_dimensions)
    # Decoded from `digit`'s capsule, the others masked, `[16 * 11, 784]`
    decoded = model.decode(capsules, torch.full((len(capsules),), digit, device=capsules.device))
    return decoded.view(n_dimensions, n_perturbations, 28, 28)


@torch.no_grad()
def perturbations_figure(model: MNISTCapsuleNetworkModel, images: torch.Tensor, title: str = '',
                         perturbations: torch.Tensor = PERTURBATIONS, scale: int = 2) -> Figure:
    """
    ![What each dimension of a digit capsule encodes](images/perturbations.png)

    The grids of `perturbation_grid` for each of `images`, `[k, 1, 28, 28]`, side by side, each
    perturbing the capsule of the digit the model predicts. The paper finds dimensions that
    encode the stroke's thickness, the skew, the width, and localised parts of a digit. In the run
    these pictures come from, some rows change a digit clearly (the skew of the 1, a serif at its
    top, the width of the 2, the stroke of the 7) and many change it little over this range.

    Each pixel of a digit is drawn as `scale` $\\times$ `scale` pixels of the PNG, exactly, so
    that the small changes from one column to the next are not blurred by resampling.
    """
    # `[k, 10, 16]` and `[k]`
    digit_capsules, _, predictions = model(images)
    # `[16, 11, 28, 28]` for each digit
    grids = [perturbation_grid(model, capsules, digit.item(), perturbations)
             for capsules, digit in zip(digit_capsules, predictions)]
    # The size of a panel in pixels, and the margins around the panels: for the labels of the
    # rows on the left, the titles on top, the labels of the columns below
    height, width = (side * scale for side in mosaic(grids[0]).shape)
    left, right, top, bottom, between = 60, 10, 70, 50, 20
    figure_width = left + len(grids) * (width + between) - between + right
    figure_height = top + height + bottom
    figure = Figure(figsize=(figure_width / DPI, figure_height / DPI), dpi=DPI)
    # Labels for the two ends and the middle of the perturbations
    ends = (0, len(perturbations) // 2, len(perturbations) - 1)
    columns = [('0' if abs(p) < 1e-6 else f'{p:+.2f}') if k in ends else ''
               for k, p in enumerate(perturbations.tolist())]
    for index, (grid, digit) in enumerate(zip(grids, predictions)):
        axes = figure.add_axes([(left + index * (width + between)) / figure_width, bottom / figure_height,
                                width / figure_width, height / figure_height])
        _show_grid(axes, grid, vmin=0, vmax=1, column_labels=columns,
                   row_labels=[str(d + 1) for d in range(grid.shape[0])] if index == 0 else None)
        axes.set_title(f'capsule of digit {digit.item()}', fontsize=11)
        axes.set_xlabel('perturbation', fontsize=11)
        axes.tick_params(labelsize=11)
        if index == 0:
            axes.set_ylabel('dimension', fontsize=11)
    # The title in the top margin, above the panels' titles
    figure.suptitle(f'Each dimension of the predicted capsule changed by $-0.25 \\dots 0.25$, decoded; {title}',
                    fontsize=11, y=1 - 10 / figure_height, va='top')
    return figure


@torch.no_grad()
def routing(model: MNISTCapsuleNetworkModel, image: torch.Tensor) -> Tuple[torch.Tensor, int]:
    """
    ## Routing

    The coupling coefficients $c_{ij}$ of every routing iteration for one image, `[1, 28, 28]`,
    and the winning digit capsule $j^*$, the longest.

    Returns `[iterations, 1152, 10]`: for each iteration, how each primary capsule $i$ splits its
    output among the digit capsules $j$ (each row sums to $1$).
    """
    digit_capsules, couplings = model.digit_capsules.route(model.primary_capsules(image[None]))
    # `[iterations, 1152, 10]`
    couplings = torch.stack([c[0] for c in couplings]).float()
    return couplings, digit_capsules[0].norm(dim=-1).argmax().item()


def coupling_maps(couplings: torch.Tensor, digit: int) -> torch.Tensor:
    """
    The coupling coefficients to the capsule of `digit`, $c_{ij}$ for each primary capsule $i$,
    laid out as the primary capsules are: `couplings`, `[iterations, 1152, 10]`, becomes
    `[iterations, 32, 6, 6]`, in the order `primary_capsules` flattens them (map, row, column).
    """
    return couplings[:, :, digit].reshape(-1, 32, 6, 6)


def routing_figure(model: MNISTCapsuleNetworkModel, image: torch.Tensor, label: int, title: str = '') -> Figure:
    r"""
    ![The coupling coefficients of the last routing iteration](images/routing.png)

    The digit, and the coupling coefficients $c_{ij^*}$ of the last iteration to the winning
    capsule $j^*$, for each of the $6 \times 6$ capsules of each of the $32$ primary capsule maps,
    one colour scale for all. The scale is white at $0.1$, an even split among the ten digit
    capsules, as in the first iteration: red capsules send the winning digit more than an even
    share of their output, up to the largest $c_{ij^*}$, blue ones less, down to the smallest.
    """
    couplings, winner = routing(model, image)
    # The last iteration's maps, as 4 rows of 8 maps: `[4, 8, 6, 6]`
    maps = coupling_maps(couplings, winner)[-1].view(4, 8, 6, 6)
    # White at an even split, the ends of the scale at the smallest and the largest coefficient
    norm = TwoSlopeNorm(0.1, vmin=min(maps.min().item(), 0.099), vmax=max(maps.max().item(), 0.101))
    figure = Figure(figsize=(8.4, 2.9), dpi=DPI, layout='constrained')
    digit_axes, maps_axes = figure.subplots(1, 2, width_ratios=[1, 4])
    digit_axes.imshow(image[0].cpu().numpy(), cmap='gray', vmin=0, vmax=1, interpolation='nearest')
    digit_axes.set_title(f'label {label}, capsule {winner} wins', fontsize=9)
    digit_axes.axis('off')
    shown = _show_grid(maps_axes, maps, gap=1, cmap='RdBu_r', norm=norm)
    maps_axes.set_title(f'$c_{{ij}}$ of iteration {len(couplings)} to capsule {winner}, '
                        f'for the 6×6 capsules of each of the 32 primary capsule maps', fontsize=9)
    # Ticks at the two ends and at the even split
    figure.colorbar(shown, ax=maps_axes, shrink=0.9, label='$c_{ij}$', format='%.3f',
                    ticks=[norm.vmin, 0.1, norm.vmax])
    figure.suptitle(f'Routing by agreement, {title}', fontsize=9)
    return figure


@torch.no_grad()
def capsule_lengths(model: MNISTCapsuleNetworkModel, images: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    r"""
    The coupling coefficients of every iteration, `[iterations, k, 1152, 10]`, for `images`,
    `[k, 1, 28, 28]`, and the lengths $\lVert \mathbf{v}_j \rVert$ the digit capsules would have
    if routing stopped after each iteration, `[iterations, k, 10]`: the output of iteration $r$ is
    $\mathbf{v}_j = \text{squash}(\sum_i c_{ij} \hat{\mathbf{u}}_{j|i})$ with that iteration's
    $c_{ij}$.
    """
    router = model.digit_capsules
    primary_capsules = model.primary_capsules(images)
    _, couplings = router.route(primary_capsules)
    # `[iterations, k, 1152, 10]`
    couplings = torch.stack(couplings).float()
    # $\hat{\mathbf{u}}_{j|i}$, `[k, 10, 1152, 16]`
    u_hat = router.predictions(primary_capsules).float()
    # $\mathbf{s}_j = \sum_i c_{ij} \hat{\mathbf{u}}_{j|i}$ of each iteration, `[iterations, k, 10, 16]`
    s = torch.einsum('rkij,kjid->rkjd', couplings, u_hat)
    return couplings, router.squash(s).norm(dim=-1)


def routing_iterations_figure(model: MNISTCapsuleNetworkModel, images: torch.Tensor, title: str = '') -> Figure:
    r"""
    ### Routing iterations

    ![How the coupling coefficients and the capsules change over the iterations](images/routing_iterations.png)

    What the iterations of routing change, for `images`, `[k, 1, 28, 28]`:

    * Left: for the first digit, the distribution of $c_{ij^*}$ over the $1152$ primary capsules
      $i$, for the winning capsule $j^*$. At iteration $1$ all are $0.1$; each iteration spreads
      them further, towards the capsules whose predictions agree with $\mathbf{v}_{j^*}$.
    * Right: over all `images`, the mean length of the winning digit capsule and of the longest
      of the others, as routing would leave them after each iteration, and the number of digits
      whose winner after the first iteration, the even split, is already the final one.
    """
    couplings, lengths = capsule_lengths(model, images)
    # The winner of the last iteration, `[k]`
    winners = lengths[-1].argmax(dim=-1)
    # $c_{ij^*}$ of the first digit, `[iterations, 1152]`
    to_winner = couplings[:, 0, :, winners[0]]
    # The lengths of the winners and of the longest losers, `[iterations, k]` each
    winner_lengths = lengths.gather(-1, winners[None, :, None].expand(len(lengths), -1, 1))[..., 0]
    loser_lengths = lengths.scatter(-1, winners[None, :, None].expand(len(lengths), -1, 1), -1).max(dim=-1).values
    iterations = list(range(1, len(couplings) + 1))

    figure = Figure(figsize=(8.4, 2.9), dpi=DPI, layout='constrained')
    histogram, means = figure.subplots(1, 2)
    # Bins spanning all iterations' values, and $0.1$
    low, high = min(to_winner.min().item(), 0.099), max(to_winner.max().item(), 0.101)
    bins = np.linspace(low, high, 41)
    for iteration in iterations:
        histogram.hist(to_winner[iteration - 1].cpu().numpy(), bins=bins, histtype='step', linewidth=1.5,
                       label=f'iteration {iteration}')
    histogram.set_yscale('log')
    histogram.set_xlabel(f'$c_{{ij^*}}$, to the winning capsule $j^* = {winners[0].item()}$')
    histogram.set_ylabel('primary capsules')
    histogram.set_title('The first test digit', fontsize=9)
    histogram.legend(fontsize=8)
    means.plot(iterations, winner_lengths.mean(dim=1).cpu().numpy(), 'o-', label='winning capsule')
    means.plot(iterations, loser_lengths.mean(dim=1).cpu().numpy(), 's-', label='longest other capsule')
    means.set_xticks(iterations)
    means.set_xlabel('routing iteration')
    means.set_ylabel(r'mean $\|\mathbf{v}_j\|$')
    means.set_ylim(0, 1)
    # How often routing changes the prediction: the winner after the first iteration against the last
    same = (lengths[0].argmax(dim=-1) == winners).sum().item()
    means.text(0.03, 0.5, f'the same winner after\niterations 1 and {len(iterations)}:\n{same} of {len(images)} digits',
               transform=means.transAxes, ha='left', va='center', fontsize=8)
    means.set_title(f'Lengths of the digit capsules, over the first {len(images)} test digits', fontsize=9)
    means.legend(fontsize=8, loc='center right')
    figure.suptitle(f'What the routing iterations change, {title}', fontsize=9)
    return figure


def training_curves_figure(log: Dict[str, List[Tuple[int, float]]], title: str = '') -> Figure:
    """
    ## Training curves

    ![Training curves](images/training_curves.png)

    The loss and the accuracy of each epoch, on the training set (during the epoch, with the
    random shifts, as the weights change) and on the test set (after it), from
    [the run's log](../helpers/run_log.html).

    The training set's numbers are averages over an epoch of changing weights; the test set's are
    those of the weights at the end of the epoch. So early on the test numbers are the better ones.
    """
    # Epochs from the samples seen: every epoch sees the same number of samples
    samples_per_epoch = log['loss.train'][0][0]
    figure = Figure(figsize=(8.4, 2.9), dpi=DPI, layout='constrained')
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    for axes, metric, scale in ((loss_axes, 'loss', 1), (accuracy_axes, 'accuracy', 100)):
        for split, name, marker in (('train', 'training', 'o'), ('valid', 'test', 's')):
            points = log.get(f'{metric}.{split}', [])
            axes.plot([step / samples_per_epoch for step, _ in points], [value * scale for _, value in points],
                      marker=marker, label=name)
        axes.set_xlabel('epoch')
        axes.set_xlim(0.5, log['loss.train'][-1][0] / samples_per_epoch + 0.5)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.legend(fontsize=8)
    loss_axes.set_yscale('log')
    loss_axes.set_title('Loss: margin + 0.0005 × reconstruction', fontsize=9)
    accuracy_axes.set_title('Accuracy (%)', fontsize=9)
    figure.suptitle(f'Training curves, {title}', fontsize=9)
    return figure


def save(figure: Figure, path: Path):
    """
    Write a figure as a PNG of `DPI` pixels per inch.

    Matplotlib draws in RGBA, four bytes a pixel. A picture in greys only, like Figure 4, is kept
    exactly with one byte a pixel, which takes a third fewer bytes; a picture in colour keeps a
    palette of its $256$ most used colours. (As SVG, the two charts would be twice the size of
    their PNGs.) The file holds no date or other metadata, so drawing the same figure again gives
    the same bytes.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    figure.savefig(buffer, format='png', dpi=DPI)
    image = Image.open(buffer).convert('RGB')
    # Grey when the red, green and blue of every pixel are equal
    pixels = np.asarray(image)
    if (pixels == pixels[..., :1]).all():
        image = image.convert('L')
    else:
        image = image.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    image.save(path, format='png', optimize=True)


USAGE = """usage: python -m labml_nn.capsule_networks.figures RUN [--out FOLDER] [--test-subset N] [--device DEVICE]

Draws the pictures of the capsule tutorial from a run of labml_nn.capsule_networks.mnist.
RUN is a run UUID, a run folder or a checkpoint file.
  --out FOLDER       where the pictures go (default: RUN's folder/figures); the site's pictures
                     are in labml_nn/capsule_networks/images
  --test-subset N    test on the first N test digits only (default: all 10,000)
  --device DEVICE    auto, cpu or cuda (default: cpu)"""


def _parse_command_line(arguments: List[str]) -> Dict:
    """
    The run and the options, or a `UsageError` that says what is wrong.
    """
    options = {'out': None, 'test-subset': '0', 'device': 'cpu'}
    run = None
    remaining = list(arguments)
    while remaining:
        argument = remaining.pop(0)
        if argument.startswith('--'):
            if argument[2:] not in options or not remaining:
                raise UsageError(f'{argument} is not an option, or lacks its value')
            options[argument[2:]] = remaining.pop(0)
        elif run is None:
            run = argument
        else:
            raise UsageError(f'one run at a time; {argument} is a second')
    if run is None:
        raise UsageError('which run? Give a run UUID, a run folder or a checkpoint file')
    if not options['test-subset'].isdigit():
        raise UsageError(f'--test-subset takes a number of test digits, not {options["test-subset"]}')
    try:
        device = choose_device(options['device'])
    except ValueError as error:
        raise UsageError(str(error)) from None
    return {'run': run, 'out': options['out'], 'test_subset': int(options['test-subset']), 'device': device}


def draw_all(run: Run, out: Path, test_subset: int = 0, device: torch.device = torch.device('cpu'),
             examples: int = 100) -> Dict[str, Path]:
    """
    ## All the pictures

    Test the run's model, then write every picture into `out`. `examples` is the number of test
    digits the routing means are taken over. Returns the files, by picture.
    """
    images, labels = load_test_set(run.overrides.get('data_path', mnist.DEFAULT_ROOT), test_subset, device)
    predictions = predict(run.model, images)
    accuracy = (predictions == labels).float().mean().item()
    title = caption(run, accuracy, len(labels))
    print(f'{run.checkpoint_path}: {title}')
    # The first three correctly classified digits show the perturbations (the first three digits,
    # if fewer are right)
    right = (predictions == labels).nonzero().flatten()[:3]
    right = right if len(right) == 3 else torch.arange(3, device=device)
    figures = {
        'reconstructions': lambda: reconstructions_figure(run.model, images, labels, predictions, title),
        'perturbations': lambda: perturbations_figure(run.model, images[right], title),
        'routing': lambda: routing_figure(run.model, images[0], labels[0].item(), title),
        'routing_iterations': lambda: routing_iterations_figure(run.model, images[:examples], title),
        'training_curves': lambda: training_curves_figure(read_log(run.folder), title),
    }
    written = {}
    for name, draw in figures.items():
        try:
            figure = draw()
        except RunLogError as error:
            print(f'{name} is left out: {error}', file=sys.stderr)
            continue
        written[name] = out / f'{name}.png'
        save(figure, written[name])
        print(f'  {written[name]}  {written[name].stat().st_size / 1024:.0f} KB')
    return written


def main(arguments: List[str]) -> Dict[str, Path]:
    """
    ## Running it
    """
    parsed = _parse_command_line(arguments)
    run = load_run(parsed['run'], parsed['device'])
    out = Path(parsed['out']) if parsed['out'] else run.folder / 'figures'
    with torch.no_grad():
        return draw_all(run, out, parsed['test_subset'], parsed['device'])


if __name__ == '__main__':
    if '--help' in sys.argv or '-h' in sys.argv:
        print(USAGE)
        sys.exit()
    try:
        main(sys.argv[1:])
    except UsageError as error:
        sys.exit(f'error: {error}\n\n{USAGE}')
    except (checkpoint.CheckpointError, MNISTDataError) as error:
        sys.exit(f'error: {error}')
