"""
---
title: Classify MNIST digits with Capsule Networks
summary: The CapsNet of Dynamic Routing Between Capsules, trained on MNIST with labml, checked against the paper.
---

# Classify MNIST digits with Capsule Networks

This is the experiment of
[Dynamic Routing Between Capsules](https://arxiv.org/abs/1710.09829): the paper's three-layer
CapsNet with its reconstruction decoder, trained on MNIST, built from the
[capsule layers](index.html).

```bash
python -m labml_nn.capsule_networks.mnist                    # the full run, on the GPU if there is one
python -m labml_nn.capsule_networks.mnist --help             # every config and its default
python -m labml_nn.capsule_networks.mnist epochs=1 train_subset=4096 batch_size=64 learning_rate=1e-3   # a minute on a CPU
python -m labml_nn.capsule_networks.mnist --resume <run uuid>      # continue an interrupted run
python -m labml_nn.capsule_networks.mnist --evaluate <run uuid>    # test accuracy of a checkpoint
python -m labml_nn.capsule_networks.figures <run uuid>             # the pictures of a run
```

Each run is tracked with [labml](https://github.com/labmlai/labml) in `logs/capsule_network_mnist/<uuid>/`:
its configs in `configs.yaml`, the metrics of each epoch in `log.jsonl`, a checkpoint after each
epoch in `checkpoint.pt`, and at the end `reconstructions.png`, test digits beside their
reconstructions. [The pictures](figures.html) in these notes are drawn from such a run, and
[the notebook](mnist.ipynb) trains a small one and draws them.

The model is the paper's, to the parameter: $8{,}215{,}568$ in all, $6{,}804{,}224$ without the
decoder. What differs from the paper is how it is trained (the batch size, the learning-rate
schedule, the precision), and each of these choices is explained where it is made.

The 10,000 MNIST test images serve as the validation set, as in the paper, which reports
accuracy on the test set. No hyperparameter search was run against them: a few short runs only
checked that training is stable at the defaults.
"""

import os
import shutil
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from labml import experiment, lab, logger
from labml.logger import Text
from labml.configs import option
from torch import nn

from labml_nn.capsule_networks import MarginLoss, Router, Squash
from labml_nn.helpers import checkpoint, mnist
from labml_nn.helpers.configs import ConfigError, describe, parse_arguments
from labml_nn.helpers.trainer import TrainValidConfigs, run_epoch, train
from labml_nn.helpers.mnist import MNISTDataError

# The name of the experiment, and of its folder under `logs/`
EXPERIMENT_NAME = 'capsule_network_mnist'


class MNISTCapsuleNetworkModel(nn.Module):
    """
    ## The CapsNet

    Three layers and a decoder (Figure 1 and 2 of the paper):

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

        Since the decoder sees a single capsule, it has to read the digit's pose from the
        capsule's $16$ dimensions. Changing one of them and decoding shows what it has come to
        encode, as in Figure 4 of the paper: one row per dimension, perturbed by
        $-0.25, -0.20, \\dots, 0.25$ ([how it is drawn](figures.html#perturbations)).

        ![Each dimension of a digit capsule perturbed, decoded](images/perturbations.png)
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
        wrong.

        ![Test digits and their reconstructions](images/reconstructions.png)

        The first test digits above their reconstructions from the predicted capsule, and on the
        right the first misclassified ones, reconstructed from the capsule of the prediction and
        from that of the label ([how it is drawn](figures.html#reconstructions)).
        """
        # `[batch, 10, 16]`
        digit_capsules = self.digit_capsules(self.primary_capsules(images))
        # The predicted digit is the longest capsule, `[batch]`
        predictions = digit_capsules.norm(dim=-1).argmax(dim=-1)
        reconstructions = self.decode(digit_capsules, labels if labels is not None else predictions)
        return digit_capsules, reconstructions, predictions


