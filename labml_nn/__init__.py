"""
---
title: Annotated Capsule Networks
summary: >
  An annotated, runnable PyTorch implementation of Dynamic Routing Between Capsules, with its
  MNIST experiment.
---

# Annotated Capsule Networks

A literate PyTorch implementation of
[Dynamic Routing Between Capsules](https://arxiv.org/abs/1710.09829)
(Sabour, Frosst and Hinton, 2017): the notes on the left are the comments of the code on the right,
and the very same files train the network.

1. [Capsule Networks](capsule_networks/index.html): the tutorial, from the capsule layers to the
   MNIST experiment, the pictures of a trained network and a notebook.
2. [Helpers](helpers/index.html): the command line, the training loop, checkpoints and data that
   every experiment shares.
3. [The site generator](tools/index.html): how these pages are made from the sources.
"""

import os

# On an Apple GPU, an operation that PyTorch's MPS backend lacks runs on the CPU with a one-line
# warning, instead of stopping the run ([the device](helpers/device.html)). PyTorch reads this
# variable once, as it loads, so it is set here, before any module imports it; a value the user
# set is kept.
os.environ.setdefault('PYTORCH_ENABLE_MPS_FALLBACK', '1')
