r"""
---
title: MultiMNIST, highly overlapping digits
summary: >
  Pairs of overlapping MNIST digits made on the device, the CapsNet that reads both digits and
  reconstructs each one from its own capsule, and the baseline CNN's two-digit counterpart.
---

# MultiMNIST: highly overlapping digits

Section 6 of [Dynamic Routing Between Capsules](https://arxiv.org/abs/1710.09829) puts two
digits on top of each other and asks for both. The CapsNet has one capsule per digit, so two
digits are two capsules: the two longest are its answer, and the decoder redraws each digit on
its own, from its own capsule, out of the mixture. The paper reports $5.0\%$ of pairs wrong for
the CapsNet, against $8.1\%$ for its [baseline CNN](baseline.html).

This module has the data, the scoring, the two models' losses, the CapsNet's way of reading two
digits, and [the experiment](#the-experiment) that trains either model; the CapsNet itself is the
[one of the MNIST experiment](mnist.html), with a larger input.

```bash
# The CapsNet, then the baseline, each for 30 passes over the training digits
python -m labml_nn.capsule_networks.multi_mnist
python -m labml_nn.capsule_networks.multi_mnist model=baseline
# The CPU run of the pictures: hours, so an hour at a time, resumed until it has finished;
# validated on the first 10,000 test pairs at 1,024, 2,048, 4,096... pairs and each epoch's end
python -m labml_nn.capsule_networks.multi_mnist --pause-after 3600 device=cpu epochs=6 \
    batch_size=128 learning_rate=1e-3 valid_subset=10000 curve_start=1024
python -m labml_nn.capsule_networks.multi_mnist --resume <run> --pause-after 3600
```

`--resume`, `--evaluate`, `--pause-after` and `--help` are
[those of every experiment](../helpers/runner.html).
[The pictures of a trained run](evidence_figures.html#overlapping-digits) redraw the paper's
Figure 5; our numbers are beside the paper's
[there](evidence_figures.html#the-runs-of-these-pictures-and-the-papers-numbers).

## The data

Section 6.1: "We generate the MultiMNIST training and test dataset by overlaying a digit on top
of another digit from the same set (training or test) but different class. Each digit is shifted
up to 4 pixels in each direction resulting in a $36 \times 36$ image."

* **The pair.** Each MNIST digit of the set starts one example; its partner is drawn from the
  other nine classes, each as likely, then uniformly among the digits of that class.
* **The shifts.** Each digit, $28 \times 28$, is centred on the $36 \times 36$ canvas and shifted
  by a whole number of pixels in $\{-4, \dots, 4\}$, on each axis, independently.
* **The overlay.** The paper says "overlaying" and no more. The authors' released generator
  (`input_data/mnist/mnist_shift.py` in
  [their code](https://github.com/Sarasra/models/tree/master/research/capsules)) adds the two
  images and clips at $255$, and so do we: a pixel of the canvas is $\min(a + b, 255) / 255$,
  where $a$ and $b$ are the two digits' bytes there. Where strokes cross, the canvas saturates; elsewhere
  each digit shows as it is.

With each example we keep each digit alone, where it sits on the canvas: the decoder is asked to
redraw it.

### How much the digits overlap

"Considering a digit in a $28 \times 28$ image is bounded in a $20 \times 20$ box, two digits
bounding boxes on average have 80% overlap." We don't get $80\%$. Boxes of $20 \times 20$, each
shifted independently by $\{-4, \dots, 4\}$ on each axis, differ by $2.96$ pixels on average on
an axis, and overlap by $(1 - 2.96 / 20)^2 = 72.6\%$ of their area on average. The $80\%$ is
what one gets if only one digit moved against the other: $(1 - 2.22/20)^2 = 79.0\%$.

Real digits are not $20 \times 20$: on average $19.8$ pixels high and $15.6$ wide. Measured on
their own boxes ([`bounding_box_overlap`](#measuring-the-overlap)) over the $100{,}000$ pairs of
our test set, the other digit's box covers $63.8\%$ of a digit's box on average, $72.6\%$ of the
smaller box of a pair, and the intersection is $46.3\%$ of the union.

### Training pairs and the test set

The paper makes "1K MultiMNIST examples" for each digit: $60$ million training pairs and $10$
million test pairs. Here the pairs are [made on the device](canvas.html) batch by batch and never
stored:

* **training**: in each pass every training digit starts one pair, with a new partner and new
  shifts; $1{,}000$ passes would see as many pairs as the paper's training set;
* **the test set**: $10$ pairs for each of the $10{,}000$ test digits, $100{,}000$ pairs drawn once
  from a fixed seed, the same for every run and both models. The first $10{,}000$ pairs start
  from each test digit once. With $100{,}000$ pairs, an error rate near $5\%$ is measured to
  $\pm 0.14$ points ($95\%$, two standard errors of a binomial, a little more since the pairs
  share digits); the gap between the paper's $5.0\%$ and $8.1\%$ is over $40$ standard errors.
  The paper's $10$ million pairs would make that $\pm 0.014$ points, at $100$ times the cost of
  every evaluation.
"""

