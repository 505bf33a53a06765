r"""
---
title: Capsule Networks
summary: >
  Dynamic Routing Between Capsules in PyTorch, annotated and runnable - the capsule layers, the
  MNIST CapsNet and its training, pictures of what it learns, and a notebook.
---

# Capsule Networks

This is an annotated [PyTorch](https://pytorch.org) implementation of
[Dynamic Routing Between Capsules](https://arxiv.org/abs/1710.09829)
by Sara Sabour, Nicholas Frosst and Geoffrey Hinton (2017), with the paper's CapsNet trained on
MNIST. The notes are the comments of the code beside them, and the same files train the network.

A neuron outputs a number; a *capsule* is a group of neurons that outputs a vector. The length of
the vector is the probability that the entity the capsule stands for (a digit, a stroke of one) is
present, and its direction encodes the entity's *pose*: its properties, such as position, stroke
width and skew. Because a length has to stay below $1$, the paper squashes the vectors with a
non-linearity, [`Squash`](#squash).

Let $\mathbf{u}_i$ be the output of capsule $i$ of one layer. It reaches the capsules of the next
layer through a learned matrix for each of them: capsule $i$ predicts the output of each upper
capsule $j$ as $\hat{\mathbf{u}}_{j|i} = \mathbf{W}_{ij} \mathbf{u}_i$. How much of its
prediction each upper capsule receives is not learned: *routing by agreement*
([`Router`](#router)) computes these coupling coefficients $c_{ij}$ afresh for every image, in a
few iterations, and sends the prediction mostly to the upper capsules whose outputs agree with it.

The network is trained with a [margin loss](#margin-loss) on the lengths of the output capsules,
so that several digits could be present at once.

## Reading order

1. The capsule layers, on this page: the squash, routing by agreement and the margin loss, each
   equation tested against a hand-written reference in `tests/test_capsule_layers.py`.
2. [The MNIST experiment](mnist.html): the CapsNet, its decoder, its losses, its training, and
   the commands that run it.
3. [Reconstructions](reconstructions.html): the picture every run ends with, test digits
   redrawn by the decoder from their capsules.
4. [The pictures](figures.html): what a trained CapsNet does, what the dimensions of a digit
   capsule encode, its routing and its training curves.
5. [The notebook](notebook.html): trains a small CapsNet in about 3 minutes on a 2-core CPU and
   draws the pictures.

The paper's evidence for capsules, on the same layers:

6. [The baseline CNN](baseline.html): the convolutional network the paper compares with.
7. [Digits on a canvas](canvas.html): new images made from MNIST digits on the device, batch by
   batch.
8. [MultiMNIST](multi_mnist.html): two overlapping digits, both read and each reconstructed from
   its own capsule.
9. [Robustness to affine transformations](affine.html): trained on digits moved about, tested on
   digits rotated, sheared and scaled.
10. [The pictures of the evidence](evidence_figures.html): overlapping digits redrawn from their
    capsules (Figure 5 of the paper), transformed digits each model gets right and wrong, and the
    learning curves of both models.

## Where implementations go wrong

Implementations often drift from the paper in the same few places. Each is explained where it
happens:

* the softmax of the routing runs over the *output* capsules, not the input capsules
  ([the router](#router));
* the routing logits start at zero for every image and are never shared across a batch
  ([the router](#router));
* the margin loss squares its two terms ([the margin loss](#margin-loss));
* the decoder reconstructs from the capsule of the true label during training, and of the
  prediction only at evaluation ([the CapsNet](mnist.html#the-capsnet));
* the reconstruction loss is a sum of squared errors over the pixels, against the image in
  $[0, 1]$ ([the loss](mnist.html#the-loss)).
"""

from typing import List, Tuple

import torch
import torch.nn.functional as F
from torch import nn


