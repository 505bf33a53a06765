"""
The paper's augmentation reaches training: the batches the experiment trains on are its MNIST
digits shifted by up to `max_shift` pixels (2 unless configured otherwise), each its own way, and
the batches it validates on are the test digits as they are.

Each digit of a batch is traced back to the digit of the data set it came from, and its shift is
measured by comparing the two.
"""

from typing import List, Tuple

import pytest
import torch
import torch.nn.functional as F
from labml import experiment

from labml_nn.capsule_networks.mnist import Configs
from labml_nn.helpers import mnist

# Enough digits that every shift of up to 2 pixels on each axis turns up, with a chance of
# missing one below 1e-100
DIGITS = 512


def experiment_configs(**overrides) -> Configs:
    """
    The experiment's configs as a run computes them, on the first `DIGITS` digits of each set.
    """
    conf = Configs()
    experiment.evaluate()
    experiment.configs(conf, {'device': 'cpu', 'compile': 'off', 'train_subset': DIGITS,
                              'valid_subset': DIGITS, 'batch_size': 128, **overrides})
    return conf


def shift_of(image: torch.Tensor, original: torch.Tensor, largest: int = 4) -> Tuple[int, int]:
    """
    `(rows, columns)` such that `original` moved down by `rows` and right by `columns`, zeros
    coming in and pixels going out, is `image`; both `[28, 28]`. Raises `ValueError` for an image
    that is no shift of `original` by up to `largest` pixels.
    """
    padded = F.pad(original, (largest,) * 4)
    for rows in range(-largest, largest + 1):
        for columns in range(-largest, largest + 1):
            top, left = largest - rows, largest - columns
            window = padded[top:top + 28, left:left + 28]
            if torch.equal(window, image):
                return rows, columns
    raise ValueError('not a shifted original')


def shifts_in(batches, images: torch.Tensor, labels: torch.Tensor) -> List[Tuple[int, int]]:
    """
    The shift of each digit of `batches`, each traced to its digit among `images` `[n, 28, 28]`
    (`uint8`) with the same label: first among those with the same sum of pixels, which a shift
    keeps unless it pushes some out of the frame, then among all.
    """
    sums = images.flatten(1).long().sum(dim=1)
    shifts = []
    for batch_images, batch_labels in batches:
        # Back to the bytes of the files: the batches hold them divided by 255
        batch = (batch_images[:, 0] * 255).round().to(torch.uint8)
        for image, label in zip(batch, batch_labels):
            same_label = labels == label
            same_sum = same_label & (sums == image.long().sum())
            others = same_label & ~same_sum
            candidates = torch.cat([same_sum.nonzero(), others.nonzero()]).flatten()
            for candidate in candidates:
                try:
                    shifts.append(shift_of(image, images[candidate]))
                    break
                except ValueError:
                    continue
            else:
                pytest.fail(f'a training digit (label {label}) is no shifted digit of the data set')
    return shifts


@pytest.fixture(scope='module')
def training_set():
    images, labels = mnist.load(mnist.DEFAULT_ROOT, train=True)
    return images[:DIGITS], labels[:DIGITS]


@pytest.mark.parametrize('overrides, largest', [({}, 2), ({'max_shift': 1}, 1)])
def test_training_batches_are_shifted_by_up_to_max_shift_pixels_each_digit_its_own_way(
        training_set, overrides, largest):
    conf = experiment_configs(**overrides)
    shifts = shifts_in(conf.train_batches(), *training_set)
    assert len(shifts) == DIGITS
    rows = {r for r, _ in shifts}
    columns = {c for _, c in shifts}
    # Every shift from -max_shift to max_shift, on each axis, and none larger
    assert rows == columns == set(range(-largest, largest + 1))
    # Drawn for each digit and each axis apart: all (2 max_shift + 1)^2 pairs turn up
    assert len(set(shifts)) == (2 * largest + 1) ** 2


def test_validation_batches_are_the_test_digits_in_order_unshifted():
    conf = experiment_configs()
    images, labels = mnist.load(mnist.DEFAULT_ROOT, train=False)
    batches = list(conf.valid_batches())
    assert torch.equal(torch.cat([batch_images for batch_images, _ in batches]),
                       images[:DIGITS].unsqueeze(1).float() / 255)
    assert torch.equal(torch.cat([batch_labels for _, batch_labels in batches]), labels[:DIGITS])