import sys
from pathlib import Path
from typing import Callable, Dict, NamedTuple

import torch
import torch.nn.functional as F

from labml_nn.capsule_networks.canvas import DIGIT_SIZE, GeneratedBatches, ink_boxes, place
from labml_nn.capsule_networks import mnist
from labml_nn.capsule_networks.baseline import BaselineCNN
from labml_nn.capsule_networks.mnist import MNISTCapsuleNetworkModel
from labml_nn.helpers.configs import Range
from labml_nn.helpers.mnist import TEST_IMAGES
from labml_nn.helpers.runner import Experiment

# The side of the canvas, and the largest shift of a digit on it, in pixels
CANVAS_SIZE = 36
MAX_SHIFT = 4
# The number of test pairs per test digit, and the seed that fixes them
TEST_PAIRS_PER_DIGIT = 10
TEST_SEED = 36


class MultiMNISTBatch(NamedTuple):
    """
    A batch of MultiMNIST examples.
    """
    # The canvases, `[batch, 1, 36, 36]`, in $[0, 1]$
    images: torch.Tensor
    # The classes of the two digits, `[batch, 2]`; they differ
    labels: torch.Tensor
    # Each digit alone where it is on the canvas, `[batch, 2, 36, 36]`, in $[0, 1]$
    digits: torch.Tensor