def random_shift(images: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """
    ## Data augmentation

    "Training is performed on 28x28 MNIST images that have been shifted by up to 2 pixels in each
    direction with zero padding." Each image of the batch gets its own shift, drawn uniformly from
    $\\{-2, \\dots, 2\\}$ on each axis, and the whole batch is shifted by one indexing operation
    on the device.

    * `images` are `[batch, 1, 28, 28]`
    * `max_shift` is the largest shift in pixels, $2$ in the paper

    Returns the shifted images, the same shape.
    """
    if max_shift == 0:
        return images
    batch_size, _, height, width = images.shape
    # Zero padding on all four sides, `[batch, 1, 28 + 4, 28 + 4]`
    padded = F.pad(images, (max_shift,) * 4)
    # Each image's window into the padded image starts at an offset in $[0, 2 \cdot 2]$; offset $2$
    # is no shift. `[batch, 1]` each
    rows = torch.randint(0, 2 * max_shift + 1, (batch_size, 1), device=images.device, generator=generator)
    columns = torch.randint(0, 2 * max_shift + 1, (batch_size, 1), device=images.device, generator=generator)
    # The rows and columns of each window, `[batch, 28]` each
    rows = rows + torch.arange(height, device=images.device)
    columns = columns + torch.arange(width, device=images.device)
    # Gather every window at once, `[batch, 1, 28, 28]`
    batch_index = torch.arange(batch_size, device=images.device)[:, None, None]
    return padded[batch_index, 0, rows[:, :, None], columns[:, None, :]].unsqueeze(1)


class DeviceBatches:
    """
    ## Batches from the device

    MNIST is small, $47$ MB as bytes, so the whole set lives on the device as `uint8` and a batch
    is cut out of it by indexing: no data loader, no copies from the host at each step. Pixels are
    turned into floats in $[0, 1]$ per batch. They are *not* normalised to zero mean: the
    reconstruction loss compares the decoder's sigmoid output, in $[0, 1]$, with the image, so the
    image has to be in $[0, 1]$ too.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int, *,
                 generator: torch.Generator, shuffle: bool, max_shift: int = 0, drop_last: bool = False):
        """
        * `images`, `[n, 28, 28]` of `uint8`, and `labels`, `[n]`, already on the device
        * `generator` draws the order and the shifts
        * `shuffle` draws a new order at each pass; `max_shift` shifts each image
        * `drop_last` leaves out a last, smaller batch
        """
        self.images, self.labels, self.batch_size = images, labels, batch_size
        self.generator, self.shuffle, self.max_shift = generator, shuffle, max_shift
        self.drop_last = drop_last

    def __len__(self):
        if self.drop_last:
            return len(self.labels) // self.batch_size
        return -(-len(self.labels) // self.batch_size)

    def __iter__(self):
        n = len(self.labels)
        if self.shuffle:
            order = torch.randperm(n, device=self.images.device, generator=self.generator)
        else:
            order = torch.arange(n, device=self.images.device)
        for index in order[:len(self) * self.batch_size].split(self.batch_size):
            # `[batch, 1, 28, 28]` in $[0, 1]$
            images = self.images[index].unsqueeze(1).float() / 255
            yield random_shift(images, self.max_shift, self.generator), self.labels[index]


# The margin loss with the paper's $m^{+} = 0.9$, $m^{-} = 0.1$, $\lambda = 0.5$
MARGIN_LOSS = MarginLoss(n_labels=10)


class Configs(TrainValidConfigs):
    r"""
    ## Configurations

    Every config below can be set on the command line as `key=value`; the defaults are the
    paper's where the paper gives one.

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

    `schedule=constant batch_size=64 precision=fp32` trains as the original tutorial does.

    ### Training curves

    The loss and accuracy of each epoch of the run the pictures of these notes come from, read
    from its `log.jsonl` ([how they are drawn](figures.html#training-curves)); the caption gives
    its number of epochs and its test accuracy.

    ![Training curves](images/training_curves.png)
    """
    # The MNIST folder: the four original files go in `data_path/MNIST/raw/`
    data_path: str = str(mnist.DEFAULT_ROOT)
    # Train on the first `train_subset` training images only (`0` for all 60,000), for short runs
    train_subset: int = 0
    # Validate on the first `valid_subset` test images only (`0` for all 10,000)
    valid_subset: int = 0
    # The largest random shift of a training image, in pixels (the paper: $2$)
    max_shift: int = 2

    # The number of routing iterations (the paper: $3$)
    routing_iterations: int = 3
    # Whether gradients flow through the inner routing iterations, as in the authors' code
    gradient_through_routing: bool = True
    # The weight of the reconstruction loss (the paper: $0.0005$)
    reconstruction_weight: float = 0.0005

    epochs: int = 30
    batch_size: int = 512
    # Adam's learning rate; the peak of the one-cycle schedule
    learning_rate: float = 3e-3
    # The learning-rate schedule: `one_cycle`, or `constant` as in the original tutorial
    schedule: torch.optim.lr_scheduler.LRScheduler = 'one_cycle'
    # The fraction of the steps over which the one-cycle schedule warms up
    warmup: float = 0.2
    # The precision of the convolutions and matrix products: `auto` (bfloat16 on a GPU or on a
    # CPU with native bfloat16 instructions, else 32-bit), `fp32` or `bf16`
    precision: torch.dtype = 'auto'
    # Whether to compile the model with `torch.compile`: `auto` (wherever the compiler can run),
    # `on` or `off`
    compile: bool = 'auto'

    # The model and its optimizer, made by the `@option` functions below
    model: MNISTCapsuleNetworkModel
    optimizer: torch.optim.Optimizer
    # The model as the steps call it: compiled or not
    forward: nn.Module
    # The random generator of the data order and the shifts
    generator: torch.Generator
    # MNIST on the device: training and test images and labels
    train_data: Tuple[torch.Tensor, torch.Tensor]
    valid_data: Tuple[torch.Tensor, torch.Tensor]

    def train_batches(self):
        images, labels = self.train_data
        # A last, smaller batch is left out, a different one each epoch, so that every step has
        # the same shape: a compiled model would otherwise be compiled again for it.
        return DeviceBatches(images, labels, self.batch_size, generator=self.generator,
                             shuffle=True, max_shift=self.max_shift, drop_last=True)

    def valid_batches(self):
        images, labels = self.valid_data
        return DeviceBatches(images, labels, self.batch_size, generator=self.generator, shuffle=False)

    def losses(self, images: torch.Tensor, labels: torch.Tensor, is_train: bool) -> Dict[str, torch.Tensor]:
        """
        ### The loss

        The margin loss of the digit capsules plus the reconstruction loss, each averaged over the
        batch. Returns both, their weighted sum under `loss`, and the predictions.

        The reconstruction loss is the **sum** of squared errors over the $784$ pixels, against
        the image in $[0, 1]$, scaled by $0.0005$ "so that it does not dominate the margin loss".
        A mean over the pixels instead, as `MSELoss` computes, shrinks it $784$ times more; against
        a normalised image, the sigmoid could not even reach the target.
        """
        with torch.autocast(self.device.type, dtype=self.precision, enabled=self.precision != torch.float32):
            digit_capsules, reconstructions, predictions = self.forward(images, labels if is_train else None)
        margin = MARGIN_LOSS(digit_capsules, labels)
        # $\sum_{p=1}^{784} (\hat{x}_p - x_p)^2$ for each image, averaged over the batch
        reconstruction = ((reconstructions.float() - images.flatten(1)) ** 2).sum(dim=-1).mean()
        return {'loss': margin + self.reconstruction_weight * reconstruction,
                'margin_loss': margin, 'reconstruction_loss': reconstruction,
                'predictions': predictions}

    def step(self, batch, is_train: bool):
        """
        One step: the losses, an update when training, and the sums the loop tracks.
        """
        images, labels = batch
        self.model.train(is_train)
        out = self.losses(images, labels, is_train)
        if is_train:
            self.optimizer.zero_grad(set_to_none=True)
            out['loss'].backward()
            self.optimizer.step()
            self.schedule.step()
        batch_size = labels.shape[0]
        return {'loss': out['loss'] * batch_size,
                'margin_loss': out['margin_loss'] * batch_size,
                'reconstruction_loss': out['reconstruction_loss'] * batch_size,
                'accuracy': (out['predictions'] == labels).sum(),
                'samples': batch_size}

    def stateful(self):
        return {'model': self.model, 'optimizer': self.optimizer, 'schedule': self.schedule,
                'generator': self.generator}


@option(Configs.model)
def _capsule_network(c: Configs):
    """
    The CapsNet, its weights drawn from the seed, in the channels-last layout.
    """
    torch.manual_seed(c.seed)
    model = MNISTCapsuleNetworkModel(c.routing_iterations, c.gradient_through_routing)
    return model.to(c.device, memory_format=torch.channels_last)


@option(Configs.optimizer, 'adam')
def _adam(c: Configs):
    """
    Adam, as in the paper, with PyTorch's defaults for $\\beta_1, \\beta_2, \\epsilon$. The fused
    implementation updates all parameters in one pass, on a GPU in one kernel.
    """
    return torch.optim.Adam(c.model.parameters(), lr=c.learning_rate, fused=True)


@option(Configs.schedule, 'one_cycle')
def _one_cycle(c: Configs):
    return torch.optim.lr_scheduler.OneCycleLR(
        c.optimizer, max_lr=c.learning_rate, total_steps=c.epochs * len(c.train_batches()),
        pct_start=c.warmup, anneal_strategy='cos', cycle_momentum=False)


@option(Configs.schedule, 'constant')
def _constant(c: Configs):
    return torch.optim.lr_scheduler.ConstantLR(c.optimizer, factor=1.0, total_iters=0)


@option(Configs.precision, 'auto')
def _auto_precision(c: Configs):
    """
    bfloat16 on a GPU, and on a CPU that computes in bfloat16 natively (AVX-512 BF16 or AMX);
    elsewhere bfloat16 is emulated and slower than 32-bit floats.
    """
    if c.device.type == 'cuda' or torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return torch.bfloat16
    return _fp32(c)


@option(Configs.precision, 'fp32')
def _fp32(c: Configs):
    """
    32-bit floats. On a GPU the matrix products may use TensorFloat-32, which keeps the range of
    32-bit floats with a 10-bit mantissa, as cuDNN's convolutions do by default.
    """
    torch.backends.cuda.matmul.allow_tf32 = True
    return torch.float32


@option(Configs.precision, 'bf16')
def _bf16(c: Configs):
    return torch.bfloat16


@option(Configs.compile, 'auto')
def _auto_compile(c: Configs):
    """
    Compile wherever the compiler can run: it generates Triton kernels on a GPU and C++ on a CPU.
    """
    return _compiler_missing(c.device) is None


def _compiler_missing(device: torch.device) -> Optional[str]:
    """
    What `torch.compile` lacks on `device`, or `None` when it has all it needs.
    """
    if device.type == 'cuda':
        from torch.utils._triton import has_triton
        return None if has_triton() else 'Triton is not installed'
    compiler = os.environ.get('CXX', 'g++')
    return None if shutil.which(compiler) else f'there is no C++ compiler ({compiler})'


@option(Configs.compile, 'on')
def _compile_on(c: Configs):
    return True


@option(Configs.compile, 'off')
def _compile_off(c: Configs):
    return False


@option(Configs.forward)
def _forward(c: Configs):
    """
    The model compiled when `compile` is on. When the compiler can't run here, the model runs as
    it is, with a warning.
    """
    if not c.compile:
        return c.model
    missing = _compiler_missing(c.device)
    if missing is not None:
        logger.log(f'compile=on, but {missing}: running without torch.compile', Text.warning)
        return c.model
    return torch.compile(c.model)


@option(Configs.generator)
def _generator(c: Configs):
    generator = torch.Generator(device=c.device)
    generator.manual_seed(c.seed)
    return generator


def _on_device(c: Configs, train: bool, subset: int):
    """
    The training or test set on the device, the first `subset` images only when `subset > 0`.
    """
    images, labels = mnist.load(Path(c.data_path), train=train)
    if subset > 0:
        images, labels = images[:subset], labels[:subset]
    return images.to(c.device), labels.to(c.device)


@option(Configs.train_data)
def _train_data(c: Configs):
    images, labels = _on_device(c, True, c.train_subset)
    # Training leaves out a last, smaller batch, so it needs one full batch at least
    if len(labels) < c.batch_size:
        raise ConfigError(f'train_subset={c.train_subset} gives {len(labels)} training images, '
                          f'fewer than one batch (batch_size={c.batch_size}); '
                          'use a larger train_subset or a smaller batch_size')
    return images, labels


@option(Configs.valid_data)
def _valid_data(c: Configs):
    return _on_device(c, False, c.valid_subset)


def save_reconstructions(conf: Configs, path: Path, n: int = 10):
    """
    ## Reconstructions

    A PNG of the first `n` test digits (top row) above their reconstructions from the predicted
    capsule (bottom row), written atomically. [The pictures of the tutorial](figures.html) draw
    more, with captions; this one needs nothing beyond torchvision, so every run has it.
    """
    from torchvision.utils import save_image

    images, _ = conf.valid_data
    conf.model.eval()
    with torch.no_grad():
        inputs = images[:n].unsqueeze(1).float() / 255
        _, reconstructions, _ = conf.model(inputs)
    # `[2 * n, 1, 28, 28]`: the digits, then their reconstructions, `n` to a row
    grid = torch.cat([inputs, reconstructions.view(-1, 1, 28, 28)]).float().cpu()
    temporary = path.with_name(f'.{path.name}.tmp')
    save_image(grid, temporary, nrow=n, padding=2, pad_value=0.5, format='png')
    temporary.replace(path)


USAGE = """usage: python -m labml_nn.capsule_networks.mnist [key=value ...]
       python -m labml_nn.capsule_networks.mnist --resume RUN [key=value ...]
       python -m labml_nn.capsule_networks.mnist --evaluate RUN

Trains the CapsNet of "Dynamic Routing Between Capsules" on MNIST, tracked with labml in
logs/capsule_network_mnist/<uuid>/. RUN is a run UUID, a run folder or a checkpoint file.
  --resume RUN     continue RUN from its last checkpoint, in the same run folder,
                   with the configs it was started with
  --evaluate RUN   print the test accuracy of RUN's checkpoint"""


def _parse_command_line(arguments: List[str]) -> Tuple[str, Optional[str], Dict[str, Any]]:
    """
    The mode (`train`, `resume`, `evaluate` or `help`), the run it names, and the overrides.
    """
    if '--help' in arguments or '-h' in arguments:
        return 'help', None, {}
    mode, run = 'train', None
    if arguments and arguments[0] in ('--resume', '--evaluate'):
        if len(arguments) < 2 or '=' in arguments[1]:
            raise ConfigError(f'{arguments[0]} needs a run: a run UUID, a run folder or a checkpoint file')
        mode, run, arguments = arguments[0][2:], arguments[1], arguments[2:]
    flags = [a for a in arguments if a.startswith('-')]
    if flags:
        raise ConfigError(f'Unknown option {flags[0]}. Run with --help for the usage.')
    if mode != 'train' and arguments:
        raise ConfigError(f'A run given to --{mode} keeps the configs it was started with; '
                          f'leave out {" ".join(arguments)}, or start a new run with them.')
    return mode, run, parse_arguments(Configs, arguments)


def _evaluate(run: str):
    """
    Load a run's checkpoint and print its test accuracy, computed by the same validation step as
    during training (same precision, same compiled model). Nothing is recorded.
    """
    path = checkpoint.find(run, EXPERIMENT_NAME)
    state = checkpoint.load(path, torch.device('cpu'))
    conf = Configs()
    experiment.evaluate()
    experiment.configs(conf, state['overrides'])
    conf.model.load_state_dict(state['state']['model'])
    with torch.no_grad():
        metrics = run_epoch(conf, conf.valid_batches(), False, 'Test')
    correct, total = round(metrics['accuracy'] * metrics['samples']), metrics['samples']
    logger.log(f'Test accuracy of {path}: {metrics["accuracy"]:.2%} ({correct:,} of {total:,}), '
               f'after {state["epoch"]} epochs')
    return metrics['accuracy']


def main(arguments: List[str]):
    """
    ## Running it

    Parse the command line first, so a mistake stops the run before any work.
    """
    mode, run, overrides = _parse_command_line(arguments)
    if mode == 'help':
        print(describe(Configs, USAGE))
        return None
    if mode == 'evaluate':
        return _evaluate(run)

    # A resumed run takes the configs it was started with, and writes to the same run folder.
    resume_from, uuid = None, None
    if mode == 'resume':
        path = checkpoint.find(run, EXPERIMENT_NAME)
        resume_from = checkpoint.load(path, torch.device('cpu'))
        overrides = resume_from['overrides']
        uuid = path.parent.name
        checkpoint.reopen(path.parent)

    conf = Configs()
    experiment.create(uuid=uuid, name=EXPERIMENT_NAME, writers={'screen', 'file'})
    experiment.configs(conf, overrides)
    # The data is checked and loaded before the run starts: a missing or corrupt file stops it
    # here, before anything is written.
    _ = conf.train_data, conf.valid_data
    run_path = lab.get_experiments_path() / EXPERIMENT_NAME / experiment.get_uuid()
    train(conf, run_path, overrides, resume_from)
    save_reconstructions(conf, run_path / 'reconstructions.png')
    return run_path


if __name__ == '__main__':
    try:
        main(sys.argv[1:])
    except (ConfigError, MNISTDataError, checkpoint.CheckpointError) as error:
        sys.exit(f'error: {error}')
