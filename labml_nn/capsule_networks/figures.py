r"""
---
title: Pictures of what a trained CapsNet does
summary: >
  Reconstructions, what each dimension of a digit capsule encodes, the coupling coefficients of
  routing by agreement, and the training curves of a trained run.
scripts: [images/decoder.js, perturbations.js]
---

# Pictures of what a trained CapsNet does

This module draws, from the checkpoint and the `log.jsonl` of a run of
[the MNIST experiment](mnist.html), what the trained network does:

1. [test digits above their reconstructions](reconstructions.html), and the misclassified ones,
   the picture every run ends with;
2. [what each dimension of a digit capsule encodes](#perturbations), Figure 4 of the paper,
   and [the decoder in the page](#the-decoder-in-the-page), to move the dimensions yourself;
3. [the coupling coefficients of routing](#routing) over the primary capsules' maps, and
   [what the routing iterations change](#routing-iterations);
4. [the training curves](#training-curves);

and [the architecture](#architecture) that the experiment page shows.

The pictures on this page come from one run of the experiment with the configs
`epochs=5 batch_size=128 learning_rate=1e-3 curve_start=1024`, the others at their defaults (the
one-cycle schedule, bfloat16, compiled), trained on one core of a 2-core AMD EPYC CPU
(`bench/evidence_cpu.py` trains it). Each picture's title gives the number of epochs of the
checkpoint and its test accuracy, which this module computes from the checkpoint on the test
digits (all 10,000 unless `--test-subset` is given), in 32-bit floats; the notes below describe
what these pictures show, and a run of other configs draws other ones.
The test digits are taken in order, so that the pictures are the same on every machine: the
first digits of the test set, and the first misclassified ones found scanning it from the start.

[The commands](mnist.html) draw the pictures of a run into its folder; with
`--out labml_nn/capsule_networks/images` they replace those of this site. Each is drawn twice,
for the light and the dark theme ([how](../helpers/pictures.html)). They also write the
decoder of the run, for the page to run ([the decoder in the page](#the-decoder-in-the-page)).
"""

import argparse
import base64
import copy
import json
import math
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import numpy as np
import torch
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator
from torch import nn

from labml_nn.capsule_networks import mnist
from labml_nn.capsule_networks.mnist import MNISTCapsuleNetworkModel
from labml_nn.capsule_networks.reconstructions import predict, reconstructions_figure
from labml_nn.helpers import checkpoint
from labml_nn.helpers import mnist as mnist_files
from labml_nn.helpers.device import choose_device
from labml_nn.helpers.pictures import (DPI, Box, Panel, box_diagram, diverging_colour_map,
                                       headline, panels_figure, save_light_and_dark, show_grid)
from labml_nn.helpers.run_log import RunLogError, read_log
from labml_nn.helpers.runner import TrainedRun, run_command

# The perturbations of Figure 4: $-0.25, -0.20, \dots, 0.25$, eleven values
PERTURBATIONS = torch.linspace(-0.25, 0.25, 11)
# The file of the decoder and the test digits' capsules that the page runs, beside the pictures
DECODER_FILE = 'decoder.js'
# The largest quantised weight: bytes from $-127$ to $127$
LARGEST_BYTE = 127
# The comment that opens the decoder's file
DECODER_HEADER = """\
// The decoder of a trained CapsNet, its weights as bytes with a scale for each row, and the
// capsules of a test digit of each class, for the Figure 4 you can move (perturbations.js).
// Written by `python -m labml_nn.capsule_networks.figures`: draw the pictures again rather
// than edit it.
"""


def load_run(run: str, device: str = 'cpu') -> TrainedRun:
    """
    The run `run` of the MNIST experiment's CapsNet (a run UUID, a run folder or a checkpoint
    file), [loaded as every script loads a run](../helpers/runner.html#loading-a-run): its model
    built with the configs the run was started with, its weights in 32-bit floats, on `device`.
    """
    return mnist.EXPERIMENT.load(run, 'capsnet', device=device, precision='fp32',
                                 compile='off')


