"""
---
title: Annotated Capsule Networks
summary: >
  An annotated, runnable PyTorch implementation of Dynamic Routing Between Capsules - the capsule
  layers, the MNIST experiment, the paper's evidence, and pictures of what a trained network
  does.
---

# Annotated Capsule Networks

[Dynamic Routing Between Capsules](https://arxiv.org/abs/1710.09829) (Sabour, Frosst and Hinton,
2017) in PyTorch, line by line: the notes on the left are the comments of the code on the right,
and the very same files train the network.

![Test digits above their reconstructions from the CapsNet's predicted capsule; misclassified digits on the right](capsule_networks/images/reconstructions.png)

A CapsNet trained by these files reads the test digits above, and redraws each from the 16
numbers of its digit capsule; the picture's title gives its run and its test accuracy, and
[the pictures](capsule_networks/figures.html) show what else it learned.

```bash
make train   # python -m labml_nn.capsule_networks.mnist, on the GPU if there is one
make test    # the test suite
```

Each sets everything up on a fresh clone: a virtual environment, KaTeX, and MNIST, checked by
MD5. `make check` is the fast lane of the tests, `make docs` rebuilds this site.

## Reading order

1. [Capsule Networks](capsule_networks/index.html): the capsule layers, the squash, routing by
   agreement and the margin loss, each equation tested against a reference.
2. [The MNIST experiment](capsule_networks/mnist.html): the CapsNet, its decoder, its losses and
   its training.
3. [The pictures](capsule_networks/figures.html):
   [reconstructions](capsule_networks/reconstructions.html), what each dimension of a digit
   capsule encodes (move them yourself), routing, training curves.
4. [The notebook](capsule_networks/notebook.html): a small CapsNet trained and drawn in a few
   minutes on a CPU.
5. [The paper's evidence](capsule_networks/evidence_figures.html): overlapping digits, and
   digits under affine transformations, against the paper's baseline CNN.

The [helpers](helpers/index.html) hold what every experiment shares (the command line, the
training loop, checkpoints, data on the device), and [the site generator](tools/index.html) how
these pages are made from the sources.
"""

import os

# On an Apple GPU, an operation that PyTorch's MPS backend lacks runs on the CPU with a one-line
# warning, instead of stopping the run ([the device](helpers/device.html)). PyTorch reads this
# variable once, as it loads, so it is set here, before any module imports it; a value the user
# set is kept.
os.environ.setdefault('PYTORCH_ENABLE_MPS_FALLBACK', '1')
