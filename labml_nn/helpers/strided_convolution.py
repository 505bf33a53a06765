"""
---
title: Strided convolutions on a CPU
summary: >
  The gradients of a strided convolution as two forward convolutions, which oneDNN computes
  faster than its own backward pass on a CPU in 32-bit floats.
---

# Strided convolutions on a CPU

The PrimaryCaps convolution ($256$ channels to $256$, $9 \\times 9$, stride $2$) is most of a
training step on a CPU. Without native bf16 it runs in 32-bit floats, and there oneDNN's backward
pass of it takes three to four times as long as its forward pass, on the same number of
multiplications. Both of its gradients are convolutions too, and oneDNN's *forward* kernels
compute them faster. For an output $y = w \\star_s x + b$ of stride $s$ and a gradient $g$ of the
loss with respect to $y$:

* the gradient with respect to the input $x$ is the transposed convolution of $g$ by $w$, of the
  same stride;
* the gradient with respect to the kernel, at offset $(i, j)$, is
  $\\sum_{n, p, q} g_{n,p,q} \\, x_{n, s p + i, s q + j}$: a convolution of $x$ by $g$, the batch
  taking the place of the channels, $g$'s positions $s$ apart (a *dilation* of $s$);
* the gradient with respect to the bias is the sum of $g$ over the batch and the positions.

On a 2-core AMD EPYC without native bf16 (AVX2), at batch $64$, the two convolutions took
$0.41$ s where oneDNN's backward pass took $0.61$ s, and the compiled training step of the
CapsNet trained $1.31$ and $1.23$ times as many images a second in two invocations of
`python -m bench.strided_convolution` ($1.18$ times at batch $512$, in the first). Elsewhere, on
a GPU or under bf16 autocast, the convolution keeps PyTorch's own backward pass: the gain was
measured on a CPU in 32-bit floats only. A stride of $1$ gains nothing (the baseline's
$5 \\times 5$ convolutions were no faster), so only strided convolutions are replaced.

The replacement keeps the module's parameters, their names and their values, so a checkpoint
saved with either loads into the other.
"""

from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn


class _TwoForwardConvolutions(torch.autograd.Function):
    """
    `conv2d(x, weight, bias, stride, padding)`, its backward pass made of forward convolutions.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor],
                stride: Tuple[int, int], padding: Tuple[int, int]) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        ctx.stride, ctx.padding, ctx.has_bias = stride, padding, bias is not None
        return F.conv2d(x, weight, bias, stride, padding)

    @staticmethod
    def backward(ctx, g: torch.Tensor):
        x, weight = ctx.saved_tensors
        stride, padding = ctx.stride, ctx.padding
        kernel = weight.shape[-2:]
        layout = torch.channels_last
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            # The rows and columns of $x$ that no output reached, on the far side, when the
            # stride does not divide what the kernel leaves
            left_over = [x.shape[2 + d] + 2 * padding[d] - ((g.shape[2 + d] - 1) * stride[d] +
                                                             kernel[d]) for d in range(2)]
            # `[batch, in_channels, height, width]`
            grad_x = F.conv_transpose2d(g.contiguous(memory_format=layout),
                                        weight.contiguous(memory_format=layout), None, stride,
                                        padding, output_padding=left_over)
        if ctx.needs_input_grad[1]:
            # $x$ as `[in_channels, batch, height, width]`, convolved by $g$ as
            # `[out_channels, batch, out_height, out_width]`, dilated by the stride
            grad_weight = F.conv2d(x.transpose(0, 1).contiguous(memory_format=layout),
                                   g.transpose(0, 1).contiguous(memory_format=layout),
                                   None, 1, padding, dilation=stride)
            # `[out_channels, in_channels, kernel_height, kernel_width]`; the offsets past the
            # kernel, reached when the stride leaves rows over, are dropped
            grad_weight = grad_weight[..., :kernel[0], :kernel[1]].transpose(0, 1)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_bias = g.sum((0, 2, 3))
        return grad_x, grad_weight, grad_bias, None, None


class StridedConv2d(nn.Conv2d):
    """
    An `nn.Conv2d` of stride above $1$ whose backward pass, on a CPU in 32-bit floats, is made of
    forward convolutions; elsewhere it is `nn.Conv2d` itself.
    """

    def _conv_forward(self, x: torch.Tensor, weight: torch.Tensor,
                      bias: Optional[torch.Tensor]) -> torch.Tensor:
        if x.device.type != 'cpu' or torch.is_autocast_enabled('cpu'):
            return super()._conv_forward(x, weight, bias)
        return _TwoForwardConvolutions.apply(x, weight, bias, self.stride, self.padding)


def replaceable(module: nn.Module) -> bool:
    """
    Whether `module` is a plain strided convolution that `StridedConv2d` computes the same way.
    """
    return (type(module) is nn.Conv2d and max(module.stride) > 1 and module.groups == 1 and
            module.dilation == (1, 1) and module.padding_mode == 'zeros' and
            isinstance(module.padding, tuple))


def replace_strided_convolutions(model: nn.Module) -> nn.Module:
    """
    `model` with each plain strided `nn.Conv2d` in it made a `StridedConv2d`, in place: the same
    module, its parameters untouched, of the subclass.
    """
    for module in model.modules():
        if replaceable(module):
            module.__class__ = StridedConv2d
    return model