def check_run(run: TrainedRun):
    """
    Refuse, before any picture is drawn, a run whose pictures would be wrong: a checkpoint whose
    weights are not numbers (`nan` or infinite, from a run that diverged) or a log with such values.
    A run without a log is drawn without its training curves.
    """
    broken = [name for name, weights in run.model.state_dict().items()
              if not torch.isfinite(weights).all()]
    if broken:
        raise checkpoint.CheckpointError(
            f'{run.checkpoint_path} holds weights that are not numbers, in {len(broken)} tensors '
            f'such as {broken[0]}: its run diverged. No picture was drawn; draw another run.')
    try:
        log = read_log(run.folder)
    except RunLogError:
        return
    for key, points in log.items():
        for step, value in points:
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise RunLogError(f'{run.folder / "log.jsonl"} holds {key}={value} at step '
                                  f'{step}: its run diverged. No picture was drawn; draw another '
                                  'run.')


def load_test_set(data_path: Path = mnist_files.DEFAULT_ROOT, subset: int = 0,
                  device: torch.device = torch.device('cpu')) -> Tuple[torch.Tensor, torch.Tensor]:
    """
    The MNIST test set, the first `subset` digits when `subset > 0`: images `[n, 1, 28, 28]` in
    $[0, 1]$ and labels `[n]`.
    """
    images, labels = mnist_files.load(Path(data_path), train=False, subset=subset)
    return images.unsqueeze(1).to(device).float() / 255, labels.to(device)