def overlay(images: torch.Tensor, labels: torch.Tensor, pairs: torch.Tensor,
            shifts: torch.Tensor) -> MultiMNISTBatch:
    """
    ## Overlaying two digits

    * `images`, `[n, 28, 28]` of `uint8`, and `labels`, `[n]`: MNIST on the device
    * `pairs`, `[batch, 2]`: the indexes of the two digits of each example
    * `shifts`, `[batch, 2, 2]`: the shift of each digit, rows then columns, in
      $\\{-4, \\dots, 4\\}$; positive moves down and right
    """
    batch_size = pairs.shape[0]
    # A centred digit has its top-left corner at $(36 - 28) / 2 = 4$: `[batch * 2, 2]`
    corners = (shifts + (CANVAS_SIZE - DIGIT_SIZE) // 2).view(-1, 2)
    # Each digit on its own canvas, `[batch, 2, 36, 36]` of `uint8`
    digits = place(images[pairs.flatten()], corners[:, 0], corners[:, 1], CANVAS_SIZE)
    digits = digits.view(batch_size, 2, CANVAS_SIZE, CANVAS_SIZE)
    # $\min(a + b, 255)$, added in 16-bit integers so that nothing wraps around, `[batch, 36, 36]`
    canvases = digits.sum(dim=1, dtype=torch.int16).clamp(max=255)
    return MultiMNISTBatch(images=canvases.unsqueeze(1).float() / 255, labels=labels[pairs],
                           digits=digits.float() / 255)


class MultiMNIST(GeneratedBatches):
    """
    ## MultiMNIST batches

    Training pairs (with a `generator`) or the test set (with `seed=TEST_SEED` and
    `examples_per_digit=TEST_PAIRS_PER_DIGIT`), made from the MNIST training or test digits;
    see [generated batches](canvas.html#batches-of-generated-examples) for the arguments.

    Six numbers make a pair: the partner's class, the partner within its class, and the two
    shifts of each digit.
    """
    n_uniforms = 6

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int, **kwargs):
        super().__init__(images, labels, batch_size, **kwargs)
        # The digits in the order of their classes, and where each class starts in that order
        self.by_class = labels.argsort(stable=True)
        self.class_sizes = torch.bincount(labels, minlength=10)
        self.class_starts = self.class_sizes.cumsum(0) - self.class_sizes

    def pairs_and_shifts(self, digits: torch.Tensor, uniforms: torch.Tensor):
        """
        The pairs, `[batch, 2]`, starting from `digits`, `[batch]`, and their shifts,
        `[batch, 2, 2]`, from the numbers `uniforms`, `[batch, 6]`.
        """
        # The partner's class: the digit's own plus $1$ to $9$, modulo $10$, so never its own
        partner_classes = (self.labels[digits] + 1 + (uniforms[:, 0] * 9).long()) % 10
        # A digit of that class, each as likely
        within_class = (uniforms[:, 1] * self.class_sizes[partner_classes]).long()
        partners = self.by_class[self.class_starts[partner_classes] + within_class]
        # Shifts in $\{-4, \dots, 4\}$, `[batch, 2, 2]`
        shifts = (uniforms[:, 2:] * (2 * MAX_SHIFT + 1)).long().view(-1, 2, 2) - MAX_SHIFT
        return torch.stack([digits, partners], dim=1), shifts

    def make(self, digits: torch.Tensor, uniforms: torch.Tensor) -> MultiMNISTBatch:
        return overlay(self.images, self.labels, *self.pairs_and_shifts(digits, uniforms))


def bounding_box_overlap(digits: torch.Tensor) -> torch.Tensor:
    """
    ### Measuring the overlap

    The fraction of each digit's bounding box that the other digit's box covers.

    * `digits` are the two digits of each example, alone, `[batch, 2, height, width]`

    Returns `[batch, 2]`. The larger of the two fractions is the smaller box's.
    """
    batch_size = digits.shape[0]
    # `[batch, 2, 4]`: top, left, bottom, right
    boxes = ink_boxes(digits.flatten(0, 1)).view(batch_size, 2, 4)
    # The heights and widths of the two boxes, `[batch, 2, 2]`
    sizes = boxes[:, :, 2:] - boxes[:, :, :2] + 1
    # The height and width of their intersection, `[batch, 2]`
    intersection = (torch.minimum(boxes[:, 0, 2:], boxes[:, 1, 2:]) -
                    torch.maximum(boxes[:, 0, :2], boxes[:, 1, :2]) + 1).clamp(min=0)
    # The intersection's area over each box's area, `[batch, 2]`
    return intersection.prod(dim=-1, keepdim=True).float() / sizes.prod(dim=-1).float()


def top_two(scores: torch.Tensor) -> torch.Tensor:
    """
    ## Scoring two digits

    The prediction is the two classes with the highest scores, `[batch, 2]`, from `scores`,
    `[batch, 10]`: the lengths of the digit capsules, or the baseline's logits.
    """
    return scores.topk(2, dim=-1).indices


