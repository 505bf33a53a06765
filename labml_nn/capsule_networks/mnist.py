r"""
---
title: Classify MNIST digits with Capsule Networks
summary: >
  The CapsNet of Dynamic Routing Between Capsules trained on MNIST with labml - the model, its
  losses, its configs and its training step.
---

# Classify MNIST digits with Capsule Networks

This is the experiment of
[Dynamic Routing Between Capsules](https://arxiv.org/abs/1710.09829): the paper's three-layer
CapsNet with its reconstruction decoder, trained on MNIST, built from the
[capsule layers](index.html).

```bash
# The full run, 30 epochs, on the GPU if there is one
python -m labml_nn.capsule_networks.mnist
# A short run: about 2 minutes on a 2-core CPU
python -m labml_nn.capsule_networks.mnist epochs=1 \
    train_subset=4096 valid_subset=1000 \
    batch_size=64 learning_rate=1e-3
# The paper's baseline CNN instead, on the same data
python -m labml_nn.capsule_networks.mnist model=baseline
# Every config and its default
python -m labml_nn.capsule_networks.mnist --help
# The run of the pictures, on a CPU, an hour at a time: paused, then continued until it ends
python -m labml_nn.capsule_networks.mnist --pause-after 3600 device=cpu epochs=5 \
    batch_size=128 learning_rate=1e-3 curve_start=1024
python -m labml_nn.capsule_networks.mnist --resume <run> --pause-after 3600
# Test a run's checkpoint
python -m labml_nn.capsule_networks.mnist --evaluate <run>
# The pictures of a run, into its folder's figures/
python -m labml_nn.capsule_networks.figures <run>
```

Each run is tracked with [labml](https://github.com/labmlai/labml) in
`logs/capsule_network_mnist/<uuid>/`: its configs in `configs.yaml`, the metrics of each
validation in `log.jsonl` (at the end of each epoch, and where `valid_every` and `curve_start`
ask), a checkpoint at each in `checkpoint.pt`, and at the end `reconstructions.png`, test digits
above their reconstructions. `<run>` is a run's UUID, its
folder or its checkpoint file. The command line is [the same for every
experiment](../helpers/runner.html). [The pictures](figures.html) show what a trained run does,
and [the notebook](notebook.html) trains a small one and draws them.

The model is the paper's, to the parameter: $8{,}215{,}568$ in all, $6{,}804{,}224$ without the
decoder. What differs from the paper is how it is trained (the batch size, the learning-rate
schedule, the precision), and each of these choices is explained where it is made.
`model=baseline` trains [the paper's baseline CNN](baseline.html) instead, with the same data,
shifts, optimizer and schedule, and its own loss.

The 10,000 MNIST test images serve as the validation set, as in the paper, which reports
accuracy on the test set. No hyperparameter search was run against them: a few short runs only
checked that training is stable at the defaults.
"""

import sys
from functools import partial
from pathlib import Path
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from labml.configs import option
from torch import nn

from labml_nn.capsule_networks import MarginLoss, Router, Squash
from labml_nn.capsule_networks.baseline import BaselineCNN, single_digit_losses
from labml_nn.capsule_networks.canvas import place
from labml_nn.capsule_networks.reconstructions import save_reconstructions
from labml_nn.helpers import compiler, distributed
from labml_nn.helpers.batches import DeviceBatches
from labml_nn.helpers.configs import ConfigError, OneOf, Range
from labml_nn.helpers.data import MNISTConfigs
from labml_nn.helpers.precision import choose as choose_precision
from labml_nn.helpers.runner import Experiment
from labml_nn.helpers.strided_convolution import replace_strided_convolutions

# The name of the experiment, and of its folder under `logs/`
EXPERIMENT_NAME = 'capsule_network_mnist'


