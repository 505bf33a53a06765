"""
The MNIST CapsNet is the paper's: its architecture, its decoder masking, its losses and its
data augmentation.
"""

import pytest
import torch

from labml_nn.capsule_networks.mnist import Configs, MNISTCapsuleNetworkModel, MARGIN_LOSS, random_shift
from labml_nn.helpers.batches import DeviceBatches


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    return MNISTCapsuleNetworkModel()


def count(module):
    return sum(p.numel() for p in module.parameters())


def test_parameter_count_is_the_papers(model):
    assert count(model) == 8_215_568
    assert count(model) - count(model.decoder) == 6_804_224


def test_layer_shapes(model):
    images = torch.rand(3, 1, 28, 28)
    assert model.primary_capsules(images).shape == (3, 1152, 8)
    digit_capsules, reconstructions, predictions = model(images)
    assert digit_capsules.shape == (3, 10, 16)
    assert reconstructions.shape == (3, 784)
    assert predictions.shape == (3,)
    assert ((reconstructions >= 0) & (reconstructions <= 1)).all()


def test_conv_layers_are_the_papers(model):
    assert (model.conv1.in_channels, model.conv1.out_channels, model.conv1.kernel_size, model.conv1.stride) == \
           (1, 256, (9, 9), (1, 1))
    assert (model.conv2.out_channels, model.conv2.kernel_size, model.conv2.stride) == (256, (9, 9), (2, 2))
    assert [m.out_features for m in model.decoder if isinstance(m, torch.nn.Linear)] == [512, 1024, 784]
    assert isinstance(model.decoder[-1], torch.nn.Sigmoid)


def decoder_input(model, images, labels=None):
    """The 160 numbers the decoder sees, as [batch, 10, 16]."""
    seen = []
    handle = model.decoder.register_forward_hook(lambda module, args, out: seen.append(args[0]))
    try:
        digit_capsules, _, predictions = model(images, labels)
    finally:
        handle.remove()
    return seen[0].view(-1, 10, 16), digit_capsules, predictions


def test_decoder_sees_only_the_true_labels_capsule_in_training(model):
    images = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        predictions = model(images)[2]
        # Labels that are all wrong
        labels = (predictions + 1) % 10
        seen, digit_capsules, _ = decoder_input(model, images, labels)
    for sample in range(4):
        kept = labels[sample]
        assert torch.equal(seen[sample, kept], digit_capsules[sample, kept])
        others = torch.arange(10) != kept
        assert (seen[sample, others] == 0).all()


def test_decoder_sees_the_predicted_capsule_at_evaluation(model):
    images = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        seen, digit_capsules, predictions = decoder_input(model, images)
    assert torch.equal(predictions, digit_capsules.norm(dim=-1).argmax(dim=-1))
    for sample in range(4):
        kept = predictions[sample]
        assert torch.equal(seen[sample, kept], digit_capsules[sample, kept])
        assert (seen[sample, torch.arange(10) != kept] == 0).all()


@pytest.fixture
def conf():
    """Configs computed without an experiment, on a few fake images."""
    c = Configs()
    c.device = 'cpu'
    c.precision = 'fp32'
    c.compile = 'off'
    # Everything with state exists before the first step, as in the training loop
    c.stateful()
    return c


def test_training_step_masks_by_labels_and_evaluation_by_predictions(conf, monkeypatch):
    calls = []
    real_forward = conf.model.forward

    def spy(images, labels=None):
        calls.append(labels)
        return real_forward(images, labels)

    monkeypatch.setattr(conf.model, 'forward', spy)
    images, labels = torch.rand(2, 1, 28, 28), torch.tensor([3, 7])
    conf.step((images, labels), is_train=True)
    conf.step((images, labels), is_train=False)
    assert torch.equal(calls[0], labels)
    assert calls[1] is None