class Squash(nn.Module):
    r"""
    ## Squash

    The non-linearity that turns a capsule's total input $\mathbf{s}_j$ into its output
    $\mathbf{v}_j$: short vectors shrink to almost zero length and long vectors to a length just
    below $1$, while the direction is kept.

    $$\mathbf{v}_j = \frac{{\lVert \mathbf{s}_j \rVert}^2}{1 + {\lVert \mathbf{s}_j \rVert}^2}
     \frac{\mathbf{s}_j}{\lVert \mathbf{s}_j \rVert}$$

    The second factor divides by $\lVert \mathbf{s}_j \rVert$, which is zero for a zero vector, and
    the gradient of the norm itself is undefined there. So we divide by
    $\sqrt{{\lVert \mathbf{s}_j \rVert}^2 + \epsilon}$ instead: the value changes by a negligible
    amount and the gradient at $\mathbf{s}_j = 0$ is finite.
    """

    def __init__(self, epsilon: float = 1e-8):
        """
        * `epsilon` keeps the division and its gradient finite at a zero vector
        """
        super().__init__()
        self.epsilon = epsilon

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        """
        * `s` is the total input of the capsules, with the capsule's vector in the last dimension,
          for example `[batch, out_caps, out_d]`

        Returns $\\mathbf{v}$ of the same shape.
        """
        # The lengths are computed in (at least) 32-bit floats, also when the rest of the network
        # runs in `bfloat16`: its 8 bits of mantissa would make $1 + {\lVert \mathbf{s}_j \rVert}^2$
        # round to $1$ for short vectors.
        s = s.to(torch.promote_types(s.dtype, torch.float32))
        # ${\lVert \mathbf{s}_j \rVert}^2$, `[..., 1]`
        squared_norm = (s * s).sum(dim=-1, keepdim=True)
        # $$\mathbf{v}_j = \frac{{\lVert \mathbf{s}_j \rVert}^2}{1 + {\lVert \mathbf{s}_j \rVert}^2}
        #  \frac{\mathbf{s}_j}{\sqrt{{\lVert \mathbf{s}_j \rVert}^2 + \epsilon}}$$
        return (squared_norm / (1 + squared_norm)) * (s / torch.sqrt(squared_norm + self.epsilon))