def both_correct(predictions: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """
    Whether both digits are right, `[batch]`, in any order: the paper counts an example as
    correct only when both are. `predictions` and `labels` are `[batch, 2]`.
    """
    return (predictions.sort(dim=-1).values == labels.sort(dim=-1).values).all(dim=-1)


def reversed_to_labels(predictions: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """
    Whether the predicted digits come in the other order than the labels, `[batch]`: when the
    first prediction is the second label, or the second prediction the first label.
    """
    return (predictions[:, 0] == labels[:, 1]) | (predictions[:, 1] == labels[:, 0])


class MultiMNISTCapsuleNetworkModel(MNISTCapsuleNetworkModel):
    """
    ## The CapsNet for two digits

    The [MNIST CapsNet](mnist.html#the-capsnet) on $36 \\times 36$ canvases: the same layers, a
    $10 \\times 10$ grid of primary capsules, $32 \\cdot 10 \\cdot 10 = 3200$ of them instead of
    $1152$, and a decoder that draws $36 \\times 36$ pixels. That makes $11{,}361{,}808$ parameters
    ($8{,}215{,}568$ on MNIST): the routing's matrices $\\mathbf{W}_{ij}$ grow with the number of
    primary capsules, the decoder's last layer with the pixels.

    What changes is how it reads its digit capsules: two digits are present, so the prediction
    is the two longest capsules, and the decoder runs twice, once for each digit, each time from
    that digit's capsule alone, the nine others masked to zero.
    """

    def __init__(self, routing_iterations: int = 3, gradient_through_routing: bool = True):
        super().__init__(routing_iterations, gradient_through_routing, image_size=CANVAS_SIZE)

    def forward(self, images: torch.Tensor, labels: torch.Tensor = None):
        """
        * `images` are `[batch, 1, 36, 36]`, pixels in $[0, 1]$
        * `labels`, `[batch, 2]`, are given during training only

        Returns the digit capsules `[batch, 10, 16]`, the two reconstructions
        `[batch, 2, 1296]` and the predictions `[batch, 2]`.

        During training each digit is reconstructed from the capsule of its *label*, in the order
        of the labels; at evaluation, from the capsules of the two *predictions*, longest first.
        As on MNIST, masking by the predictions during training would teach the decoder to draw
        a digit from the capsule of another.
        """
        batch_size = images.shape[0]
        # `[batch, 10, 16]`
        digit_capsules = self.digit_capsules(self.primary_capsules(images))
        # The two longest capsules, `[batch, 2]`
        predictions = top_two(digit_capsules.norm(dim=-1))
        masks = labels if labels is not None else predictions
        # Both reconstructions in one pass of the decoder: each example's capsules twice, one
        # mask each, `[batch * 2, 10, 16]`, then `[batch, 2, 1296]`
        repeated = digit_capsules.repeat_interleave(2, dim=0)
        reconstructions = self.decode(repeated, masks.flatten()).view(batch_size, 2, -1)
        return digit_capsules, reconstructions, predictions


def capsule_network_losses(model: Callable, batch: MultiMNISTBatch, is_train: bool,
                           reconstruction_weight: float = 0.0005) -> Dict[str, torch.Tensor]:
    r"""
    ## The CapsNet's losses

    The [margin loss](index.html#margin-loss) with $T_k = 1$ for both digits, as on MNIST, plus
    the reconstruction loss of each digit against its own shifted image on the canvas: the sum of
    squared errors over the $36 \times 36$ pixels and the two digits, weighted by $0.0005$ as on
    MNIST. Each loss is averaged over the batch; the predictions come along.

    At evaluation the reconstructions come in the order of the predictions; where that is the
    reverse of the labels' order, they are swapped back before the comparison, so that a
    digit's reconstruction is scored against that digit's image.

    * `model` is the CapsNet, or its compiled version
    """
    digit_capsules, reconstructions, predictions = model(batch.images,
                                                         batch.labels if is_train else None)
    margin = mnist.MARGIN_LOSS(digit_capsules, batch.labels)
    if not is_train:
        swap = reversed_to_labels(predictions, batch.labels)
        reconstructions = torch.where(swap[:, None, None], reconstructions.flip(1), reconstructions)
    # $\sum_{d=1}^{2} \sum_{p=1}^{1296} (\hat{x}_{dp} - x_{dp})^2$ for each example, averaged
    reconstruction = ((reconstructions.float() - batch.digits.flatten(2)) ** 2).sum(dim=(1, 2))
    reconstruction = reconstruction.mean()
    return {'loss': margin + reconstruction_weight * reconstruction, 'margin_loss': margin,
            'reconstruction_loss': reconstruction, 'predictions': predictions}


def baseline_losses(model: Callable, batch: MultiMNISTBatch,
                    is_train: bool) -> Dict[str, torch.Tensor]:
    r"""
    ## The baseline's loss

    On MNIST the baseline ends in a softmax over the ten classes, which can say only one digit.
    For two digits it gets, like the CapsNet, one independent yes-or-no per class: a sigmoid on
    each of its ten outputs, trained with binary cross-entropy against $T_k = 1$ for the two
    present digits and $0$ for the eight others, summed over the classes:

    $$\mathcal{L} = -\sum_{k} T_k \log \sigma(z_k) + (1 - T_k) \log (1 - \sigma(z_k))$$

    It is scored like the CapsNet: its two highest outputs are its answer. The paper does not
    spell out its baseline's MultiMNIST output layer; this is the counterpart of the margin
    loss, which also scores each class on its own.

    * `model` is the [baseline](baseline.html), or its compiled version; `is_train` is there for
      the same call as the CapsNet's: the baseline's dropout follows `model.train()`
    """
    # $z_k$, `[batch, 10]`
    logits = model(batch.images).float()
    # $T_k$, `[batch, 10]`
    present = F.one_hot(batch.labels, 10).amax(dim=1).float()
    loss = F.binary_cross_entropy_with_logits(logits, present, reduction='none').sum(dim=-1).mean()
    return {'loss': loss, 'predictions': top_two(logits)}


class Configs(mnist.Configs):
    """
    ## The experiment

    [The MNIST experiment's configs](mnist.html#configurations) and training, on MultiMNIST
    pairs, with either model (`model=capsnet` or `model=baseline`). Three configs read
    differently:

    * `train_subset` keeps the first training digits only, partners included;
    * `valid_subset` keeps the first pairs of the test set only (`0` for all $100{,}000$): the
      same pairs for every run, made from all $10{,}000$ test digits;
    * `max_shift` is not used: the pairs have their own shifts, up to $4$ pixels.

    The accuracy it tracks is the fraction of pairs with both digits right.
    """

    # `valid_subset` counts pairs of the test set; checked
    # [before any work](../helpers/configs.html)
    _valid = {'valid_subset': Range(0, TEST_IMAGES * TEST_PAIRS_PER_DIGIT)}

    def capsule_network(self) -> MultiMNISTCapsuleNetworkModel:
        return MultiMNISTCapsuleNetworkModel(self.routing_iterations,
                                             self.gradient_through_routing)

    def baseline(self) -> BaselineCNN:
        return BaselineCNN(image_size=CANVAS_SIZE)

    def train_batches(self):
        images, labels = self.train_data
        return MultiMNIST(images, labels, self.batch_size, generator=self.generator,
                          drop_last=True)

    def valid_batches(self):
        images, labels = self.test_digits
        return MultiMNIST(images, labels, self.batch_size, seed=TEST_SEED,
                          examples_per_digit=TEST_PAIRS_PER_DIGIT, limit=self.valid_subset)

    def losses(self, batch: MultiMNISTBatch, is_train: bool) -> Dict[str, torch.Tensor]:
        if isinstance(self.model, BaselineCNN):
            return baseline_losses(self.forward, batch, is_train)
        return capsule_network_losses(self.forward, batch, is_train, self.reconstruction_weight)

    def correct(self, predictions: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return both_correct(predictions, labels)

    def save_results(self, run_path: Path):
        """
        Nothing beyond the checkpoint and the log: [the pictures](evidence_figures.html) of a run
        are drawn from them.
        """


# The command line, as for every experiment
EXPERIMENT = Experiment(Configs, name='capsule_network_multi_mnist',
                        command='python -m labml_nn.capsule_networks.multi_mnist',
                        about='Trains the CapsNet (or model=baseline) on MultiMNIST pairs of '
                              'overlapping digits.')
main = EXPERIMENT.main

if __name__ == '__main__':
    EXPERIMENT.run(sys.argv[1:])