def caption(run: TrainedRun, accuracy: float, n_test: int) -> str:
    """
    The line each picture carries: how long the model was trained and how well it does.
    """
    return (f'after {run.described}: {accuracy:.2%} test accuracy on {n_test:,} MNIST test '
            'digits')


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
    # $\Delta$ for each (dimension, perturbation): `perturbations[k]` on dimension `d`, zero on
    # the others, `[16, 11, 16]`
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
                         perturbations: torch.Tensor = PERTURBATIONS, scale: int = 1) -> Figure:
    """
    ![What each dimension of a digit capsule encodes](images/perturbations.png)

    The grids of `perturbation_grid` for each of `images`, `[k, 1, 28, 28]`, side by side, each
    perturbing the capsule of the digit the model predicts, its pixels drawn `scale` to a pixel
    of a digit. The paper finds dimensions that encode the stroke's thickness, the skew, the
    width, and localised parts of a digit.

    In the run these pictures come from, a few rows change a digit clearly. Dimension 11 of the
    1 turns it from slanted to upright and grows serifs at its ends, and dimension 3 slants it the
    other way; dimension 1 of the 2 makes it larger and bolder, and dimension 11 narrower;
    dimension 10 of the 7 turns the left end of its bar from a thick hook to a thin stroke. Most
    rows change a digit little over this range: counting the change of every pixel between the
    two ends of a row, the strongest dimension of each digit changes it 1.5 to 2.5 times as much
    as the median one.

    **Move them yourself.** With JavaScript on, the page puts [the decoder of the same
    run](#the-decoder-in-the-page) below the figure: choose one of ten test digits, move the
    $16$ sliders, from $-0.25$ to $0.25$ in steps of $0.05$ as in the figure, and the
    reconstruction is drawn again at once. Unlike the figure, several dimensions can be moved
    together. The script that does it is `perturbations.js`, beside this file.
    """
    # `[k, 10, 16]` and `[k]`
    digit_capsules, _, predictions = model(images)
    # `[16, 11, 28, 28]` for each digit
    grids = [perturbation_grid(model, capsules, digit.item(), perturbations)
             for capsules, digit in zip(digit_capsules, predictions)]
    # Labels for the two ends and the middle of the perturbations
    ends = (0, len(perturbations) // 2, len(perturbations) - 1)
    columns = [('0' if abs(p) < 1e-6 else f'{p:+.2f}') if k in ends else ''
               for k, p in enumerate(perturbations.tolist())]
    # One panel for each digit, the dimensions numbered on the first
    dimensions = [str(d + 1) for d in range(len(grids[0]))]
    panels = [Panel(grid, f'capsule of digit {digit.item()}', columns, xlabel='perturbation',
                    row_labels=None if index else dimensions, ylabel='' if index else 'dimension')
              for index, (grid, digit) in enumerate(zip(grids, predictions))]
    return panels_figure(panels, headline('Each dimension perturbed, decoded', title), scale,
                         left=80, right=24, between=44)


def quantise(weight: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    r"""
    ### The decoder in the page

    The decoder has $160 \cdot 512 + 512 \cdot 1024 + 1024 \cdot 784 = 1{,}409{,}024$ weights.
    In 32-bit floats they would weigh 5.6 MB; the page ships each as one byte, with one scale
    $s_i$ for each row of a layer, in 32-bit floats like the $2{,}320$ biases. The weight
    $W_{ij}$ becomes the byte

    $$q_{ij} = \text{round}\Big(\frac{W_{ij}}{s_i}\Big) \in [-127, 127], \qquad
      s_i = \frac{\max_j |W_{ij}|}{127}$$

    and the page computes with $s_i q_{ij}$, off by at most $s_i / 2$, half a step of its row.
    A scale for each row rather than one for the whole layer keeps the rows of small weights as
    precise as the others. Weights, scales and biases take $1{,}427{,}584$ bytes,
    $1{,}903{,}464$ in base64, in a script the page loads (`images/decoder.js`, about 1.9 MB
    with the capsules): a script, not a file fetched, works from `file://` too.

    The pictures hardly change. `write_decoder` measures the largest change of a pixel over
    the Figure 4 grids of its digits, and `make figures` prints it: for the run of these
    pictures, $4.2$ of the $255$ steps from black to white at the most, a change the eye does not
    see. The browser test of the page (`tests/test_perturbations_page.py`) holds the canvas to
    within $1$ step of PyTorch's decoder on the same quantised weights, and within $2$ of the
    unquantised decoder of its own small model.

    * `weight` is `[outputs, inputs]`

    Returns the bytes $q$, `[outputs, inputs]`, and the scales $s$, `[outputs]`.
    """
    scales = weight.abs().amax(dim=1) / LARGEST_BYTE
    # A row of zeros keeps the scale $1$ rather than dividing by $0$
    scales = torch.where(scales > 0, scales, torch.ones_like(scales))
    quantised = torch.round(weight / scales[:, None]).clamp(-LARGEST_BYTE, LARGEST_BYTE)
    return quantised.to(torch.int8), scales.float()


def decoder_layers(model: MNISTCapsuleNetworkModel) -> List[Tuple[nn.Linear, str]]:
    """
    The fully connected layers of the decoder, each with the name of the non-linearity after
    it, as the page's script knows them: `relu` or `sigmoid`.
    """
    names = {nn.ReLU: 'relu', nn.Sigmoid: 'sigmoid'}
    modules = list(model.decoder)
    return [(linear, names[type(activation)])
            for linear, activation in zip(modules[0::2], modules[1::2])]


@torch.no_grad()
def dequantised(model: MNISTCapsuleNetworkModel) -> MNISTCapsuleNetworkModel:
    """
    A copy of `model` whose decoder has the weights the page computes with, $s_i q_{ij}$.
    """
    copied = copy.deepcopy(model)
    for linear, _ in decoder_layers(copied):
        quantised, scales = quantise(linear.weight.float())
        linear.weight.copy_(quantised.float() * scales[:, None])
    return copied


def decoder_digits(labels: torch.Tensor, predictions: torch.Tensor) -> torch.Tensor:
    r"""
    The test digits the page offers: the first correctly classified digit of each class, as
    Figure 4 takes the first correctly classified ones, in the order of the classes; the first
    digit if none is right. Returns `[k]` indices, $k \le 10$.
    """
    right = predictions == labels
    firsts = [(right & (labels == digit)).nonzero().flatten()[:1] for digit in range(10)]
    chosen = torch.cat(firsts)
    return chosen if len(chosen) else torch.zeros(1, dtype=torch.long, device=labels.device)


def _base64(values: torch.Tensor, dtype: str) -> str:
    """
    `values` as bytes of the NumPy `dtype` (`'<f4'` for little-endian 32-bit floats), in base64.
    """
    return base64.b64encode(values.detach().cpu().numpy().astype(dtype).tobytes()).decode('ascii')


@torch.no_grad()
def write_decoder(model: MNISTCapsuleNetworkModel, images: torch.Tensor, labels: torch.Tensor,
                  predictions: torch.Tensor, title: str, path: Path) -> float:
    """
    Write `path`, the script that holds the decoder of `model`, quantised, and the capsules of
    `decoder_digits`, with their images: `window.CAPSULE_DECODER = {...}`, which
    `perturbations.js` reads.

    * `images`, `[n_test, 1, 28, 28]`, `labels` and `predictions`, `[n_test]`, are the test set
      and what the model predicts for it
    * `title` is the caption of the run

    Returns how far the page's decoder is from the model's: the largest change of a pixel, in
    $[0, 1]$, over the Figure 4 grids of the digits.
    """
    chosen = decoder_digits(labels, predictions)
    # The capsules of the chosen digits, `[k, 10, 16]`
    digit_capsules, _, _ = model(images[chosen])
    layers = []
    for linear, activation in decoder_layers(model):
        quantised, scales = quantise(linear.weight.float())
        layers.append({'inputs': linear.in_features, 'outputs': linear.out_features,
                       'activation': activation, 'weights': _base64(quantised, 'i1'),
                       'scales': _base64(scales, '<f4'), 'biases': _base64(linear.bias, '<f4')})
    digits = [{'label': predictions[index].item(), 'test_index': index.item(),
               'capsule': digit_capsules[k, predictions[index]].float().tolist(),
               'image': _base64((images[index, 0] * 255).round().flatten(), 'u1')}
              for k, index in enumerate(chosen)]
    stored = {'caption': title, 'layers': layers, 'digits': digits}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'{DECODER_HEADER}window.CAPSULE_DECODER = {json.dumps(stored, indent=1)};\n',
                    encoding='utf-8')
    # The Figure 4 grids of each digit, decoded by the model and by the page's weights
    page_model = dequantised(model)
    return max((perturbation_grid(page_model, capsules, predictions[index].item()) -
                perturbation_grid(model, capsules, predictions[index].item())).abs().max().item()
               for capsules, index in zip(digit_capsules, chosen))


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


@torch.no_grad()
def routing_figure(model: MNISTCapsuleNetworkModel, image: torch.Tensor, label: int,
                   title: str = '') -> Figure:
    r"""
    ![The coupling coefficients of the last routing iteration](images/routing.png)

    The digit, and the coupling coefficients $c_{ij^*}$ of the last iteration to the winning
    capsule $j^*$, for each of the $6 \times 6$ capsules of each of the $32$ primary capsule maps,
    one colour scale for all. The middle of the scale is $0.1$, an even split among the ten digit
    capsules, as in the first iteration: red capsules send the winning digit more than an even
    share of their output, up to the largest $c_{ij^*}$, blue ones less, down to the smallest.

    For this 7, the last iteration's coefficients to the winning capsule run from $0.067$ to
    $0.249$: routing moves most of them only a few hundredths away from the even split, and a few
    to twice it and more. The agreements $\hat{\mathbf{u}}_{j|i} \cdot \mathbf{v}_j$ that add up
    in $b_{ij}$ are products of short vectors (the median length of $\hat{\mathbf{u}}_{j|i}$ is
    $0.06$ over the first 100 test digits), and a softmax of logits that differ by so little
    stays close to even.
    """
    couplings, winner = routing(model, image)
    # The last iteration's maps, as 4 rows of 8 maps: `[4, 8, 6, 6]`
    maps = coupling_maps(couplings, winner)[-1].view(4, 8, 6, 6)
    # The middle at an even split, the ends at the smallest and the largest coefficient
    norm = TwoSlopeNorm(0.1, vmin=min(maps.min().item(), 0.099),
                        vmax=max(maps.max().item(), 0.101))
    figure = Figure(figsize=(9.2, 3.4), dpi=DPI, layout='constrained')
    digit_axes, maps_axes = figure.subplots(1, 2, width_ratios=[1, 4])
    digit_axes.imshow(image[0].cpu().numpy(), cmap='gray', vmin=0, vmax=1,
                      interpolation='nearest')
    digit_axes.set_title(f'label {label}, capsule {winner} wins')
    digit_axes.axis('off')
    shown = show_grid(maps_axes, maps, gap=1, cmap=diverging_colour_map(), norm=norm)
    maps_axes.set_title(f'$c_{{ij}}$ of iteration {len(couplings)} to capsule {winner}, '
                        'for the 6×6 capsules of each of the 32 primary capsule maps')
    # Ticks at the two ends and at the even split
    figure.colorbar(shown, ax=maps_axes, shrink=0.9, label='$c_{ij}$', format='%.3f',
                    ticks=[norm.vmin, 0.1, norm.vmax])
    figure.suptitle(headline('Routing by agreement', title))
    return figure


@torch.no_grad()
def capsule_lengths(model: MNISTCapsuleNetworkModel,
                    images: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
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
    # $\mathbf{s}_j = \sum_i c_{ij} \hat{\mathbf{u}}_{j|i}$ of each iteration,
    # `[iterations, k, 10, 16]`
    s = torch.einsum('rkij,kjid->rkjd', couplings, u_hat)
    return couplings, router.squash(s).norm(dim=-1)


def routing_iterations_figure(model: MNISTCapsuleNetworkModel, images: torch.Tensor,
                              title: str = '') -> Figure:
    r"""
    ### Routing iterations

    ![How the coupling coefficients and the capsule lengths change](images/routing_iterations.png)

    What the iterations of routing change, for `images`, `[k, 1, 28, 28]`:

    * Left: for the first digit, the distribution of $c_{ij^*}$ over the $1152$ primary capsules
      $i$, for the winning capsule $j^*$. At iteration $1$ all are $0.1$; each iteration spreads
      them further, towards the capsules whose predictions agree with $\mathbf{v}_{j^*}$.
    * Right: over all `images`, the mean length of the winning digit capsule and of the longest
      of the others, as routing would leave them after each iteration, and the number of digits
      whose winner after the first iteration, the even split, is already the final one.

    In this run, the distribution on the left widens with each iteration but stays narrow:
    after the second, 91% of the $1152$ coefficients are within $0.01$ of $0.1$, after the third
    64%. On the right, the winning capsule is the longest already after the first iteration, the
    even split, for all of the first 100 test digits; over all 10,000 (counted with
    `capsule_lengths`), routing changes 10 predictions, 4 to the right digit and 5 away from it.
    The next iterations make the winner longer, from $0.76$ to $0.89$ on average, towards the
    $m^{+} = 0.9$ the [margin loss](index.html#margin-loss) asks of it, and leave the others below
    $0.1$. So in this network, as trained here, which digit wins comes from the learned
    $\mathbf{W}_{ij}$ far more than from the routing; the routing makes the winner surer.
    """
    couplings, lengths = capsule_lengths(model, images)
    # The winner of the last iteration, `[k]`
    winners = lengths[-1].argmax(dim=-1)
    # $c_{ij^*}$ of the first digit, `[iterations, 1152]`
    to_winner = couplings[:, 0, :, winners[0]]
    # The lengths of the winners and of the longest others, `[iterations, k]` each
    index = winners[None, :, None].expand(len(lengths), -1, 1)
    winner_lengths = lengths.gather(-1, index)[..., 0]
    other_lengths = lengths.scatter(-1, index, -1).max(dim=-1).values
    iterations = list(range(1, len(couplings) + 1))

    figure = Figure(figsize=(9.2, 3.4), dpi=DPI, layout='constrained')
    histogram, means = figure.subplots(1, 2)
    # Bins spanning all iterations' values, and $0.1$
    low, high = min(to_winner.min().item(), 0.099), max(to_winner.max().item(), 0.101)
    for iteration in iterations:
        histogram.hist(to_winner[iteration - 1].cpu().numpy(), bins=np.linspace(low, high, 41),
                       histtype='step', linewidth=1.5, label=f'iteration {iteration}')
    histogram.set_yscale('log')
    histogram.xaxis.set_major_locator(MaxNLocator(5))
    histogram.set_xlabel(f'$c_{{ij^*}}$, to the winning capsule $j^* = {winners[0].item()}$')
    histogram.set_ylabel('primary capsules')
    histogram.set_title('The first test digit')
    histogram.legend()
    means.plot(iterations, winner_lengths.mean(dim=1).cpu().numpy(), 'o-', label='winning capsule')
    means.plot(iterations, other_lengths.mean(dim=1).cpu().numpy(), 's-',
               label='longest other capsule')
    means.set_xticks(iterations)
    means.set_xlabel('routing iteration')
    means.set_ylabel(r'mean $\|\mathbf{v}_j\|$')
    means.set_ylim(0, 1)
    # How often routing changes the prediction: the winner after the first iteration, against
    # the last
    same = (lengths[0].argmax(dim=-1) == winners).sum().item()
    means.text(0.03, 0.5, f'the same winner after\niterations 1 and {len(iterations)}:\n'
                          f'{same} of {len(images)} digits',
               transform=means.transAxes, ha='left', va='center', fontsize=9)
    means.set_title(f'Capsule lengths, the first {len(images)} test digits')
    means.legend(loc='center right')
    figure.suptitle(headline('What the routing iterations change', title))
    return figure


def training_curves_figure(log: Dict[str, List[Tuple[int, float]]], samples_per_epoch: int,
                           title: str = '') -> Figure:
    """
    ## Training curves

    ![Training curves](images/training_curves.png)

    The loss and the accuracy at each record of the run, on the training set (averaged over the
    training since the record before, with the random shifts, as the weights change) and on the
    test set (of the weights at the record), from [the run's log](../helpers/run_log.html),
    against the epochs of training. A run that validated within its first epoch too (its
    `curve_start`) is drawn on a logarithmic axis, so that its first steps show.

    The training set's numbers are averages over changing weights; the test set's are those of
    the weights at the end. So early on the test numbers are the better ones.

    * `samples_per_epoch` is the number of training images of an epoch
    """
    figure = Figure(figsize=(9.2, 3.4), dpi=DPI, layout='constrained')
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    epochs = [step / samples_per_epoch for step, _ in log['loss.train']]
    within_first = epochs[0] < 1
    for axes, metric, scale in ((loss_axes, 'loss', 1), (accuracy_axes, 'accuracy', 100)):
        for split, name, marker in (('train', 'training', 'o'), ('valid', 'test', 's')):
            points = log.get(f'{metric}.{split}', [])
            axes.plot([step / samples_per_epoch for step, _ in points],
                      [value * scale for _, value in points], marker=marker, markersize=4,
                      label=name)
        axes.set_xlabel('epoch')
        if within_first:
            axes.set_xscale('log')
            axes.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f'{x:g}'))
        else:
            axes.set_xlim(0.5, epochs[-1] + 0.5)
            axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.legend()
    loss_axes.set_yscale('log')
    loss_axes.set_title('Loss: margin + 0.0005 × reconstruction')
    accuracy_axes.set_title('Accuracy (%)')
    figure.suptitle(headline('Training curves', title))
    return figure


