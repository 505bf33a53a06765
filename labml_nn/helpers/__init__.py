"""
---
title: Helpers
summary: >
  What every experiment needs besides its model - the command line, the training loop,
  checkpoints, data and device.
---

# Helpers

The plumbing of the experiments, kept off the reader's path: an experiment module such as
[the MNIST experiment](../capsule_networks/mnist.html) says what its model, losses and step are,
and these modules do the rest, the same way for every experiment.

1. [Running an experiment](runner.html): the command line, with `--resume`, `--evaluate` and
   `--help`.
2. [Configs from the command line](configs.html): `key=value` overrides, checked before any
   work.
3. [The training loop](trainer.html): epochs of training and validation, tracked with labml.
4. [Checkpoints](checkpoint.html): written atomically after each epoch, found again from a run.
5. [A run's log](run_log.html): the metrics of each epoch, read back from `log.jsonl`.
6. [Precision](precision.html): the number format of the products, and the TF32 switches held
   for a step only.
7. [MNIST, offline and verified](mnist.html): the four original files, checked by MD5.
8. [Batches from the device](batches.html): the whole dataset on the device, cut into batches.
9. [Choosing the device](device.html): a CUDA GPU, or an Apple one, when there is one.
10. [The reconstructions of a run](reconstructions.html): the picture every run ends with.
11. [Pictures, light and dark](pictures.html): the figures of the tutorial at the size they are
    read at.
12. [Executing the notebook](notebook.html): its outputs committed, the same on every execution.
13. [Training on several GPUs with torchrun](distributed.html): DistributedDataParallel, each
    process a share of every batch, one run written by rank 0.
"""
