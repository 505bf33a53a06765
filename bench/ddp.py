"""
---
title: Distributed training against one process
summary: >
  The training throughput of the MNIST experiment under torchrun, beside a single process: 2
  processes on the CPU, or DistributedDataParallel's own cost on one GPU.
---

# Distributed training against one process

```bash
.venv/bin/python bench/ddp.py                 # about 5 minutes on a 2-core CPU
.venv/bin/python bench/ddp.py --repeats 2 --train-subset 1024
python bench/ddp.py --device cuda --repeats 3 --train-subset 16384 --batch-size 512
```

On the CPU, it trains the [MNIST experiment](../labml_nn/capsule_networks/mnist.html) three ways,
in turn, at the same global batch and configs:

* **1 process, all threads**: `python -m labml_nn.capsule_networks.mnist`, as a user runs it;
* **1 process, 1 thread**: the same, with `OMP_NUM_THREADS=1`: the work of one core;
* **2 processes, 1 thread each**: `torchrun --nproc_per_node=2`, with DistributedDataParallel
  over gloo ([how](../labml_nn/helpers/distributed.html)); torchrun gives each process one thread.

Each run trains `--epochs` epochs and the throughput is that of its last epoch, read from the run's
`log.jsonl` (`images_per_second.train`: training images over the epoch's training time, so the
first steps' warm-up and the validation are left out). The three are run `--repeats` times in
turn, so that a change in the machine's load touches all three alike, and the medians are printed
with the ratios to the single process.

On a CPU the two processes share the cores that one process uses with its threads: no compute is
added. The ratio to *1 process, all threads* compares two ways of spreading the same work over the
cores, operation by operation (threads, a synchronisation per operation) or batch by batch
(processes, one all-reduce per step); the ratio to *1 process, 1 thread* is how well two cores are
used by two processes, short of 2 by DDP's cost: each step all-reduces the 32.9 MB of gradients
through gloo, in memory, and every process cuts out the whole batch.

On a GPU (`--device cuda`), it trains two ways: one process, and one process under `torchrun`,
whose model is then wrapped in DistributedDataParallel with NCCL. The ratio is DDP's own cost on
one GPU, its hooks and its all-reduce of one rank (the goal: under $5\%$). Several GPUs would add
the all-reduce between them, which this ratio does not measure.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

# The project's root, for `labml_nn`, when started as `python bench/ddp.py`
ROOT = Path(__file__).resolve().parents[1]

# The experiment's command line, with labml's runs written to the folder given first
LAUNCHER = '''
import sys
from labml import lab
lab.configure({'experiments_path': sys.argv[1]})
from labml_nn.capsule_networks import mnist
mnist.EXPERIMENT.run(sys.argv[2:])
'''

# The ways to run on each kind of device: a name, the number of processes (0: no torchrun), and
# the threads per process (`None`: PyTorch's choice)
WAYS = {'cpu': [('1 process, all threads', 0, None), ('1 process, 1 thread', 0, 1),
                ('2 processes, 1 thread each', 2, 1)],
        'cuda': [('1 process', 0, None), ('1 process under torchrun (DDP)', 1, None)]}


def throughput(launcher: Path, configs, processes: int, threads) -> float:
    """
    Train once, and return the images per second of the last epoch.
    """
    with tempfile.TemporaryDirectory() as logs:
        command = [sys.executable]
        if processes:
            command += ['-m', 'torch.distributed.run', '--standalone',
                        f'--nproc_per_node={processes}']
        command += [str(launcher), logs] + configs
        environment = {**os.environ, 'PYTHONPATH': str(ROOT)}
        if threads is not None:
            environment['OMP_NUM_THREADS'] = str(threads)
        subprocess.run(command, env=environment, check=True, stdout=subprocess.DEVNULL)
        run_path, = (Path(logs) / 'capsule_network_mnist').iterdir()
        rates = [record['track']['images_per_second.train'][0][1][0]
                 for record in map(json.loads, (run_path / 'log.jsonl').read_text().splitlines())
                 if 'images_per_second.train' in record['track']]
        return rates[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n# ')[0])
    parser.add_argument('--batch-size', type=int, default=64, help='the global batch')
    parser.add_argument('--train-subset', type=int, default=512)
    parser.add_argument('--epochs', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=1)
    parser.add_argument('--precision', default='fp32')
    parser.add_argument('--compile', default='off')
    parser.add_argument('--device', default='cpu', choices=sorted(WAYS))
    arguments = parser.parse_args()
    ways = WAYS[arguments.device]
    configs = [f'device={arguments.device}', f'batch_size={arguments.batch_size}',
               f'train_subset={arguments.train_subset}', 'valid_subset=64',
               f'epochs={arguments.epochs}', f'precision={arguments.precision}',
               f'compile={arguments.compile}']
    print('configs:', ' '.join(configs), f'| CPU cores: {os.cpu_count()}')

    with tempfile.TemporaryDirectory() as folder:
        launcher = Path(folder) / 'launch.py'
        launcher.write_text(LAUNCHER)
        # The runs, in turn, `repeats` times: {way: [images per second, ...]}
        rates = {name: [] for name, _, _ in ways}
        for _ in range(arguments.repeats):
            for name, processes, threads in ways:
                rates[name].append(throughput(launcher, configs, processes, threads))
                print(f'  {name}: {rates[name][-1]:.1f} images/s', flush=True)

    medians = {name: statistics.median(values) for name, values in rates.items()}
    # Each way against the first two
    first, second = ways[0][0], ways[1][0]
    print(f'\n{"":32}  images/s  {"vs " + first:>28}  {"vs " + second:>32}')
    for name, median in medians.items():
        print(f'{name:32}  {median:8.1f}  {median / medians[first]:28.2f}  '
              f'{median / medians[second]:32.2f}')


if __name__ == '__main__':
    main()
