r"""
---
title: Digits on a canvas
summary: >
  New images made from MNIST digits on the device, batch by batch: digits placed on a larger
  canvas, training examples drawn afresh at every pass, test sets fixed by a seed.
---

# Digits on a canvas

The paper's evidence for capsules is measured on images made from MNIST digits: pairs of
overlapping digits on a $36 \times 36$ canvas ([MultiMNIST](multi_mnist.html), section 6 of
[the paper](https://arxiv.org/abs/1710.09829)), and single digits moved about a $40 \times 40$
canvas, then transformed ([affine transformations](affine.html), section 5.2).

These images are never stored. The paper's MultiMNIST training set, $60$ million images of
$36 \times 36$ bytes, would take $78$ GB; MNIST itself takes $47$ MB and already lives on the
device for the MNIST experiment. So every batch is made where it is used, from the MNIST tensors
on the device, by indexing: no data loader, no copy from the host.

### An example is its digit and a few random numbers

Each kind of example says how many numbers, drawn uniformly from $[0, 1)$, make one example
(which partner digit, which shifts, which rotation...) and how to draw it from its digit and
those numbers ([`make`](#batches-of-generated-examples)). Everything else is common to all of them:

* **training** draws new numbers for every batch, from the experiment's generator on the device,
  and visits every digit once per pass in a new order: each pass is new data;
* a **test set** draws its numbers once, from a generator on the CPU seeded with a fixed seed. It
  keeps only those numbers, $8$ bytes each, and makes its images again at every pass. The CPU's
  generator gives the same numbers on every machine, so a test set is the same for every run,
  for every model, on a GPU or on a CPU.
"""

from typing import Optional

import torch
import torch.nn.functional as F

from labml_nn.helpers.batches import Batches

# The side of an MNIST image
DIGIT_SIZE = 28


def place(digits: torch.Tensor, top: torch.Tensor, left: torch.Tensor, size: int,
          margin: Optional[int] = None) -> torch.Tensor:
    """
    ## Placing digits on a canvas

    Each digit on a blank `size` $\\times$ `size` canvas, its top-left corner at row `top` and
    column `left`.

    * `digits` are `[batch, 28, 28]`, of any type (`uint8` for MNIST)
    * `top` and `left` are `[batch]`, each from $\\text{size} - 28 - \\text{margin}$ to
      $\\text{margin}$
    * `margin` is the blank border added around each digit before it is cut out: by default
      $\\text{size} - 28$, and a corner from $0$ to it keeps the whole digit on the canvas.
      [MNIST's random shifts](mnist.html#data-augmentation) place digits on a $28 \\times 28$
      canvas with a margin of $2$: a corner at $-2$ cuts the two top rows off.

    Returns `[batch, size, size]`, of the type of `digits`.
    """
    batch_size = digits.shape[0]
    device = digits.device
    if margin is None:
        margin = size - DIGIT_SIZE
    # Each digit with `margin` blank pixels on each side, `[batch, 28 + 2 margin, 28 + 2 margin]`
    padded = F.pad(digits, (margin,) * 4)
    # Canvas pixel $(r, c)$ shows pixel $(r - \text{top}, c - \text{left})$ of the digit, which is
    # pixel $(r - \text{top} + \text{margin}, c - \text{left} + \text{margin})$ of the padded one:
    # the rows and columns to read, `[batch, size]` each
    rows = torch.arange(size, device=device) + (margin - top)[:, None]
    columns = torch.arange(size, device=device) + (margin - left)[:, None]
    # All the canvases in one gather, `[batch, size, size]`
    batch_index = torch.arange(batch_size, device=device)[:, None, None]
    return padded[batch_index, rows[:, :, None], columns[:, None, :]]


def ink_boxes(images: torch.Tensor) -> torch.Tensor:
    """
    ## Bounding boxes

    The smallest box around the non-zero pixels of each image.

    * `images` are `[batch, height, width]`, each with at least one non-zero pixel

    Returns `[batch, 4]`: the top row, the left column, the bottom row and the right column of each
    box, the last two inclusive.
    """
    height, width = images.shape[1:]
    ink = images > 0
    # Whether each row and each column holds ink, `[batch, height]` and `[batch, width]`
    rows, columns = ink.any(dim=2).int(), ink.any(dim=1).int()
    # The first row with ink, and the last one (the first one from the bottom)
    top = rows.argmax(dim=1)
    bottom = height - 1 - rows.flip(1).argmax(dim=1)
    left = columns.argmax(dim=1)
    right = width - 1 - columns.flip(1).argmax(dim=1)
    return torch.stack([top, left, bottom, right], dim=1)


class GeneratedBatches(Batches):
    """
    ## Batches of generated examples

    The [batches](../helpers/batches.html) of one pass: over every digit of `images`
    `examples_per_digit` times, in a new order at each pass for training, in order for a test
    set. A kind of example sets `n_uniforms`, the number of random numbers that make one example,
    and `make`, which makes a batch of examples from their digits and their numbers.

    Give a `generator` for training (new numbers at every batch) or a `seed` for a test set
    (numbers drawn once).
    """
    # How many numbers from $[0, 1)$ make one example; each kind of example sets it
    n_uniforms: int

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int, *,
                 generator: Optional[torch.Generator] = None, seed: Optional[int] = None,
                 examples_per_digit: int = 1, limit: int = 0, drop_last: bool = False):
        """
        * `images`, `[n, 28, 28]` of `uint8`, and `labels`, `[n]`, already on the device
        * `generator`, on the device, draws the order and the numbers of training examples
        * `seed` fixes the numbers of a test set, drawn once on the CPU
        * `examples_per_digit` is how many examples each digit of `images` starts
        * `limit`, when above $0$, makes a pass of that many examples only: for a test set, its
          first `limit` examples, the same ones for every run, for short evaluations
        * `drop_last` leaves out a last, smaller batch
        """
        if (generator is None) == (seed is None):
            raise ValueError('give a generator (for training: new examples at every pass) or a '
                             'seed (for a test set: the same examples at every pass), not both')
        super().__init__(len(labels) * examples_per_digit, batch_size, images.device,
                         generator=generator, shuffle=seed is None, drop_last=drop_last,
                         limit=limit)
        self.images, self.labels = images, labels
        # A test set's numbers, `[n_examples, n_uniforms]`, in 64-bit floats so that
        # $\lfloor u \cdot n \rfloor < n$ for every count $n$ they pick from
        self.uniforms: Optional[torch.Tensor] = None
        if seed is not None:
            cpu_generator = torch.Generator().manual_seed(seed)
            self.uniforms = torch.rand(self.n_examples, self.n_uniforms, dtype=torch.float64,
                                       generator=cpu_generator).to(images.device)

    def batch(self, index: torch.Tensor):
        """
        The examples at the positions `index`, `[batch]`, of a pass: example $k$ starts from digit
        $k \\bmod n$, so the first $n$ examples of a test set start from each digit once. A test
        set gives the same examples at every call; training draws new ones.
        """
        if self.uniforms is None:
            uniforms = torch.rand(len(index), self.n_uniforms, dtype=torch.float64,
                                  device=index.device, generator=self.generator)
        else:
            uniforms = self.uniforms[index]
        return self.make(index % len(self.labels), uniforms)

    def make(self, digits: torch.Tensor, uniforms: torch.Tensor):
        """
        A batch of examples from the MNIST digits at `digits`, `[batch]`, and their random
        numbers `uniforms`, `[batch, n_uniforms]`.
        """
        raise NotImplementedError
