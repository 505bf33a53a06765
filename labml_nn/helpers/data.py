"""
---
title: MNIST on the device
summary: >
  The configs every experiment reads its digits with - the data folder, the subsets for short
  runs - and the digits themselves, loaded once onto the device.
---

# MNIST on the device

Every experiment here is made of MNIST digits: MNIST itself, pairs of them, digits moved about a
larger canvas. [`MNISTConfigs`](#mnistconfigs) holds what they share: where the files are, the
subsets that make a run short, and the training and test digits on the experiment's device,
loaded once ([checked against their MD5 first](mnist.html)) and kept there as `uint8`, for
[the batches](batches.html) to be cut out of.
"""

from pathlib import Path
from typing import Tuple

import torch
from labml.configs import option

from labml_nn.helpers import mnist
from labml_nn.helpers.configs import Check, Range
from labml_nn.helpers.trainer import TrainValidConfigs


class MNISTConfigs(TrainValidConfigs):
    """
    ## MNISTConfigs
    """
    # The MNIST folder: the four original files go in `data_path/MNIST/raw/`
    data_path: str = str(mnist.DEFAULT_ROOT)
    # Train on the first `train_subset` training images only (`0` for all 60,000), for short runs
    train_subset: int = 0
    # Validate on the first `valid_subset` test images only (`0` for all 10,000)
    valid_subset: int = 0
    # The valid values of the configs above, checked [before any work](configs.html)
    _valid = {'data_path': Check(mnist.data_path_problem, 'an existing folder'),
              'train_subset': Range(0, mnist.TRAIN_IMAGES),
              'valid_subset': Range(0, mnist.TEST_IMAGES)}

    # The experiment's own: the images `[n, 28, 28]` of `uint8` and labels `[n]` on the device, of
    # the first `train_subset` training digits, of all the test digits, and of the first
    # `valid_subset` of them
    train_data: Tuple[torch.Tensor, torch.Tensor]
    test_digits: Tuple[torch.Tensor, torch.Tensor]
    valid_data: Tuple[torch.Tensor, torch.Tensor]


def _on_device(c: MNISTConfigs, train: bool, subset: int):
    """
    The training or test set on the device, the first `subset` images only when `subset > 0`.
    """
    images, labels = mnist.load(Path(c.data_path), train=train, subset=subset)
    return images.to(c.device), labels.to(c.device)


@option(MNISTConfigs.train_data)
def _train_data(c: MNISTConfigs):
    return _on_device(c, True, c.train_subset)


@option(MNISTConfigs.test_digits)
def _test_digits(c: MNISTConfigs):
    return _on_device(c, False, 0)


@option(MNISTConfigs.valid_data)
def _valid_data(c: MNISTConfigs):
    images, labels = c.test_digits
    if c.valid_subset > 0:
        return images[:c.valid_subset], labels[:c.valid_subset]
    return images, labels