def test_reconstruction_loss_is_a_sum_over_pixels_against_the_image_weighted_by_0_0005(conf, monkeypatch):
    images = torch.rand(2, 1, 28, 28)
    labels = torch.tensor([1, 2])
    digit_capsules = torch.rand(2, 10, 16) * 0.2
    reconstructions = torch.full((2, 784), 0.5)
    monkeypatch.setattr(conf.model, 'forward', lambda images, labels=None: (digit_capsules, reconstructions, labels))
    out = conf.losses((images, labels), is_train=True)
    errors = [((0.5 - images[k].flatten()) ** 2).sum() for k in range(2)]
    assert out['reconstruction_loss'].item() == pytest.approx(float(sum(errors) / 2), rel=1e-6)
    expected = MARGIN_LOSS(digit_capsules, labels) + 0.0005 * out['reconstruction_loss']
    assert out['loss'].item() == pytest.approx(expected.item(), rel=1e-6)
    assert out['margin_loss'].item() == pytest.approx(MARGIN_LOSS(digit_capsules, labels).item())


def shifted(image, rows, columns):
    """`image` [28, 28] moved down by `rows` and right by `columns`, zeros coming in."""
    out = torch.zeros_like(image)
    for r in range(28):
        for c in range(28):
            if 0 <= r - rows < 28 and 0 <= c - columns < 28:
                out[r, c] = image[r - rows, c - columns]
    return out


@pytest.mark.slow
def test_random_shift_moves_each_image_by_up_to_two_pixels_with_zero_padding():
    torch.manual_seed(0)
    images = torch.rand(64, 1, 28, 28) + 0.1
    out = random_shift(images, torch.Generator().manual_seed(0), max_shift=2)
    assert out.shape == images.shape
    shifts = []
    for k in range(64):
        matches = [(dr, dc) for dr in range(-2, 3) for dc in range(-2, 3)
                   if torch.equal(out[k, 0], shifted(images[k, 0], dr, dc))]
        assert len(matches) == 1
        shifts.append(matches[0])
    # Each image draws its own shift, from all 25 of them
    assert len(set(shifts)) > 15


def test_no_shift_leaves_the_images_alone():
    images = torch.rand(4, 1, 28, 28)
    assert torch.equal(random_shift(images, torch.Generator(), max_shift=0), images)


def test_batches_are_floats_in_zero_one_not_normalised():
    images = torch.tensor([[[0, 255] * 14] * 28] * 10, dtype=torch.uint8)
    labels = torch.arange(10)
    batches = DeviceBatches(images, labels, 4, generator=torch.Generator(), shuffle=False)
    assert len(batches) == 3
    batch_images, batch_labels = next(iter(batches))
    assert batch_images.shape == (4, 1, 28, 28)
    assert batch_images.min().item() == 0 and batch_images.max().item() == 1
    assert torch.equal(batch_labels, torch.arange(4))


def test_training_batches_leave_out_the_last_smaller_batch_and_cover_different_samples_each_pass():
    images = torch.zeros(10, 28, 28, dtype=torch.uint8)
    batches = DeviceBatches(images, torch.arange(10), 4, generator=torch.Generator().manual_seed(0),
                            shuffle=True, drop_last=True)
    assert len(batches) == 2
    passes = [torch.cat([labels for _, labels in batches]) for _ in range(3)]
    assert all(len(p) == 8 and len(set(p.tolist())) == 8 for p in passes)
    assert len({tuple(p.tolist()) for p in passes}) > 1



def test_training_batches_are_shifted_by_the_papers_augmentation_drawn_from_the_run_generator(conf):
    batch, labels = next(iter(conf.train_batches()))
    # The same draws, replayed: the order of the first pass, then the shifts of its first batch
    generator = torch.Generator().manual_seed(conf.seed)
    images, all_labels = conf.train_data
    order = torch.randperm(len(all_labels), generator=generator)[:conf.batch_size]
    expected = random_shift(images[order].unsqueeze(1).float() / 255, generator, max_shift=2)
    assert torch.equal(labels, all_labels[order])
    assert torch.equal(batch, expected)