class MNISTCapsuleNetworkModel(nn.Module):
    """
    ## The CapsNet

    Three layers and a decoder (Figures 1 and 2 of the paper), with the shape of each tensor
    for a batch of one digit ([how it is drawn](figures.html#architecture)):

    ![The CapsNet's layers and decoder, with the shape of each tensor](images/architecture.png)

    1. **Conv1**: $256$ convolution kernels of $9 \\times 9$, stride $1$, ReLU:
       a $28 \\times 28$ digit becomes $256$ maps of $20 \\times 20$.
    2. **PrimaryCaps**: a convolution of $32 \\times 8$ kernels of $9 \\times 9$, stride $2$,
       read as $32$ maps of $6 \\times 6$ capsules of $8$ dimensions: $1152$ capsules, squashed.
    3. **DigitCaps**: one $16$-dimensional capsule per digit, routed from the $1152$ primary
       capsules in $3$ iterations.

    The length of a digit capsule is the probability of its digit. The decoder reconstructs the
    image from the digit capsules, all but one masked to zero (see `forward`).

    Larger images give a larger grid of primary capsules and a larger decoder output, and nothing
    else changes: $36 \\times 36$ images (MultiMNIST) give $10 \\times 10$ grids, $3200$ primary
    capsules.
    """

    def __init__(self, routing_iterations: int = 3, gradient_through_routing: bool = True,
                 image_size: int = 28):
        """
        * `routing_iterations` is the number of routing iterations
        * `gradient_through_routing` says whether gradients flow through the inner iterations
          (see [the router](index.html#router))
        * `image_size` is the side of the square input images, $28$ for MNIST
        """
        super().__init__()
        if image_size < 25:
            raise ValueError(f'image_size={image_size} is too small: the two 9x9 convolutions '
                             'need images of at least 25x25 pixels')
        self.image_size = image_size
        # The side of the grid of primary capsules, $(28 - 8 - 9) / 2 + 1 = 6$ for MNIST: each of
        # the two $9 \times 9$ convolutions takes $8$ pixels off, the second then strides by $2$
        self.grid = (image_size - 8 - 9) // 2 + 1
        # Conv1: `[batch, 1, 28, 28]` $\to$ `[batch, 256, 20, 20]`
        self.conv1 = nn.Conv2d(in_channels=1, out_channels=256, kernel_size=9, stride=1)
        # PrimaryCaps: `[batch, 256, 20, 20]` $\to$ `[batch, 32 * 8, 6, 6]`
        self.conv2 = nn.Conv2d(in_channels=256, out_channels=32 * 8, kernel_size=9, stride=2)
        self.squash = Squash()
        # DigitCaps: $32 \cdot 6 \cdot 6 = 1152$ capsules of $8$ dimensions in, $10$ of $16$ out
        self.digit_capsules = Router(in_caps=32 * self.grid ** 2, out_caps=10, in_d=8, out_d=16,
                                     iterations=routing_iterations,
                                     gradient_through_routing=gradient_through_routing)
        # The decoder: three fully connected layers, $160 \to 512 \to 1024 \to 784$, the last with a
        # sigmoid so that each pixel is in $[0, 1]$, like the images.
        self.decoder = nn.Sequential(
            nn.Linear(16 * 10, 512),
            nn.ReLU(),
            nn.Linear(512, 1024),
            nn.ReLU(),
            nn.Linear(1024, image_size ** 2),
            nn.Sigmoid()
        )

    def primary_capsules(self, images: torch.Tensor) -> torch.Tensor:
        """
        The $1152$ primary capsules of `images`, `[batch, 1, 28, 28]`.

        Returns `[batch, 1152, 8]`.
        """
        batch_size = images.shape[0]
        # `[batch, 256, 20, 20]`
        x = F.relu(self.conv1(images))
        # `[batch, 32 * 8, 6, 6]`
        x = self.conv2(x)
        # Channel $8m + d$ of the convolution is dimension $d$ of the capsules of map $m$:
        # `[batch, 32, 8, 6, 6]`, then the $8$ dimensions last, `[batch, 32, 6, 6, 8]`, and the
        # $32 \cdot 6 \cdot 6$ capsules in a row, `[batch, 1152, 8]`. The paper has no ReLU here:
        # the squash is the capsules' non-linearity.
        x = x.view(batch_size, 32, 8, self.grid, self.grid).permute(0, 1, 3, 4, 2)
        x = x.reshape(batch_size, 32 * self.grid ** 2, 8)
        return self.squash(x)

    def decode(self, digit_capsules: torch.Tensor, mask_labels: torch.Tensor) -> torch.Tensor:
        """
        Reconstruct the images from the capsule of `mask_labels`, `[batch]`, the others masked
        to zero.

        * `digit_capsules` is `[batch, 10, 16]`

        Returns `[batch, 784]`, pixels in $[0, 1]$.

        Since the decoder sees a single capsule, it has to read the digit's pose (its position,
        thickness, skew...) from the capsule's $16$ dimensions. Changing one of them and decoding
        shows what it has come to encode: [Figure 4 of the paper, redrawn from a trained
        run](figures.html#perturbations).
        """
        # `[batch, 10, 1]`: one for the kept capsule, zero for the others
        mask = F.one_hot(mask_labels, 10).unsqueeze(-1).to(digit_capsules.dtype)
        # `[batch, 160]`
        return self.decoder((digit_capsules * mask).flatten(1))

    def forward(self, images: torch.Tensor, labels: Optional[torch.Tensor] = None):
        """
        * `images` are `[batch, 1, 28, 28]`, pixels in $[0, 1]$
        * `labels`, `[batch]`, are given during training only

        Returns the digit capsules `[batch, 10, 16]`, the reconstructions `[batch, 784]` and the
        predictions `[batch]`.

        **Which capsule the decoder sees.** During training the decoder reconstructs from the
        capsule of the *true* label: it learns to decode a digit's capsule into that digit, which
        in turn makes the capsule encode the digit's pose. At evaluation, with no labels, it
        decodes the *predicted* digit's capsule. Masking by the prediction during training as well,
        a common slip, makes the decoder learn to draw the wrong digit whenever the network is
        wrong. [The reconstructions of a trained run](reconstructions.html) show both.
        """
        # `[batch, 10, 16]`
        digit_capsules = self.digit_capsules(self.primary_capsules(images))
        # The predicted digit is the longest capsule, `[batch]`
        predictions = digit_capsules.norm(dim=-1).argmax(dim=-1)
        reconstructions = self.decode(digit_capsules, labels if labels is not None else predictions)
        return digit_capsules, reconstructions, predictions