# The boxes of the architecture: the layers, what each does and the shape of its output. Shapes
# are those of the code's comments for one digit, without the batch dimension in front. Colours
# by kind: data grey, convolutions blue, capsules orange, the decoder green.
LAYERS = [
    Box(0, 0, 'C7', 'Input', 'a digit,\npixels in [0, 1]', '[1, 28, 28]'),
    Box(1, 0, 'C0', 'Conv1', '256 kernels 9×9,\nstride 1, ReLU', '[256, 20, 20]'),
    Box(2, 0, 'C0', 'PrimaryCaps', '32 · 8 kernels 9×9,\nstride 2, squash', '[1152, 8]'),
    Box(3, 0, 'C1', 'Predictions', r'$\hat{\mathbf{u}}_{j|i} = \mathbf{W}_{ij}\mathbf{u}_i$',
        '[10, 1152, 16]'),
    Box(4, 0, 'C1', 'DigitCaps', 'routing by\nagreement, 3 times', '[10, 16]'),
    Box(5, 0, 'C1', 'Lengths', r'$\|\mathbf{v}_j\|$: margin loss,' '\nthe longest wins', '[10]'),
    Box(4, 1, 'C2', 'Mask', 'one capsule kept:\nlabel or prediction', '[160]'),
    Box(3, 1, 'C2', 'Fully connected', 'ReLU', '[512]'),
    Box(2, 1, 'C2', 'Fully connected', 'ReLU', '[1024]'),
    Box(1, 1, 'C2', 'Fully connected', 'sigmoid', '[784]'),
    Box(0, 1, 'C7', 'Reconstruction', 'compared with\nthe input', '[1, 28, 28]'),
]
# The encoder left to right, then down into the decoder, which runs right to left
FLOW = ([((column, 0), (column + 1, 0)) for column in range(5)] + [((4, 0), (4, 1))] +
        [((column, 1), (column - 1, 1)) for column in range(4, 0, -1)])


