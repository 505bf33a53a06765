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

1. [Running an experiment](runner.html): the command line, with `--resume`, `--evaluate`,
   `--pause-after` and `--help`, and loading a trained run.
2. [Configs from the command line](configs.html): `key=value` overrides, checked before any
   work.
3. [The training loop](trainer.html): training, with validations at the ends of epochs and at
   chosen points between them, tracked with labml.
4. [Checkpoints](checkpoint.html): written atomically at each validation, found again from a run.
5. [Resuming a run](resuming.html): its folder reopened, its log made to agree, its state put
   back, its epoch drawn again up to where it stopped.
6. [A run's log](run_log.html): the metrics of each record, read back from `log.jsonl`.
7. [Precision](precision.html): the number format of the products, and the TF32 switches held
   for a step only.
8. [Compiling the model](compiler.html): `torch.compile` where it can run.
9. [Strided convolutions on a CPU](strided_convolution.html): the gradients of PrimaryCaps'
   convolution as two forward convolutions, quicker in 32-bit floats there.
10. [MNIST, offline and verified](mnist.html): the four original files, checked by MD5.
11. [MNIST on the device](data.html): the data configs of every experiment, and its digits.
12. [Batches from the device](batches.html): the one source of batches, cut out or made by
    indexing.
13. [Choosing the device](device.html): a CUDA GPU, or an Apple one, when there is one.
14. [Pictures, light and dark](pictures.html): the figures of the tutorial at the size they are
    read at.
15. [Executing the notebook](notebook.html): its outputs committed, the same on every execution.
16. [Training on several GPUs with torchrun](distributed.html): DistributedDataParallel, each
    process a share of every batch, one run written by rank 0.
"""