def random_shift(images: torch.Tensor, generator: torch.Generator,
                 max_shift: int = 2) -> torch.Tensor:
    """
    ## Data augmentation

    "Training is performed on 28x28 MNIST images that have been shifted by up to 2 pixels in each
    direction with zero padding." Each image of the batch gets its own shift, drawn uniformly from
    $\\{-2, \\dots, 2\\}$ on each axis: it is
    [placed on a canvas](canvas.html#placing-digits-on-a-canvas) of its own size, its top-left
    corner there, and whatever leaves the canvas is cut.

    * `images` are `[batch, 1, 28, 28]`
    * `generator` draws the shifts
    * `max_shift` is the largest shift in pixels, $2$ in the paper

    Returns the shifted images, the same shape.
    """
    if max_shift == 0:
        return images
    batch_size, _, height, _ = images.shape
    # The top-left corners, `[batch]` each, rows then columns, in $\\{-2, \\dots, 2\\}$
    top, left = (max_shift - torch.randint(0, 2 * max_shift + 1, (batch_size,), generator=generator,
                                           device=images.device) for _ in range(2))
    return place(images[:, 0], top, left, height, margin=max_shift).unsqueeze(1)


# The margin loss with the paper's $m^{+} = 0.9$, $m^{-} = 0.1$, $\lambda = 0.5$
MARGIN_LOSS = MarginLoss(n_labels=10)


