"""
A strided convolution whose backward pass is two forward convolutions computes what `nn.Conv2d`
computes, forward and backward, keeps its parameters and their names, and replaces only the
plain strided convolutions of a model.
"""

import pytest
import torch
from torch import nn

from labml_nn.capsule_networks.baseline import BaselineCNN
from labml_nn.capsule_networks.mnist import Configs, MNISTCapsuleNetworkModel
from labml_nn.helpers.strided_convolution import StridedConv2d, replace_strided_convolutions


def gradients(conv: nn.Conv2d, x: torch.Tensor, g: torch.Tensor):
    """The output of `conv` on `x`, and the gradients of `(output * g).sum()`."""
    x = x.clone().requires_grad_()
    y = conv(x)
    y.backward(g)
    grads = [x.grad] + [p.grad for p in conv.parameters()]
    conv.zero_grad()
    return [y.detach()] + grads


@pytest.mark.parametrize('in_size, kernel, stride, padding, bias', [
    (20, 9, 2, 0, True),    # PrimaryCaps: 9x9, stride 2, one row and column left over
    (21, 9, 2, 0, True),    # the stride divides what the kernel leaves
    (17, 3, 3, 1, False),   # stride 3, padding, no bias
    (16, 4, (2, 3), (1, 0), True),  # a different stride and padding per dimension
])
def test_the_gradients_are_those_of_nn_conv2d(in_size, kernel, stride, padding, bias):
    torch.manual_seed(0)
    reference = nn.Conv2d(5, 7, kernel, stride, padding, bias=bias).double()
    strided = nn.Conv2d(5, 7, kernel, stride, padding, bias=bias).double()
    strided.load_state_dict(reference.state_dict())
    replace_strided_convolutions(strided)
    assert type(strided) is StridedConv2d
    x = torch.randn(3, 5, in_size, in_size + 1, dtype=torch.float64)
    g = torch.randn_like(reference(x))
    for ours, theirs in zip(gradients(strided, x, g), gradients(reference, x, g), strict=True):
        torch.testing.assert_close(ours, theirs)


def test_the_gradients_pass_gradcheck():
    torch.manual_seed(0)
    conv = replace_strided_convolutions(nn.Conv2d(2, 3, 3, 2).double())
    x = torch.randn(2, 2, 8, 7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(conv, (x,))


def test_only_the_strided_convolutions_of_the_capsnet_are_replaced_and_the_state_is_the_same():
    model = MNISTCapsuleNetworkModel()
    before = {key: value.clone() for key, value in model.state_dict().items()}
    replace_strided_convolutions(model)
    # Conv1 has a stride of 1; the PrimaryCaps convolution a stride of 2
    assert type(model.conv1) is nn.Conv2d and type(model.conv2) is StridedConv2d
    after = model.state_dict()
    assert list(after) == list(before)
    for key, value in before.items():
        assert torch.equal(after[key], value)


def test_the_baseline_keeps_its_convolutions_of_stride_one():
    model = replace_strided_convolutions(BaselineCNN())
    convolutions = [module for module in model.modules() if isinstance(module, nn.Conv2d)]
    assert convolutions and all(type(module) is nn.Conv2d for module in convolutions)


def test_the_experiment_trains_its_capsnet_with_it_on_the_cpu():
    conf = Configs()
    conf.device, conf.compile = 'cpu', 'off'
    conf.stateful()
    assert type(conf.model.conv2) is StridedConv2d


def test_under_autocast_it_takes_pytorchs_own_backward_pass():
    torch.manual_seed(0)
    conv = replace_strided_convolutions(nn.Conv2d(4, 6, 3, 2))
    x = torch.randn(2, 4, 9, 9, requires_grad=True)
    assert type(conv(x).grad_fn).__name__ == '_TwoForwardConvolutionsBackward'
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert type(conv(x).grad_fn).__name__ == 'ConvolutionBackward0'
