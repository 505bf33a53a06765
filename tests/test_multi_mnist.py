"""
MultiMNIST as section 6 of the paper makes it: two digits of different classes, each shifted by
up to 4 pixels on a 36x36 canvas, added and clipped; a fixed test set; the CapsNet that answers
with its two longest capsules and reconstructs each digit from its own capsule.
"""

import numpy as np
import pytest
import torch

from labml_nn.capsule_networks.canvas import place
from labml_nn.capsule_networks.mnist import MARGIN_LOSS, MNISTCapsuleNetworkModel, summed_metrics
from labml_nn.capsule_networks.multi_mnist import (MultiMNIST, MultiMNISTBatch,
                                                   MultiMNISTCapsuleNetworkModel, TEST_SEED,
                                                   baseline_losses, both_correct,
                                                   bounding_box_overlap, capsule_network_losses,
                                                   reversed_to_labels, top_two)
from labml_nn.helpers import mnist


def fake_mnist(n=200, seed=0):
    """Random uint8 'digits' with ink everywhere, and labels 0 to 9 in turn."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.randint(1, 256, (n, 28, 28), dtype=torch.uint8, generator=generator)
    return images, torch.arange(n) % 10


def whole(data) -> MultiMNISTBatch:
    """One pass of `data`, all its batches concatenated."""
    return MultiMNISTBatch(*(torch.cat(parts) for parts in zip(*data)))


def reference_canvas(digit: np.ndarray, row_shift: int, column_shift: int) -> np.ndarray:
    """A 28x28 digit on a blank 36x36 canvas, centred, then moved down and right."""
    canvas = np.zeros((36, 36), dtype=np.int32)
    canvas[4 + row_shift:32 + row_shift, 4 + column_shift:32 + column_shift] = digit
    return canvas


@pytest.fixture(scope='module')
def test_digits():
    return mnist.load(train=False)


def all_examples(data: MultiMNIST):
    """The pairs, shifts and batch of every example of one pass of a fixed set."""
    index = torch.arange(data.n_examples)
    pairs, shifts = data.pairs_and_shifts(index % len(data.labels), data.uniforms)
    return pairs, shifts, data.batch(index)


def test_the_two_digits_of_a_pair_are_of_different_classes_and_every_other_class_occurs():
    images, labels = fake_mnist()
    data = MultiMNIST(images, labels, 64, seed=1, examples_per_digit=50)
    pairs, _, batch = all_examples(data)
    assert (batch.labels[:, 0] != batch.labels[:, 1]).all()
    assert torch.equal(batch.labels, labels[pairs])
    for first in range(10):
        partners = set(batch.labels[batch.labels[:, 0] == first, 1].tolist())
        assert partners == set(range(10)) - {first}


def test_shifts_are_whole_pixels_within_four_each_way_and_all_81_occur():
    images, labels = fake_mnist()
    data = MultiMNIST(images, labels, 64, seed=2, examples_per_digit=20)
    _, shifts, _ = all_examples(data)
    assert shifts.min() == -4 and shifts.max() == 4
    assert len({tuple(s) for s in shifts.view(-1, 2).tolist()}) == 81


def test_each_digit_alone_is_the_mnist_digit_centred_then_shifted_on_the_canvas():
    images, labels = fake_mnist()
    data = MultiMNIST(images, labels, 64, seed=3)
    pairs, shifts, batch = all_examples(data)
    for k in range(0, len(pairs), 7):
        for d in range(2):
            expected = reference_canvas(images[pairs[k, d]].numpy(), *shifts[k, d].tolist())
            assert np.array_equal(np.rint(batch.digits[k, d].numpy() * 255), expected)


def test_the_canvas_is_the_sum_of_the_two_shifted_digits_clipped_at_255():
    images, labels = fake_mnist()
    data = MultiMNIST(images, labels, 64, seed=4)
    pairs, shifts, batch = all_examples(data)
    for k in range(0, len(pairs), 7):
        total = sum(reference_canvas(images[pairs[k, d]].numpy(), *shifts[k, d].tolist())
                    for d in range(2))
        assert np.array_equal(np.rint(batch.images[k, 0].numpy() * 255), np.minimum(total, 255))
    # The fake digits are bright, so the sum does saturate somewhere
    assert (batch.images == 1).any()


def test_the_test_set_is_the_same_whatever_the_batch_size_the_global_seed_or_the_construction():
    images, labels = fake_mnist()
    torch.manual_seed(0)
    first = whole(MultiMNIST(images, labels, 1000, seed=TEST_SEED, examples_per_digit=3))
    torch.manual_seed(1)
    second = whole(MultiMNIST(images, labels, 7, seed=TEST_SEED, examples_per_digit=3))
    for a, b in zip(first, second):
        assert torch.equal(a, b)
    other_seed = whole(MultiMNIST(images, labels, 1000, seed=TEST_SEED + 1, examples_per_digit=3))
    assert not torch.equal(first.images, other_seed.images)


def test_a_limited_test_set_is_the_first_pairs_of_the_whole_set():
    images, labels = fake_mnist()
    full = whole(MultiMNIST(images, labels, 64, seed=TEST_SEED, examples_per_digit=3))
    limited = MultiMNIST(images, labels, 64, seed=TEST_SEED, examples_per_digit=3, limit=250)
    assert len(limited) == 4
    for a, b in zip(whole(limited), full):
        assert torch.equal(a, b[:250])


def test_the_first_pairs_of_the_test_set_start_from_each_digit_once():
    images, labels = fake_mnist()
    data = MultiMNIST(images, labels, 1000, seed=TEST_SEED, examples_per_digit=3)
    pairs, _, _ = all_examples(data)
    assert torch.equal(pairs[:200, 0], torch.arange(200))
    assert torch.equal(pairs[:, 0], torch.arange(600) % 200)


def test_training_starts_a_pair_from_each_digit_once_per_pass_with_new_partners():
    images, labels = fake_mnist()
    data = MultiMNIST(images, labels, 50, generator=torch.Generator().manual_seed(0))
    passes = [torch.cat([batch.labels for batch in data]) for _ in range(2)]
    canvases = [torch.cat([batch.images for batch in data]) for _ in range(2)]
    for labels_of_pass in passes:
        assert sorted(labels_of_pass[:, 0].tolist()) == sorted(labels.tolist())
        assert (labels_of_pass[:, 0] != labels_of_pass[:, 1]).all()
    assert not torch.equal(canvases[0], canvases[1])


def test_a_set_needs_a_generator_or_a_seed_not_both():
    images, labels = fake_mnist()
    with pytest.raises(ValueError, match='generator .* or a seed'):
        MultiMNIST(images, labels, 8)
    with pytest.raises(ValueError, match='not both'):
        MultiMNIST(images, labels, 8, generator=torch.Generator(), seed=0)


@pytest.mark.slow
def test_20x20_boxes_overlap_by_72_6_percent_on_average_as_independent_uniform_shifts_give():
    # Square digits filling the central 20x20 box of the 28x28 image
    images = torch.zeros(100, 28, 28, dtype=torch.uint8)
    images[:, 4:24, 4:24] = 255
    data = MultiMNIST(images, torch.arange(100) % 10, 10_000, seed=5, examples_per_digit=400)
    overlap = torch.cat([bounding_box_overlap(batch.digits) for batch in data])
    # Both boxes are 20x20, so each is covered by the same fraction
    assert torch.equal(overlap[:, 0], overlap[:, 1])
    # E[(20 - |d_row|)(20 - |d_col|)] / 400 with d the difference of two shifts in {-4..4}
    differences = torch.arange(-4, 5)[:, None] - torch.arange(-4, 5)[None, :]
    expected = ((20 - differences.abs()).float().mean() / 20) ** 2
    assert expected.item() == pytest.approx(0.7257, abs=1e-4)
    # 40,000 pairs: the standard error of the mean is about 0.0006
    assert overlap[:, 0].mean().item() == pytest.approx(expected.item(), abs=0.003)


def test_bounding_box_overlap_of_hand_made_boxes():
    digits = torch.zeros(1, 2, 36, 36)
    # A 10x10 box and a 10x20 box sharing a 5x10 region
    digits[0, 0, 0:10, 0:10] = 1
    digits[0, 1, 5:15, 0:20] = 1
    assert bounding_box_overlap(digits).tolist() == [[0.5, 0.25]]


@pytest.mark.slow
def test_the_real_test_set_measures_the_overlap_given_in_the_notes(test_digits):
    images, labels = test_digits
    data = MultiMNIST(images, labels, 20_000, seed=TEST_SEED, examples_per_digit=10)
    overlap = torch.cat([bounding_box_overlap(batch.digits) for batch in data])
    assert len(overlap) == 100_000
    assert round(overlap.mean().item(), 3) == 0.638
    assert round(overlap.amax(dim=1).mean().item(), 3) == 0.726


def test_top_two_are_the_two_highest_scores_highest_first():
    scores = torch.tensor([[0.1, 0.9, 0.0, 0.3, 0.8, 0, 0, 0, 0, 0],
                           [0.5, 0.0, 0.0, 0.0, 0.0, 0, 0, 0, 0, 0.6]])
    assert top_two(scores).tolist() == [[1, 4], [9, 0]]


def test_an_example_is_correct_only_when_both_digits_are_in_either_order():
    labels = torch.tensor([[3, 7], [3, 7], [3, 7], [3, 7]])
    predictions = torch.tensor([[3, 7], [7, 3], [3, 5], [1, 2]])
    assert both_correct(predictions, labels).tolist() == [True, True, False, False]


def test_predictions_are_reversed_to_the_labels_when_a_digit_sits_in_the_other_slot():
    labels = torch.tensor([[3, 7]] * 5)
    predictions = torch.tensor([[3, 7], [7, 3], [5, 3], [7, 5], [5, 8]])
    assert reversed_to_labels(predictions, labels).tolist() == [False, True, True, True, False]


def test_the_margin_loss_sets_t_k_to_one_for_both_digits():
    lengths = torch.tensor([[0.2, 0.95, 0.5, 0.05, 0.3, 0.0, 0.0, 0.12, 0.0, 0.7]])
    # Capsules pointing along their first dimension, with those lengths
    v = torch.zeros(1, 10, 16)
    v[0, :, 0] = lengths
    present = {1, 9}
    expected = sum(max(0, 0.9 - float(lengths[0, k])) ** 2 if k in present else
                   0.5 * max(0, float(lengths[0, k]) - 0.1) ** 2 for k in range(10))
    assert MARGIN_LOSS(v, torch.tensor([[1, 9]])).item() == pytest.approx(expected, rel=1e-6)
    assert MARGIN_LOSS(v, torch.tensor([[9, 1]])).item() == pytest.approx(expected, rel=1e-6)


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return MultiMNISTCapsuleNetworkModel()


def test_36x36_canvases_give_3200_primary_capsules_and_11_4m_parameters(model):
    images = torch.rand(2, 1, 36, 36)
    assert model.primary_capsules(images).shape == (2, 32 * 10 * 10, 8)
    assert model.digit_capsules.in_caps == 3200
    mnist_model = 8_215_568
    # The routing's matrices for 3200 - 1152 more capsules, the decoder's 1296 - 784 more pixels
    extra = (3200 - 1152) * 8 * 10 * 16 + (1296 - 784) * (1024 + 1)
    assert sum(p.numel() for p in model.parameters()) == mnist_model + extra == 11_361_808


def test_output_shapes(model):
    with torch.no_grad():
        digit_capsules, reconstructions, predictions = model(torch.rand(3, 1, 36, 36))
    assert digit_capsules.shape == (3, 10, 16)
    assert reconstructions.shape == (3, 2, 1296)
    assert predictions.shape == (3, 2)


def decoder_inputs(model, images, labels=None):
    """The capsules the decoder sees, [batch, 2, 10, 16], and the model's outputs."""
    seen = []
    handle = model.decoder.register_forward_hook(lambda module, args, out: seen.append(args[0]))
    try:
        with torch.no_grad():
            outputs = model(images, labels)
    finally:
        handle.remove()
    return seen[0].view(images.shape[0], 2, 10, 16), outputs


