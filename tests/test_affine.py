"""
The data of the affine experiment (section 5.2): MNIST digits placed at random on a 40x40
canvas, and the regeneration of affNIST's test set, with affNIST's ranges of rotation, shear and
scale, every digit whole on the canvas, the same set at every construction.
"""

import math

import numpy as np
import pytest
import torch

from labml_nn.capsule_networks.affine import (AFFINE_TEST_SEED, AffineMNIST, TRANSLATED_TEST_SEED,
                                              TranslatedMNIST, linear_parts, warp)
from labml_nn.capsule_networks.canvas import place
from labml_nn.helpers import mnist


def fake_mnist(n=100):
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(1, 256, (n, 28, 28), dtype=torch.uint8, generator=generator)
    return images, torch.arange(n) % 10


def whole(data):
    images, labels = zip(*data)
    return torch.cat(images), torch.cat(labels)


@pytest.fixture(scope='module')
def test_digits():
    return mnist.load(train=False)


def test_translated_digits_are_whole_on_the_40x40_canvas_at_any_of_13x13_places():
    images, labels = fake_mnist()
    canvases, canvas_labels = whole(TranslatedMNIST(images, labels, 32, seed=1,
                                                    examples_per_digit=20))
    assert canvases.shape == (2000, 1, 40, 40)
    assert torch.equal(canvas_labels, labels.repeat(20))
    corners = set()
    for k in range(2000):
        canvas = np.rint(canvases[k, 0].numpy() * 255)
        # The fake digits have ink in every pixel: the ink is the 28x28 image, in one piece
        rows, columns = np.nonzero(canvas)
        top, left = rows.min(), columns.min()
        assert len(rows) == 28 * 28
        assert np.array_equal(canvas[top:top + 28, left:left + 28], images[k % 100].numpy())
        corners.add((top, left))
    assert {r for r, _ in corners} == {c for _, c in corners} == set(range(13))


def test_the_translated_test_set_is_fixed_by_its_seed():
    images, labels = fake_mnist()
    first = whole(TranslatedMNIST(images, labels, 100, seed=TRANSLATED_TEST_SEED))
    second = whole(TranslatedMNIST(images, labels, 7, seed=TRANSLATED_TEST_SEED))
    assert torch.equal(first[0], second[0])
    training = TranslatedMNIST(images, labels, 100, generator=torch.Generator().manual_seed(0))
    assert not torch.equal(whole(training)[0], whole(training)[0])


def test_the_linear_part_scales_then_shears_then_rotates():
    # Scale the width by 2, no shear, a quarter turn: (1, 0) -> (2, 0) -> (0, 2)
    a = linear_parts(torch.tensor([math.pi / 2]), torch.tensor([0.0]), torch.tensor([[2.0, 1.0]]))
    assert torch.allclose(a[0] @ torch.tensor([1.0, 0.0]), torch.tensor([0.0, 2.0]), atol=1e-6)
    # A shear of 0.5 moves a point right by half its height: (0, 1) -> (0.5, 1)
    a = linear_parts(torch.tensor([0.0]), torch.tensor([0.5]), torch.tensor([[1.0, 1.0]]))
    assert torch.allclose(a[0] @ torch.tensor([0.0, 1.0]), torch.tensor([0.5, 1.0]))


def test_warping_with_no_transformation_is_placing():
    images, _ = fake_mnist(3)
    corners = torch.tensor([[0, 12], [5, 7], [12, 0]])
    # The centre 13.5 goes to 13.5 + corner, (x, y) = (column, row)
    centres = corners.flip(1).double() + 13.5
    warped = warp(images.float(), torch.eye(2, dtype=torch.float64).expand(3, 2, 2), centres, 40)
    placed = place(images, corners[:, 0], corners[:, 1], 40).float()
    assert torch.allclose(warped, placed, atol=1e-3)


def test_warping_sends_each_point_q_to_a_times_q_minus_the_centre_plus_c():
    image = torch.zeros(1, 28, 28)
    # One bright pixel at (x, y) = (15, 10), that is 1.5 right of and 3.5 above the centre
    image[0, 10, 15] = 1
    quarter_turn = torch.tensor([[[0.0, -1.0], [1.0, 0.0]]], dtype=torch.float64)
    warped = warp(image, quarter_turn, torch.tensor([[20.5, 20.5]], dtype=torch.float64), 40)
    # A (1.5, -3.5) = (3.5, 1.5), plus c: (24, 22), row 22, column 24
    assert warped[0, 22, 24].item() == pytest.approx(1, abs=1e-5)
    assert warped.sum().item() == pytest.approx(1, abs=1e-5)


def test_affine_transformations_stay_within_affnists_ranges_and_cover_them(test_digits):
    images, labels = test_digits
    data = AffineMNIST(images, labels, 1000, seed=AFFINE_TEST_SEED)
    index = torch.arange(data.n_examples)
    transformations = data.transformations(index, data.uniforms)
    degrees = torch.rad2deg(transformations.rotation)
    ranges = [(degrees, -20, 20), (transformations.shear, -0.2, 0.2),
              (transformations.scale, 0.8, 1.2)]
    for values, low, high in ranges:
        assert low <= values.min() and values.max() <= high
        # 10,000 uniform draws come within 0.2% of each end of their range
        margin = 0.002 * (high - low)
        assert values.min() < low + margin and values.max() > high - margin
    assert torch.allclose(transformations.matrices, linear_parts(
        transformations.rotation, transformations.shear, transformations.scale))


@pytest.mark.slow
def test_every_transformed_test_digit_is_whole_on_the_canvas_and_fills_the_places_it_can(
        test_digits):
    images, labels = test_digits
    data = AffineMNIST(images, labels, 1000, seed=AFFINE_TEST_SEED)
    centres = []
    for start in range(0, 10_000, 1000):
        index = torch.arange(start, start + 1000)
        transformations = data.transformations(index, data.uniforms[index])
        digits = images[index].float() / 255
        on_canvas = warp(digits, transformations.matrices, transformations.centres, 40)
        # The same digits on a canvas twice as large, 20 pixels further from its corner: if
        # nothing was cut off, there is no ink outside the 40x40 part, and that part is the same
        larger = warp(digits, transformations.matrices, transformations.centres + 20, 80)
        assert torch.allclose(larger[:, 20:60, 20:60], on_canvas, atol=1e-5)
        assert torch.allclose(larger.sum(dim=(1, 2)), on_canvas.sum(dim=(1, 2)), rtol=1e-5)
        centres.append(transformations.centres)
    centres = torch.cat(centres)
    # The digits go all over the canvas, to within a few pixels of its edges
    assert centres.min() < 5 and centres.max() > 34


def test_the_affine_test_set_is_the_same_at_every_construction_and_batch_size(test_digits):
    images, labels = test_digits
    torch.manual_seed(0)
    first = whole(AffineMNIST(images[:300], labels[:300], 300, seed=AFFINE_TEST_SEED))
    torch.manual_seed(1)
    second = whole(AffineMNIST(images[:300], labels[:300], 64, seed=AFFINE_TEST_SEED))
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], labels[:300])
    assert first[0].shape == (300, 1, 40, 40)
    assert first[0].min() >= 0 and first[0].max() <= 1
