"""
---
title: The benchmark runner for this project's CapsNet
summary: Trains the tutorial's experiment, at its defaults, under the benchmark's clock.
---

# The benchmark runner for this project's CapsNet

The other half of [the benchmark](index.html), beside [the anchor's runner](anchor.html). It trains
the [MNIST experiment](../labml_nn/capsule_networks/mnist.html) exactly as
`python -m labml_nn.capsule_networks.mnist` does: the same `Configs`, so the same data on the
device, the same shift augmentation, schedule, precision and compilation, and the same `step`.
Only the options of the runner contract are passed on as configs; everything else stays at the
experiment's defaults.

* `--batch-size`, `--precision` and `--device` become `batch_size`, `precision` and `device`;
* `--epochs` becomes `epochs`, so that the one-cycle schedule spans the run being timed;
* `--train-images` and `--test-images` become `train_subset` and `valid_subset`.

No labml experiment is created: nothing is tracked or written, so the clock sees training alone.
"""

import sys
from pathlib import Path

import torch

# The project's root, for `labml_nn` and `bench`, when started as `python bench/ours.py`
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import measure  # noqa: E402
from labml_nn.capsule_networks.mnist import Configs  # noqa: E402

# The precisions the experiment knows; `auto` (its default) comes first.
PRECISIONS = ('auto', 'fp32', 'tf32', 'bf16')


class OursRunner:
    """
    ## The experiment, step by step

    The members that [`measure`](measure.html) asks of a runner.
    """

    name = 'ours'

    def __init__(self, args, device: torch.device):
        self.conf = Configs()
        overrides = {'device': device.type, 'batch_size': args.batch_size,
                     'precision': args.precision, 'seed': args.seed,
                     'data_path': str(Path(args.data).resolve())}
        if args.mode == 'accuracy':
            overrides['epochs'] = args.epochs
        if args.train_images:
            overrides['train_subset'] = args.train_images
        if args.test_images:
            overrides['valid_subset'] = args.test_images
        for key, value in overrides.items():
            setattr(self.conf, key, value)
        # Everything with state is made now, before the first timed step, as in the training loop
        self.conf.stateful()
        # The model as the step calls it, compiled or not
        self.model = self.conf.forward
        self.batch_size = args.batch_size
        self.train_size = len(self.conf.train_data[1]) // args.batch_size * args.batch_size
        self.notes = [
            f'The experiment\'s own configs and step: precision={self.conf.precision}, '
            f'compile={self.conf.compile} '
            f'({"compiled" if self.model is not self.conf.model else "not compiled"}), '
            f'schedule {type(self.conf.schedule).__name__}, data on the device, '
            f'shifts of up to {self.conf.max_shift} pixels.',
        ]

    def train_batches(self):
        """
        One shuffled, shifted epoch; a last, smaller batch is left out.
        """
        return self.conf.train_batches()

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """
        The experiment's training step; returns the batch's loss, which the step sums.
        """
        return self.conf.step((images, labels), True)['loss'].detach() / len(labels)

    @torch.no_grad()
    def test_accuracy(self) -> float:
        """
        The percentage of test images whose longest digit capsule is their label.
        """
        correct = sum(self.conf.step(batch, False)['accuracy']
                      for batch in self.conf.valid_batches())
        return 100 * correct.item() / len(self.conf.valid_data[1])


# `python bench/ours.py --mode throughput|accuracy [options]`
if __name__ == '__main__':
    measure.main(OursRunner, default_batch_size=Configs.batch_size.value, precisions=PRECISIONS)