def architecture_figure() -> Figure:
    """
    ## Architecture

    The CapsNet of Figure 1 of the paper, with its decoder (Figure 2), as boxes: each layer with
    what it does and the shape of its output, and the reconstruction loss between the input and
    its reconstruction. It is shown with [the CapsNet](mnist.html#the-capsnet) on the experiment
    page.
    """
    return box_diagram(LAYERS, FLOW, ((0, 1), (0, 0)),
                       r'reconstruction loss: $0.0005 \cdot \Sigma_p (\hat{x}_p - x_p)^2$')


def samples_per_epoch(run: TrainedRun) -> int:
    """
    The training images of an epoch of `run`, its whole batches, from its checkpoint: the images
    of its whole epochs over their number; of the batches of its training set, before its first
    epoch has ended.
    """
    epochs, within = run.state['epoch'], run.state.get('epoch_batches', 0)
    if epochs == 0:
        return len(run.conf.train_batches()) * run.conf.batch_size
    return (run.state['global_step'] - within * run.conf.batch_size) // epochs


def draw_all(run: TrainedRun, out: Path, test_subset: int = 0,
             device: torch.device = torch.device('cpu'), examples: int = 100) -> Dict[str, Path]:
    """
    ## All the pictures

    Test the run's model, then write every picture into `out`, light and dark, and the decoder
    of the page. `examples` is the number of test digits the routing means are taken over.
    Returns the light files, by picture, and the decoder's file under `decoder`.
    """
    images, labels = load_test_set(run.conf.data_path, test_subset, device)
    predictions = predict(run.model, images)
    accuracy = (predictions == labels).float().mean().item()
    title = caption(run, accuracy, len(labels))
    print(f'{run.checkpoint_path}: {title}')
    # The perturbations of the first three correctly classified digits (the first three digits,
    # if fewer are right)
    right = (predictions == labels).nonzero().flatten()[:3]
    right = right if len(right) == 3 else torch.arange(3, device=device)
    figures = {
        'reconstructions': lambda: reconstructions_figure(run.model, images, labels, predictions,
                                                          title),
        'perturbations': lambda: perturbations_figure(run.model, images[right], title),
        'routing': lambda: routing_figure(run.model, images[0], labels[0].item(), title),
        'routing_iterations': lambda: routing_iterations_figure(run.model, images[:examples],
                                                                title),
        'training_curves': lambda: training_curves_figure(read_log(run.folder),
                                                          samples_per_epoch(run), title),
        'architecture': architecture_figure,
    }
    written = {}
    for name, draw in figures.items():
        try:
            light, dark = save_light_and_dark(draw, out / f'{name}.png')
        except RunLogError as error:
            print(f'{name} is left out: {error}', file=sys.stderr)
            continue
        written[name] = light
        kilobytes = (light.stat().st_size + dark.stat().st_size) / 1024
        print(f'  {light}, {dark.name}  {kilobytes:.0f} KB')
    written['decoder'] = out / DECODER_FILE
    error = write_decoder(run.model, images, labels, predictions, title, written['decoder'])
    print(f'  {written["decoder"]}  {written["decoder"].stat().st_size / 1024:.0f} KB, its '
          f'pixels at most {255 * error:.2f}/255 from the unquantised decoder\'s')
    return written