class Router(nn.Module):
    r"""
    ## Router

    Routing by agreement between `in_caps` lower capsules of `in_d` dimensions and `out_caps`
    upper capsules of `out_d` dimensions (Procedure 1 of the paper).

    Each lower capsule $i$ predicts the output of each upper capsule $j$ with a learned matrix
    $\mathbf{W}_{ij}$ of shape `[out_d, in_d]`:

    $$\hat{\mathbf{u}}_{j|i} = \mathbf{W}_{ij} \mathbf{u}_i$$

    The total input of an upper capsule is the sum of these predictions, weighted by coupling
    coefficients, and its output is the squashed total:

    $$\mathbf{s}_j = \sum_i c_{ij} \hat{\mathbf{u}}_{j|i} \qquad
     \mathbf{v}_j = \text{squash}(\mathbf{s}_j)$$

    The coupling coefficients are a softmax of logits $b_{ij}$ **over the upper capsules $j$**, for
    each lower capsule $i$:

    $$c_{ij} = \frac{\exp(b_{ij})}{\sum_k \exp(b_{ik})}$$

    So each lower capsule has one unit of output to share among the upper capsules ("a lower
    capsule is a part of at most one whole"). A softmax over the lower capsules $i$ instead, as
    some implementations write it, makes each *upper* capsule share out one unit of attention:
    a different model, in which a digit capsule's input does not grow with the evidence for it.

    The logits start at $b_{ij} = 0$ (every lower capsule splits its output evenly) and grow by
    the agreement between a prediction and the output it predicted:

    $$b_{ij} \gets b_{ij} + \hat{\mathbf{u}}_{j|i} \cdot \mathbf{v}_j$$

    They belong to one image: the routing of one image never depends on another image of its
    batch. (Keeping $b_{ij}$ as a parameter, or averaging the agreement over the batch, breaks this;
    `tests/test_capsule_layers.py` checks that a sample's output does not change with its batch.)

    ### Gradients through the routing iterations

    Only the last iteration's $\mathbf{v}_j$ leaves the router, but it depends on the $c_{ij}$ of
    the earlier iterations, which depend on $\hat{\mathbf{u}}_{j|i}$ and so on $\mathbf{W}_{ij}$.
    The authors' code lets the gradient flow back through all iterations, and that is the default
    here (`gradient_through_routing=True`). Some ports treat the coupling coefficients as constants
    and detach $\hat{\mathbf{u}}_{j|i}$ in all iterations but the last; it makes the backward pass
    a little cheaper, and is a config of the experiment so that the two can be compared.

    [The pictures](figures.html#routing) show what routing does in a trained CapsNet.
    """

    def __init__(self, in_caps: int, out_caps: int, in_d: int, out_d: int, iterations: int = 3, *,
                 gradient_through_routing: bool = True, weight_std: float = 0.01):
        """
        * `in_caps`, `in_d`: the number of lower capsules and their dimension
        * `out_caps`, `out_d`: the number of upper capsules and their dimension
        * `iterations`: the number of routing iterations; the paper uses $3$
        * `gradient_through_routing`: whether gradients flow through the inner iterations
        * `weight_std`: the standard deviation of the initial $\\mathbf{W}_{ij}$
        """
        super().__init__()
        if iterations < 1:
            raise ValueError(f'routing needs at least one iteration, got iterations={iterations}')
        self.in_caps, self.out_caps, self.in_d, self.out_d = in_caps, out_caps, in_d, out_d
        self.iterations = iterations
        self.gradient_through_routing = gradient_through_routing
        self.squash = Squash()
        # One matrix $\mathbf{W}_{ij}$ for each pair of capsules, kept as
        # `[in_caps, in_d, out_caps * out_d]`: for each lower capsule $i$, its `out_caps` matrices
        # side by side, so that all the predictions of capsule $i$ come from a single matrix
        # product.
        #
        # The weights start small. Each upper capsule sums the predictions of all
        # `in_caps` ($1152$) lower capsules; with larger weights the sums are long from the first
        # step, the squash saturates at a length near $1$ for every digit, and the margin loss has
        # little gradient to start from.
        self.weight = nn.Parameter(torch.randn(in_caps, in_d, out_caps * out_d) * weight_std)

    def predictions(self, u: torch.Tensor) -> torch.Tensor:
        """
        The predictions $\\hat{\\mathbf{u}}_{j|i} = \\mathbf{W}_{ij} \\mathbf{u}_i$ of every lower
        capsule for every upper capsule.

        * `u` is `[batch, in_caps, in_d]`

        Returns `[batch, out_caps, in_caps, out_d]`: for each upper capsule $j$, the predictions
        of all the lower capsules, side by side in memory.
        """
        batch_size = u.shape[0]
        # One batched matrix product over the lower capsules $i$:
        # `[in_caps, batch, in_d]` $\times$ `[in_caps, in_d, out_caps * out_d]`
        # gives `[in_caps, batch, out_caps * out_d]`.
        u_hat = torch.bmm(u.transpose(0, 1), self.weight)
        # `[batch, out_caps, in_caps, out_d]`, copied once into this order: routing reads
        # $\hat{\mathbf{u}}_{j|i}$, the largest tensor of the network, five times, each time as a
        # matrix product over a contiguous `[in_caps, out_d]` block per upper capsule.
        u_hat = u_hat.view(self.in_caps, batch_size, self.out_caps, self.out_d)
        return u_hat.permute(1, 2, 0, 3).contiguous()

    def route(self, u: torch.Tensor) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        """
        Routing by agreement, keeping the coupling coefficients of every iteration.

        * `u` is the output of the lower capsules, `[batch, in_caps, in_d]`

        Returns $\\mathbf{v}$, `[batch, out_caps, out_d]`, and a list with the $c_{ij}$ of each
        iteration, each `[batch, in_caps, out_caps]`.
        """
        # $\hat{\mathbf{u}}_{j|i}$, `[batch, out_caps, in_caps, out_d]`
        u_hat = self.predictions(u)
        # The inner iterations see a detached copy when gradients are not to flow through them.
        u_hat_inner = u_hat if self.gradient_through_routing else u_hat.detach()
        # $b_{ij} = 0$ for every sample, kept as `[batch, out_caps, in_caps]` like
        # $\hat{\mathbf{u}}$, in (at least) 32-bit floats since the agreements accumulate in it.
        # Under bfloat16 autocast the products below run in bfloat16, and adding them to $b$
        # keeps it in 32-bit floats.
        b = u.new_zeros(u.shape[0], self.out_caps, self.in_caps,
                        dtype=torch.promote_types(u.dtype, torch.float32))
        couplings = []
        for iteration in range(self.iterations):
            is_last = iteration == self.iterations - 1
            u_hat_now = u_hat if is_last else u_hat_inner
            # $c_{ij} = \frac{\exp(b_{ij})}{\sum_k \exp(b_{ik})}$, over the upper capsules $j$,
            # dimension 1: `[batch, out_caps, in_caps]`
            c = b.softmax(dim=1)
            # Kept for the caller as `[batch, in_caps, out_caps]`
            couplings.append(c.transpose(1, 2))
            # $\mathbf{s}_j = \sum_i c_{ij} \hat{\mathbf{u}}_{j|i}$: `[batch, out_caps, 1, in_caps]`
            # $\times$ `[batch, out_caps, in_caps, out_d]`, then `[batch, out_caps, out_d]`
            s = (c.unsqueeze(2) @ u_hat_now).squeeze(2)
            # $\mathbf{v}_j = \text{squash}(\mathbf{s}_j)$
            v = self.squash(s)
            # $b_{ij} \gets b_{ij} + \hat{\mathbf{u}}_{j|i} \cdot \mathbf{v}_j$:
            # `[batch, out_caps, in_caps, out_d]` $\times$ `[batch, out_caps, out_d, 1]`.
            # The last iteration has no use for new logits.
            if not is_last:
                b = b + (u_hat_now @ v.unsqueeze(-1)).squeeze(-1)
        return v, couplings

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        """
        * `u` is the output of the lower capsules, `[batch, in_caps, in_d]`

        Returns $\\mathbf{v}$, the output of the upper capsules, `[batch, out_caps, out_d]`.
        """
        v, _ = self.route(u)
        return v


