"""
---
title: Batches from the device
summary: A small image dataset kept whole on the device, batches cut out of it by indexing.
---

# Batches from the device

MNIST is small, $47$ MB as bytes, so the whole set lives on the device as `uint8` and a batch is
cut out of it by indexing: no data loader, no copies from the host at each step. Pixels become
floats in $[0, 1]$ batch by batch, and an experiment may pass a function that augments each batch
on the device, as [the MNIST experiment](../capsule_networks/mnist.html#data-augmentation) does
with its random shifts.

Under [torchrun](distributed.html), `batch_size` is the global batch: every process cuts out and
augments the same batch, from the same seed, and keeps its own slice of it, so that the processes
see disjoint images and the same random shifts as a single process would.
"""

from typing import Callable, Optional

import torch

from labml_nn.helpers import distributed

# An augmentation: a batch of images and the generator to draw from, to the augmented batch
Augmentation = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


class DeviceBatches:
    """
    ## DeviceBatches

    The batches of one pass over `images` and `labels`, an iterable with a length.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int, *,
                 generator: torch.Generator, shuffle: bool,
                 augment: Optional[Augmentation] = None, drop_last: bool = False):
        """
        * `images`, `[n, height, width]` of `uint8`, and `labels`, `[n]`, already on the device
        * `generator` draws the order, and is given to `augment`
        * `shuffle` draws a new order at each pass
        * `augment` changes each batch of images, `[batch, 1, height, width]` in $[0, 1]$
        * `drop_last` leaves out a last, smaller batch
        """
        self.images, self.labels, self.batch_size = images, labels, batch_size
        self.generator, self.shuffle, self.augment = generator, shuffle, augment
        self.drop_last = drop_last
        distributed.check_divides(batch_size, 0 if drop_last else len(labels) % batch_size)

    def __len__(self):
        if self.drop_last:
            return len(self.labels) // self.batch_size
        return -(-len(self.labels) // self.batch_size)

    def __iter__(self):
        n = len(self.labels)
        if self.shuffle:
            order = torch.randperm(n, device=self.images.device, generator=self.generator)
        else:
            order = torch.arange(n, device=self.images.device)
        for index in order[:len(self) * self.batch_size].split(self.batch_size):
            # `[batch, 1, height, width]` in $[0, 1]$
            images = self.images[index].unsqueeze(1).float() / 255
            if self.augment is not None:
                images = self.augment(images, self.generator)
            # This process's share, `[batch / N, 1, height, width]`; the whole batch for one
            yield distributed.share(images), distributed.share(self.labels[index])
