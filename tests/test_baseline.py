"""
The baseline CNN is the paper's: three 5x5 convolutions of 256, 256 and 128 channels with stride
1, fully connected layers of 328 and 192 units, dropout before a 10-way output, 35.4M parameters
on MNIST; and it takes the larger canvases of the other experiments.
"""

import pytest
import torch
import torch.nn.functional as F

from labml_nn.capsule_networks.baseline import BaselineCNN, single_digit_losses


def count(module):
    return sum(p.numel() for p in module.parameters())


def test_on_mnist_it_has_the_papers_35_4m_parameters():
    model = BaselineCNN()
    convolutions = (1 * 25 + 1) * 256 + (256 * 25 + 1) * 256 + (256 * 25 + 1) * 128
    fully_connected = (128 * 28 * 28 + 1) * 328 + (328 + 1) * 192 + (192 + 1) * 10
    assert count(model) == convolutions + fully_connected == 35_445_522
    assert round(count(model) / 1e6, 1) == 35.4


def test_layers_are_the_papers():
    model = BaselineCNN()
    convolutions = [model.conv1, model.conv2, model.conv3]
    assert [c.out_channels for c in convolutions] == [256, 256, 128]
    assert all(c.kernel_size == (5, 5) and c.stride == (1, 1) for c in convolutions)
    assert [model.fc1.out_features, model.fc2.out_features, model.output.out_features] == \
           [328, 192, 10]


@pytest.mark.parametrize('size, parameters', [(28, 35_445_522), (36, 56_941_330),
                                              (40, 69_704_466)])
def test_it_takes_mnist_multimnist_and_affine_canvases_and_the_convolutions_keep_their_size(
        size, parameters):
    model = BaselineCNN(image_size=size).eval()
    shapes = []
    handle = model.conv3.register_forward_hook(lambda module, args, out: shapes.append(out.shape))
    with torch.no_grad():
        logits = model(torch.rand(2, 1, size, size))
    handle.remove()
    assert logits.shape == (2, 10)
    assert shapes == [(2, 128, size, size)]
    assert count(model) == parameters


def test_dropout_acts_on_the_input_of_the_output_layer_and_only_while_training():
    model = BaselineCNN(dropout=1.0)
    images = torch.rand(3, 1, 28, 28)
    # Everything dropped: the output layer sees zeros, and gives its bias
    model.train()
    assert torch.equal(model(images), model.output.bias.expand(3, 10))
    # At evaluation nothing is dropped
    model.eval()
    assert not torch.equal(model(images), model.output.bias.expand(3, 10))


def test_labels_do_not_change_the_output():
    model = BaselineCNN().eval()
    images = torch.rand(2, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(model(images), model(images, torch.tensor([1, 2])))


def test_one_digit_is_scored_with_softmax_cross_entropy_and_the_largest_logit():
    logits = torch.tensor([[0.1, 2.0, -1.0] + [0.0] * 7, [3.0] + [0.0] * 9])
    labels = torch.tensor([1, 4])
    out = single_digit_losses(lambda images: logits, torch.zeros(2, 1, 28, 28), labels)
    expected = -F.log_softmax(logits, dim=-1)[torch.arange(2), labels].mean()
    assert out['loss'].item() == pytest.approx(expected.item())
    assert out['predictions'].tolist() == [1, 0]
