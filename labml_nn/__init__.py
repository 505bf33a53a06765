"""
---
title: Annotated Capsule Networks
summary: An annotated, runnable PyTorch implementation of Dynamic Routing Between Capsules, with its MNIST experiment.
---

# Annotated Capsule Networks

A literate PyTorch implementation of
[Dynamic Routing Between Capsules](https://arxiv.org/abs/1710.09829)
(Sabour, Frosst and Hinton, 2017): the notes on the left are the comments of the code on the right,
and the very same files train the network.

* [Capsule networks](capsule_networks/index.html): squash, routing by agreement and the margin loss.
* [The MNIST experiment](capsule_networks/mnist.html): the CapsNet of the paper, trained with labml.
"""