def _test_subset(text: str) -> int:
    """
    `--test-subset`: a number of test digits, from $0$ (all of them) to the $10{,}000$ there are.
    """
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f'takes a number of test digits, not {text!r}')
    if int(text) > mnist_files.TEST_IMAGES:
        raise argparse.ArgumentTypeError(
            f'{text}: the MNIST test set has {mnist_files.TEST_IMAGES:,} digits; give at most '
            f'{mnist_files.TEST_IMAGES}, or leave it out to test on all')
    return int(text)


def _device(name: str) -> str:
    """
    `--device`: a device this machine has.
    """
    try:
        choose_device(name)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return name


def main(arguments: List[str]) -> Dict[str, Path]:
    """
    Draw the pictures of the run the command line names.
    """
    parser = argparse.ArgumentParser(
        prog='python -m labml_nn.capsule_networks.figures',
        description='Draws the pictures of the capsule tutorial, light and dark, from a run of '
                    'labml_nn.capsule_networks.mnist. RUN is a run UUID, a run folder or a '
                    'checkpoint file.')
    parser.add_argument('run', metavar='RUN')
    parser.add_argument('--out', type=Path, help="where the pictures go (default: RUN's "
                        "folder/figures); the site's are in labml_nn/capsule_networks/images")
    parser.add_argument('--test-subset', type=_test_subset, default=0, metavar='N',
                        help='test on the first N test digits only (default: all 10,000)')
    parser.add_argument('--device', type=_device, default='cpu',
                        help='auto, cpu or cuda (default: cpu)')
    args = parser.parse_args(arguments)
    run = load_run(args.run, args.device)
    check_run(run)
    with torch.no_grad():
        return draw_all(run, args.out or run.folder / 'figures', args.test_subset,
                        run.conf.device)


if __name__ == '__main__':
    run_command(main, sys.argv[1:])
