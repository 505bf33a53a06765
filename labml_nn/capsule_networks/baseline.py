r"""
---
title: The paper's baseline CNN
summary: >
  The convolutional network that Dynamic Routing Between Capsules compares its CapsNet with:
  three convolutions, two fully connected layers, dropout, a 10-way output.
---

# The paper's baseline CNN

Section 5 of [Dynamic Routing Between Capsules](https://arxiv.org/abs/1710.09829) measures the
CapsNet against a standard CNN: three convolutional layers of $256$, $256$ and $128$ channels,
each with $5 \times 5$ kernels and a stride of $1$, then two fully connected layers of $328$ and
$192$ units, the last one "connected with dropout" to a $10$-class softmax trained with
cross-entropy. It reaches $0.39\%$ test error on MNIST (Table 1), against the CapsNet's
$0.25\%$, and the paper gives its size: $35.4$M parameters, against the CapsNet's $8.2$M.

### What the paper leaves out, and what its parameter count says

The paper gives neither the convolutions' padding nor any pooling. Its parameter count settles
both. Convolutions padded to keep the $28 \times 28$ size, with no pooling, leave
$128 \cdot 28 \cdot 28 = 100{,}352$ numbers for the first fully connected layer, and the network
then has

$$\begin{aligned}
 &\underbrace{6{,}656 + 1{,}638{,}656 + 819{,}328}_{\text{convolutions}}
 + \underbrace{32{,}915{,}784}_{100{,}352 \to 328} \\
 &+ \underbrace{63{,}168}_{328 \to 192} + \underbrace{1{,}930}_{192 \to 10} = 35{,}445{,}522
\end{aligned}$$

parameters: the paper's $35.4$M. Any $2 \times 2$ pooling with a stride of $2$ would divide the
first fully connected layer by four at least, to $10.8$M parameters in all at most; unpadded
convolutions leave $16 \times 16$ maps, $13.3$M in all. So this baseline pads and does not pool.

Section 5.2 describes the network it compares with on affine transformations as a "traditional
convolutional network (with MaxPooling and DropOut)" with "a similar number of parameters" to the
CapsNet's, and says no more about it. Without its layers we use this same baseline there, and
the authors' released code does not settle it either: its baseline (`models/conv_model.py` in
[their code](https://github.com/Sarasra/models/tree/master/research/capsules)) has two
convolutions of $512$ and $256$ channels with $2 \times 2$ pooling and a hidden layer of $1024$
units, neither section's network.

The other choices, ours:

* **ReLU** after every convolution and both hidden layers, as in a "standard CNN";
* **dropout** with probability $0.5$ on the $192$ units feeding the output layer, where the
  paper puts it ("connected with dropout"), and nowhere else;
* **the output**: ten logits. On MNIST and its affine variants, a softmax with cross-entropy
  ([`single_digit_losses`](#the-loss-for-one-digit)); for two digits at once, a sigmoid per
  class ([MultiMNIST](multi_mnist.html#the-baselines-loss)).

### On larger images

The layers are the same on every input size and the first fully connected layer grows with the
image: $36 \times 36$ MultiMNIST canvases give $128 \cdot 36 \cdot 36 = 165{,}888$ numbers to it
and $56{,}941{,}330$ parameters in all, $40 \times 40$ canvases $69{,}704{,}466$.

It is not a cheap network to run either: at $28 \times 28$, the second convolution alone is
$256 \cdot 256 \cdot 25 \cdot 784 = 1.28$ billion multiply-adds per image, where the CapsNet's
two convolutions together are $0.20$ billion.
"""

from typing import Callable, Dict, Optional

import torch
import torch.nn.functional as F
from torch import nn


class BaselineCNN(nn.Module):
    """
    ## The baseline

    Three convolutions of $5 \\times 5$ kernels with stride $1$, padded by $2$ so that each keeps
    the image's size, then fully connected layers of $328$ and $192$ units and a $10$-way output,
    with dropout before it.
    """

    def __init__(self, image_size: int = 28, n_labels: int = 10, dropout: float = 0.5):
        """
        * `image_size` is the side of the square input images: $28$ for MNIST, $36$ for
          MultiMNIST, $40$ for the affine experiment
        * `n_labels` is the number of classes
        * `dropout` is the probability of dropping each of the $192$ units before the output
        """
        super().__init__()
        # `[batch, 1, size, size]` $\to$ `[batch, 256, size, size]`
        self.conv1 = nn.Conv2d(1, 256, kernel_size=5, stride=1, padding=2)
        # `[batch, 256, size, size]` $\to$ `[batch, 256, size, size]`
        self.conv2 = nn.Conv2d(256, 256, kernel_size=5, stride=1, padding=2)
        # `[batch, 256, size, size]` $\to$ `[batch, 128, size, size]`
        self.conv3 = nn.Conv2d(256, 128, kernel_size=5, stride=1, padding=2)
        # $128 \cdot \text{size}^2 \to 328 \to 192$
        self.fc1 = nn.Linear(128 * image_size ** 2, 328)
        self.fc2 = nn.Linear(328, 192)
        self.dropout = nn.Dropout(dropout)
        # $192 \to 10$: the logits
        self.output = nn.Linear(192, n_labels)

    def forward(self, images: torch.Tensor, labels: Optional[torch.Tensor] = None) -> torch.Tensor:
        """
        * `images` are `[batch, 1, size, size]`, pixels in $[0, 1]$
        * `labels` are taken for the same call as the CapsNet's and not used: nothing in a CNN
          depends on them

        Returns the logits, `[batch, 10]`.
        """
        # `[batch, 128, size, size]`
        x = F.relu(self.conv1(images))
        x = F.relu(self.conv2(x))
        x = F.relu(self.conv3(x))
        # `[batch, 192]`
        x = F.relu(self.fc1(x.flatten(1)))
        x = F.relu(self.fc2(x))
        # `[batch, 10]`, with dropout on its input while training
        return self.output(self.dropout(x))


def single_digit_losses(model: Callable, images: torch.Tensor,
                        labels: torch.Tensor) -> Dict[str, torch.Tensor]:
    """
    ## The loss for one digit

    Softmax cross-entropy over the ten classes, averaged over the batch, and the predictions,
    the class of the largest logit, `[batch]`.

    * `model` is the baseline, or its compiled version
    * `images` are `[batch, 1, size, size]` and `labels` `[batch]`
    """
    logits = model(images).float()
    return {'loss': F.cross_entropy(logits, labels), 'predictions': logits.argmax(dim=-1)}