def test_training_decodes_each_digit_from_its_labels_capsule_alone(model):
    images = torch.rand(4, 1, 36, 36)
    with torch.no_grad():
        predictions = model(images)[2]
    # Labels that the network does not predict
    labels = torch.tensor([[c for c in range(10) if c not in pair][:2]
                           for pair in predictions.tolist()])
    seen, (digit_capsules, _, _) = decoder_inputs(model, images, labels)
    for k in range(4):
        for d in range(2):
            kept = labels[k, d]
            assert torch.equal(seen[k, d, kept], digit_capsules[k, kept])
            assert (seen[k, d, torch.arange(10) != kept] == 0).all()


def test_evaluation_decodes_from_the_two_longest_capsules_one_at_a_time(model):
    images = torch.rand(4, 1, 36, 36)
    seen, (digit_capsules, _, predictions) = decoder_inputs(model, images)
    lengths = digit_capsules.norm(dim=-1)
    assert torch.equal(predictions, lengths.argsort(dim=-1, descending=True)[:, :2])
    for k in range(4):
        for d in range(2):
            kept = predictions[k, d]
            assert torch.equal(seen[k, d, kept], digit_capsules[k, kept])
            assert (seen[k, d, torch.arange(10) != kept] == 0).all()


def fake_batch():
    digits = torch.rand(2, 2, 36, 36)
    return MultiMNISTBatch(images=digits.sum(dim=1, keepdim=True).clamp(max=1),
                           labels=torch.tensor([[3, 7], [1, 2]]), digits=digits)