def summed_metrics(out: Dict[str, torch.Tensor], correct: torch.Tensor) -> Dict[str, torch.Tensor]:
    """
    The sums a training loop tracks, from the output of a model's losses: each loss summed over
    the batch, the number of `correct` examples (`[batch]`, booleans) under `accuracy`, and the
    number of examples under `samples`.
    """
    batch_size = correct.shape[0]
    sums = {key: value * batch_size for key, value in out.items() if key.endswith('loss')}
    sums['accuracy'] = correct.sum()
    sums['samples'] = batch_size
    return sums


class Configs(MNISTConfigs):
    r"""
    ## Configurations

    Every config below can be set on the command line as `key=value`; the defaults are the
    paper's where the paper gives one. Those of every experiment (the device, the seed, when to
    validate) and of its data (the MNIST folder, subsets for short runs) are
    [the helpers'](../helpers/data.html).

    ### How it is trained, and why it differs from the paper

    The paper trains with Adam at a learning rate of $10^{-3}$ with an exponential decay, and
    doesn't state the batch size. Here the model, the losses and the data are the paper's, but
    the training is set up to reach its accuracy in far fewer steps:

    * **A batch of 512** images keeps a GPU busy; a step costs little more than a step of 64.
    * **A one-cycle learning-rate schedule**: the learning rate rises from $\frac{1}{25}$ of its
      peak to the peak, $3 \cdot 10^{-3}$, over the first 20% of the steps, then falls along a
      cosine to almost zero. The large batch makes fewer, less noisy steps, so it can take larger
      ones; the warm-up keeps them from breaking the routing at the start, when the weights are
      small; the final decay settles the weights into a minimum. Adam's $\beta_1$ stays at $0.9$.
    * **bfloat16 where the hardware computes in it** (GPUs, and CPUs with AVX-512 BF16 or AMX):
      the convolutions and matrix products run in bfloat16 under autocast; the squash, the routing
      logits and the losses in 32-bit floats ([see the squash](index.html#squash)).
    * **Channels-last memory layout** for the convolutions, the layout that cuDNN's and oneDNN's
      fastest kernels read.
    * **`torch.compile`** fuses the many small element-wise operations of the routing into a few
      kernels. The first steps wait for the compiler, about 10 to 20 seconds.

    `schedule=constant batch_size=64 precision=fp32` trains as the capsule network tutorial of
    labml-nn 0.5.1 ([nn.labml.ai](https://nn.labml.ai/capsule_networks/mnist.html)) does.
    """
    # The largest random shift of a training image, in pixels (the paper: $2$)
    max_shift: int = 2

    # The number of routing iterations (the paper: $3$)
    routing_iterations: int = 3
    # Whether gradients flow through the inner routing iterations, as in the authors' code
    gradient_through_routing: bool = True
    # The weight of the reconstruction loss (the paper: $0.0005$)
    reconstruction_weight: float = 0.0005

    epochs: int = 30
    # Stop after the first record that takes the training time past this many seconds, `0` for
    # no limit: two models given the same budget are compared at the same cost
    time_budget: float = 0.0
    batch_size: int = 512
    # Adam's learning rate; the peak of the one-cycle schedule
    learning_rate: float = 3e-3
    # The learning-rate schedule: `one_cycle`, or `constant` as in labml-nn 0.5.1
    schedule: torch.optim.lr_scheduler.LRScheduler = 'one_cycle'
    # The fraction of the steps over which the one-cycle schedule warms up
    warmup: float = 0.2
    # The [precision](../helpers/precision.html) of the convolutions and matrix products: `auto`
    # (bfloat16 where the hardware computes in it), `fp32`, `tf32` or `bf16`
    precision: str = 'auto'
    # Whether to [compile](../helpers/compiler.html) the model: `auto` (wherever the compiler can
    # run), `on` or `off`
    compile: str = 'auto'

    # The valid values of the configs above, checked [before any work](../helpers/configs.html).
    # A digit lies in a $20 \times 20$ box at the centre of the $28 \times 28$ canvas, so a shift
    # of more than $4$ pixels would push part of every digit off it.
    _valid = {'max_shift': Range(0, 4), 'routing_iterations': Range(1),
              'reconstruction_weight': Range(0), 'batch_size': Range(1),
              'learning_rate': Range(0, above=True), 'warmup': Range(0, 1, below=True),
              'time_budget': Range(0), 'precision': OneOf('auto', 'fp32', 'tf32', 'bf16'),
              'compile': OneOf('auto', 'on', 'off')}

    # The model, one of the options below: `capsnet` (the default) or `baseline`, the paper's
    # baseline CNN; and its optimizer
    model: nn.Module
    optimizer: torch.optim.Optimizer
    # The model as the steps call it: wrapped for torchrun, and compiled or not
    forward: nn.Module

    def capsule_network(self) -> nn.Module:
        """
        The CapsNet of `model=capsnet`, for MNIST's $28 \\times 28$ digits.
        """
        return MNISTCapsuleNetworkModel(self.routing_iterations, self.gradient_through_routing)

    def baseline(self) -> nn.Module:
        """
        The baseline CNN of `model=baseline`.
        """
        return BaselineCNN(image_size=28)

    def train_batches(self):
        images, labels = self.train_data
        # Shifted as in the paper. A last, smaller batch is left out, a different one each epoch,
        # so that every step has the same shape: a compiled model would otherwise be compiled
        # again for it.
        return DeviceBatches(images, labels, self.batch_size, generator=self.generator,
                             shuffle=True, augment=partial(random_shift, max_shift=self.max_shift),
                             drop_last=True)

    def valid_batches(self):
        images, labels = self.valid_data
        return DeviceBatches(images, labels, self.batch_size, generator=self.generator,
                             shuffle=False)

    def losses(self, batch: Tuple[torch.Tensor, torch.Tensor],
               is_train: bool) -> Dict[str, torch.Tensor]:
        """
        ### The loss

        The margin loss of the digit capsules plus the reconstruction loss, each averaged over the
        batch, of the `(images, labels)` of `batch`. Returns both, their weighted sum under
        `loss`, and the predictions. The baseline has its own loss, a softmax cross-entropy
        ([`single_digit_losses`](baseline.html#the-loss-for-one-digit)).

        The reconstruction loss is the **sum** of squared errors over the $784$ pixels, against
        the image in $[0, 1]$, scaled by $0.0005$ "so that it does not dominate the margin loss".
        A mean over the pixels instead, as `MSELoss` computes, shrinks it $784$ times more; against
        a normalised image, the sigmoid could not even reach the target.
        """
        images, labels = batch
        if isinstance(self.model, BaselineCNN):
            return single_digit_losses(self.forward, images, labels)
        digit_capsules, reconstructions, predictions = self.forward(
            images, labels if is_train else None)
        margin = MARGIN_LOSS(digit_capsules, labels)
        # $\sum_{p=1}^{784} (\hat{x}_p - x_p)^2$ for each image, averaged over the batch
        reconstruction = ((reconstructions.float() - images.flatten(1)) ** 2).sum(dim=-1).mean()
        return {'loss': margin + self.reconstruction_weight * reconstruction,
                'margin_loss': margin, 'reconstruction_loss': reconstruction,
                'predictions': predictions}

    def reached_goal(self, values: Dict[str, float]) -> bool:
        """
        Whether the training time has passed the `time_budget`.
        """
        return 0 < self.time_budget <= values['time.train']

    def correct(self, predictions: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """
        Whether each prediction is right, `[batch]`.
        """
        return predictions == labels

    def step(self, batch, is_train: bool):
        """
        One step: the losses, an update when training, and the sums the loop tracks. A batch's
        labels come second, after its images.
        """
        self.model.train(is_train)
        precision = choose_precision(self.precision, self.device)
        # The precision's TF32 flags, global to PyTorch, hold for this step's forward and backward
        # pass and are put back after it ([why](../helpers/precision.html)); the losses are
        # computed in 32-bit floats under autocast, which leaves them so
        with precision.scope():
            with precision.autocast(self.device):
                out = self.losses(batch, is_train)
            if is_train:
                self.optimizer.zero_grad(set_to_none=True)
                out['loss'].backward()
                self.optimizer.step()
                self.schedule.step()
        return summed_metrics(out, self.correct(out['predictions'], batch[1]))

    def stateful(self):
        return {'model': self.model, 'optimizer': self.optimizer, 'schedule': self.schedule,
                'generator': self.generator}

    def save_results(self, run_path: Path):
        """
        Every run of the CapsNet ends with [its reconstructions](reconstructions.html) of the
        first validation digits, in `reconstructions.png`.
        """
        if isinstance(self.model, MNISTCapsuleNetworkModel):
            save_reconstructions(self.model, self.valid_data, run_path / 'reconstructions.png')


def _placed(c: Configs, model: nn.Module) -> nn.Module:
    """
    The model on the device, in the channels-last layout, its strided convolutions
    [quicker to train on a CPU](../helpers/strided_convolution.html).
    """
    return replace_strided_convolutions(model.to(c.device, memory_format=torch.channels_last))


@option(Configs.model, 'capsnet')
def _capsule_network(c: Configs):
    """
    The CapsNet, its weights drawn from the seed.
    """
    torch.manual_seed(c.seed)
    return _placed(c, c.capsule_network())


@option(Configs.model, 'baseline')
def _baseline(c: Configs):
    """
    The baseline CNN, its weights drawn from the seed.
    """
    torch.manual_seed(c.seed)
    return _placed(c, c.baseline())


@option(Configs.optimizer, 'adam')
def _adam(c: Configs):
    """
    Adam, as in the paper, with PyTorch's defaults for $\\beta_1, \\beta_2, \\epsilon$. The fused
    implementation updates all parameters in one pass, on a GPU in one kernel.
    """
    return torch.optim.Adam(c.model.parameters(), lr=c.learning_rate, fused=True)


@option(Configs.schedule, 'one_cycle')
def _one_cycle(c: Configs):
    total_steps = c.epochs * len(c.train_batches())
    # PyTorch's schedule divides by the warm-up's length less one step
    if c.warmup * total_steps == 1:
        raise ConfigError(f'warmup={c.warmup} of {total_steps} steps is exactly one step, which '
                          "PyTorch's one-cycle schedule can't take; give another warmup, such as "
                          'warmup=0 for none')
    return torch.optim.lr_scheduler.OneCycleLR(
        c.optimizer, max_lr=c.learning_rate, total_steps=total_steps,
        pct_start=c.warmup, anneal_strategy='cos', cycle_momentum=False)


@option(Configs.schedule, 'constant')
def _constant(c: Configs):
    return torch.optim.lr_scheduler.ConstantLR(c.optimizer, factor=1.0, total_iters=0)


@option(Configs.forward)
def _forward(c: Configs):
    """
    Under [torchrun](../helpers/distributed.html) the model is wrapped for the processes to
    average their gradients, before it is compiled.
    """
    model = distributed.wrap(c.model)
    return torch.compile(model) if compiler.wanted(c.compile, c.device) else model


# The command line: train, `--resume`, `--evaluate` and `--help`, run by
# [the runner](../helpers/runner.html) as for every experiment
EXPERIMENT = Experiment(Configs, name=EXPERIMENT_NAME,
                        command='python -m labml_nn.capsule_networks.mnist',
                        about='Trains the CapsNet of "Dynamic Routing Between Capsules" on MNIST.')
main = EXPERIMENT.main

if __name__ == '__main__':
    EXPERIMENT.run(sys.argv[1:])
