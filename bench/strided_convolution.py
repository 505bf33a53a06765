"""
---
title: The strided convolution's backward pass, timed
summary: Training steps of the CapsNet with PyTorch's backward pass of PrimaryCaps' convolution
  and with two forward convolutions, taking turns in one process.
---

# The strided convolution's backward pass, timed

```bash
python -m bench.strided_convolution                      # batches of 64 and 512, 32-bit floats
python -m bench.strided_convolution --batch-sizes 64 --rounds 5
```

Times the experiment's own training step (its configs, compiled where it can be, on the CPU in
32-bit floats) with the PrimaryCaps convolution as
[`StridedConv2d`](../labml_nn/helpers/strided_convolution.html) and as a plain `nn.Conv2d`: two
models of the same weights on the same batches, taking turns for `--rounds` rounds of `--steps`
steps each, so that both share whatever else the machine does. Each is compiled and warmed up
first. It prints the images a second of each round and the median ratio.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labml_nn.capsule_networks.mnist import Configs  # noqa: E402
from labml_nn.helpers.strided_convolution import StridedConv2d  # noqa: E402


def images_per_second(conf: Configs, batches, steps: int) -> float:
    """The images a second of `steps` training steps of `conf` on the next of `batches`."""
    start = time.perf_counter()
    for _ in range(steps):
        conf.step(next(batches), True)
    return steps * conf.batch_size / (time.perf_counter() - start)


def configs(batch_size: int, kind: type) -> Configs:
    """The experiment on the CPU in 32-bit floats, its PrimaryCaps convolution of class `kind`."""
    conf = Configs()
    conf.device, conf.precision, conf.batch_size, conf.epochs = 'cpu', 'fp32', batch_size, 100
    conf.stateful()
    # Before the first step, so that the compiled step is traced with it
    conf.model.conv2.__class__ = kind
    return conf


def compare(batch_size: int, rounds: int, steps: int) -> float:
    """Prints each round's images a second, both ways, at `batch_size`; returns the median ratio."""
    ways = {name: configs(batch_size, kind)
            for name, kind in (('nn.Conv2d', nn.Conv2d), ('StridedConv2d', StridedConv2d))}
    batches = {name: iter(conf.train_batches()) for name, conf in ways.items()}
    for name, conf in ways.items():
        # The compilation, and a warm-up
        images_per_second(conf, batches[name], 3)
    ratios = []
    for number in range(rounds):
        measured = {name: images_per_second(conf, batches[name], steps)
                    for name, conf in ways.items()}
        ratios.append(measured['StridedConv2d'] / measured['nn.Conv2d'])
        print(f'batch {batch_size}, round {number + 1}: ' +
              ', '.join(f'{name} {value:.1f} images/s' for name, value in measured.items()) +
              f', ratio {ratios[-1]:.2f}x', flush=True)
    return statistics.median(ratios)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('---')[2].strip().split('\n')[0])
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=[64, 512])
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--steps', type=int, default=5)
    args = parser.parse_args()
    medians = {size: compare(size, args.rounds, args.steps) for size in args.batch_sizes}
    print(f'{torch.__version__}, {torch.get_num_threads()} threads')
    for size, ratio in medians.items():
        print(f'batch {size}: StridedConv2d / nn.Conv2d, median of {args.rounds} rounds: '
              f'{ratio:.2f}x')


if __name__ == '__main__':
    main()