def test_each_reconstruction_is_scored_against_its_own_digit_and_the_sum_is_weighted(monkeypatch):
    batch = fake_batch()
    digit_capsules = torch.rand(2, 10, 16) * 0.2
    reconstructions = torch.full((2, 2, 1296), 0.5)
    reconstructions[0, 1] = batch.digits[0, 1].flatten()

    def fake_model(images, labels=None):
        return digit_capsules, reconstructions, torch.tensor([[3, 7], [1, 2]])

    out = capsule_network_losses(fake_model, batch, is_train=True)
    errors = [((0.5 - batch.digits[0, 0]) ** 2).sum(),
              ((0.5 - batch.digits[1]) ** 2).sum()]
    assert out['reconstruction_loss'].item() == pytest.approx(float(sum(errors) / 2), rel=1e-5)
    margin = MARGIN_LOSS(digit_capsules, batch.labels)
    assert out['margin_loss'].item() == pytest.approx(margin.item())
    expected = margin + 0.0005 * out['reconstruction_loss']
    assert out['loss'].item() == pytest.approx(expected.item())


def test_at_evaluation_reconstructions_in_reversed_order_are_matched_to_their_digits():
    batch = fake_batch()
    # Perfect reconstructions, in the order of predictions that reverse the labels
    reconstructions = batch.digits.flip(1).flatten(2)

    def fake_model(images, labels=None):
        assert labels is None
        return torch.rand(2, 10, 16), reconstructions, torch.tensor([[7, 3], [2, 1]])

    out = capsule_network_losses(fake_model, batch, is_train=False)
    assert out['reconstruction_loss'].item() == 0


