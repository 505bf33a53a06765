"""
---
title: Batches from the device
summary: >
  The one source of batches of every experiment - a pass over examples kept on the device, in a
  random order for training, each batch cut out or made by indexing.
---

# Batches from the device

MNIST is small, $47$ MB as bytes, so the whole set lives on the device as `uint8`, and every
batch of every experiment is made there from it by indexing: no data loader, no copies from the
host at each step. [`Batches`](#batches) is the pass over the examples, the same for all of them:
the order, the batch size, a last smaller batch, a shorter pass for quick evaluations, and each
process's share under torchrun. What an example *is* comes from a subclass:

* [`DeviceBatches`](#devicebatches): the MNIST digits themselves, pixels becoming floats in
  $[0, 1]$ batch by batch, with an augmentation on the device if the experiment gives one, as
  [the MNIST experiment](../capsule_networks/mnist.html#data-augmentation) does with its random
  shifts;
* [generated examples](../capsule_networks/canvas.html#batches-of-generated-examples): new
  images made from the digits, such as pairs of overlapping digits.

Under [torchrun](distributed.html), `batch_size` is the global batch: every process makes the same
batch, from the same seed, and keeps its own slice of it, so that the processes see disjoint
examples and the same random draws as a single process would.
"""

from typing import Any, Callable, Optional

import torch

from labml_nn.helpers import distributed
from labml_nn.helpers.configs import ConfigError

# An augmentation: a batch of images and the generator to draw from, to the augmented batch
Augmentation = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


class Batches:
    """
    ## Batches

    The batches of one pass over `n_examples` examples, an iterable with a length. Each batch is
    made by `batch` from the positions of its examples, `[batch]`.
    """

    def __init__(self, n_examples: int, batch_size: int, device: torch.device, *,
                 generator: Optional[torch.Generator] = None, shuffle: bool = False,
                 drop_last: bool = False, limit: int = 0):
        """
        * `device` is where the positions are made, the device of the data
        * `generator` draws the order when `shuffle`, and whatever `batch` draws
        * `shuffle` draws a new order at each pass; without it the examples come in order
        * `drop_last` leaves out a last, smaller batch
        * `limit`, when above $0$, makes a pass of the first `limit` examples only
        """
        self.n_examples, self.batch_size, self.device = n_examples, batch_size, device
        self.generator, self.shuffle, self.drop_last = generator, shuffle, drop_last
        # The number of examples in a pass
        self.pass_size = min(limit, n_examples) if limit > 0 else n_examples
        # Under torchrun, `batch_size` is the global batch, split evenly over the processes
        distributed.check_divides(batch_size, 0 if drop_last else self.pass_size % batch_size)
        if drop_last and self.pass_size < batch_size:
            raise ConfigError(f'a pass over {self.pass_size} examples is fewer than one batch '
                              f'(batch_size={batch_size}), and a last, smaller batch is left '
                              'out; use a smaller batch_size, or a larger train_subset')

    def __len__(self):
        if self.drop_last:
            return self.pass_size // self.batch_size
        return -(-self.pass_size // self.batch_size)

    def __iter__(self):
        if self.shuffle:
            order = torch.randperm(self.n_examples, device=self.device, generator=self.generator)
        else:
            order = torch.arange(self.n_examples, device=self.device)
        # The pass: the first `pass_size` examples of the order, in whole batches only when
        # `drop_last`
        end = len(self) * self.batch_size if self.drop_last else self.pass_size
        for index in order[:end].split(self.batch_size):
            # This process's share of every tensor of the batch; the whole batch for one process
            yield distributed.share(self.batch(index))

    def batch(self, index: torch.Tensor) -> Any:
        """
        The batch of the examples at the positions `index`, `[batch]`: a tensor or a tuple of
        tensors, each with the batch first.
        """
        raise NotImplementedError


class DeviceBatches(Batches):
    """
    ## DeviceBatches

    The batches of `(images, labels)` of one pass over a dataset on the device.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int, *,
                 generator: torch.Generator, shuffle: bool,
                 augment: Optional[Augmentation] = None, drop_last: bool = False):
        """
        * `images`, `[n, height, width]` of `uint8`, and `labels`, `[n]`, already on the device
        * `generator` draws the order, and is given to `augment`
        * `augment` changes each batch of images, `[batch, 1, height, width]` in $[0, 1]$
        """
        super().__init__(len(labels), batch_size, images.device, generator=generator,
                         shuffle=shuffle, drop_last=drop_last)
        self.images, self.labels, self.augment = images, labels, augment

    def batch(self, index: torch.Tensor):
        # `[batch, 1, height, width]` in $[0, 1]$
        images = self.images[index].unsqueeze(1).float() / 255
        if self.augment is not None:
            images = self.augment(images, self.generator)
        return images, self.labels[index]