class MarginLoss(nn.Module):
    r"""
    ## Margin loss

    The length of digit capsule $k$ is the probability that digit $k$ is present. Each capsule
    has a loss of its own, so that more than one digit could be present in an image:

    $$\mathcal{L}_k = T_k \max(0, m^{+} - \lVert\mathbf{v}_k\rVert)^2 +
     \lambda (1 - T_k) \max(0, \lVert\mathbf{v}_k\rVert - m^{-})^2$$

    $T_k = 1$ when digit $k$ is present and $0$ otherwise. The capsule of a present digit is
    pushed to a length of at least $m^{+} = 0.9$, the others to at most $m^{-} = 0.1$, and
    $\lambda = 0.5$ keeps the absent digits from shrinking all capsules early in training.

    Both terms are **squared**: without the squares the gradient has the same size however close
    a length is to its margin, and the loss is no longer the paper's.

    The total is $\sum_k \mathcal{L}_k$ for each image, averaged over the batch.
    """

    def __init__(self, *, n_labels: int, lambda_: float = 0.5, m_positive: float = 0.9,
                 m_negative: float = 0.1):
        """
        * `n_labels` is the number of classes, $10$ digits
        * `lambda_`, `m_positive` and `m_negative` are $\\lambda$, $m^{+}$ and $m^{-}$
        """
        super().__init__()
        self.n_labels = n_labels
        self.lambda_ = lambda_
        self.m_positive = m_positive
        self.m_negative = m_negative

    def forward(self, v: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """
        * `v` is the output of the digit capsules, `[batch, n_labels, out_d]`
        * `labels` are the true classes, `[batch]`, or `[batch, digits]` when each image holds
          several digits: $T_k = 1$ for each of them (MultiMNIST has two)

        Returns the loss, a scalar.
        """
        # $\lVert\mathbf{v}_k\rVert$, `[batch, n_labels]`, in 32-bit floats
        lengths = v.float().norm(dim=-1)
        # $T_k$, `[batch, n_labels]`: one for each digit in the image
        present = F.one_hot(labels, self.n_labels).float()
        if labels.dim() == 2:
            present = present.amax(dim=1)
        # $$\mathcal{L}_k = T_k \max(0, m^{+} - \lVert\mathbf{v}_k\rVert)^2 +
        #  \lambda (1 - T_k) \max(0, \lVert\mathbf{v}_k\rVert - m^{-})^2$$
        loss = (present * F.relu(self.m_positive - lengths) ** 2 +
                self.lambda_ * (1 - present) * F.relu(lengths - self.m_negative) ** 2)
        # $\sum_k \mathcal{L}_k$, averaged over the batch
        return loss.sum(dim=-1).mean()