def test_the_baseline_is_trained_with_a_sigmoid_per_class_and_answers_with_its_top_two():
    batch = fake_batch()
    logits = torch.linspace(-2, 2, 20).view(2, 10)
    out = baseline_losses(lambda images: logits, batch, is_train=True)
    present = torch.zeros(2, 10)
    present[0, [3, 7]] = present[1, [1, 2]] = 1
    probabilities = torch.sigmoid(logits)
    expected = -(present * probabilities.log() + (1 - present) * (1 - probabilities).log())
    assert out['loss'].item() == pytest.approx(expected.sum(dim=1).mean().item(), rel=1e-5)
    assert out['predictions'].tolist() == [[9, 8], [9, 8]]


def test_summed_metrics_count_examples_with_both_digits_right():
    labels = torch.tensor([[3, 7], [1, 2], [4, 5]])
    out = {'loss': torch.tensor(2.0), 'margin_loss': torch.tensor(1.0),
           'predictions': torch.tensor([[7, 3], [1, 5], [4, 5]])}
    sums = summed_metrics(out, both_correct(out['predictions'], labels))
    assert sums['loss'].item() == 6 and sums['margin_loss'].item() == 3
    assert sums['accuracy'].item() == 2 and sums['samples'] == 3


def test_place_puts_each_digit_at_its_corner():
    digits = torch.arange(2 * 28 * 28, dtype=torch.int32).view(2, 28, 28) + 1
    canvases = place(digits, torch.tensor([0, 8]), torch.tensor([8, 3]), 36)
    assert torch.equal(canvases[0, 0:28, 8:36], digits[0])
    assert torch.equal(canvases[1, 8:36, 3:31], digits[1])
    assert canvases[0].count_nonzero() == canvases[1].count_nonzero() == 28 * 28


def test_the_capsnet_refuses_images_too_small_for_its_two_convolutions():
    with pytest.raises(ValueError, match='image_size=24 is too small.*at least 25x25'):
        MNISTCapsuleNetworkModel(image_size=24)
