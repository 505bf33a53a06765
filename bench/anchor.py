"""
---
title: The anchor, labml-nn 0.5.1's capsule network
summary: Trains labml-nn 0.5.1's MNIST capsule network the way its own experiment does.
---

# The anchor: labml-nn 0.5.1's capsule network

The benchmark measures this project against the capsule network that labml-nn 0.5.1 ships in
`labml_nn.capsule_networks.mnist`: its model `MNISTCapsuleNetworkModel` and its `MarginLoss`, used
as they are.

Its experiment's `main()` no longer runs with labml 0.5.3 (it calls
`experiment.add_pytorch_models`, which labml 0.5.3 does not have), so this file repeats its training
loop instead, with the experiment's settings:

* torchvision's MNIST, each image turned into a tensor and normalised with mean $0.1307$ and
  standard deviation $0.3081$;
* a `DataLoader` of batches of $64$, shuffled, loading in the training process (`num_workers=0`);
* Adam with learning rate $10^{-3}$ and torch's default $\beta$s and $\epsilon$;
* the loss $\mathcal{L}_{margin} + 0.0005 \cdot \text{MSE}(\text{reconstruction}, \text{input})$,
  where the input is the normalised image;
* evaluation on the test set in batches of $1024$, the prediction being the longest digit capsule.

What is left out is the experiment's logging: its per-step accuracy metric and labml's tracker.

This file runs with labml-nn 0.5.1 first on `PYTHONPATH` and must not import this project's
`labml_nn`, which has the same name; `python -m bench.run` starts it that way. It takes
[the runners' command line](index.html) and prints the same JSON.
"""

from pathlib import Path

import torch
import torch.nn as nn
import torch.utils.data
from torchvision import datasets, transforms

import measure
from measure import ANCHOR_VERSION


def import_anchor():
    """
    ## Which `labml_nn` is this?

    Import labml-nn 0.5.1's model and margin loss, after making sure that `labml_nn` *is*
    labml-nn 0.5.1: an installed package keeps its `labml_nn-0.5.1.dist-info` next to it, and this
    project's `labml_nn` has none.
    """
    fix = (f'Start this file through `python -m bench.run` after `make anchor`, which installs '
           f'labml-nn {ANCHOR_VERSION} into .build/anchor, or with PYTHONPATH=<folder> after '
           f'`python -m pip install --no-deps --target <folder> labml-nn=={ANCHOR_VERSION}`.')
    try:
        import labml_nn
    except ImportError:
        raise SystemExit(f'labml_nn cannot be imported: labml-nn {ANCHOR_VERSION} is not on '
                         f'PYTHONPATH.\n{fix}')
    # `folder/labml_nn/__init__.py`
    folder = Path(labml_nn.__file__).resolve().parents[1]
    if not (folder / f'labml_nn-{ANCHOR_VERSION}.dist-info').is_dir():
        raise SystemExit(f'labml_nn was imported from {labml_nn.__file__}, which is not labml-nn '
                         f'{ANCHOR_VERSION} (no labml_nn-{ANCHOR_VERSION}.dist-info beside '
                         f'it).\n{fix}')
    from labml_nn.capsule_networks import MarginLoss
    from labml_nn.capsule_networks.mnist import MNISTCapsuleNetworkModel
    return MNISTCapsuleNetworkModel, MarginLoss


class AnchorRunner:
    """
    ## The anchor's training, step by step

    The members that [`measure`](measure.html) asks of a runner.
    """

    name = f'labml-nn {ANCHOR_VERSION}'

    def __init__(self, args, device: torch.device):
        model_class, margin_loss_class = import_anchor()
        self.device = device
        self.batch_size = args.batch_size
        # The experiment's images: tensors in $[0, 1]$, then $(x - 0.1307) / 0.3081$.
        normalise = transforms.Compose([transforms.ToTensor(),
                                        transforms.Normalize((0.1307,), (0.3081,))])
        train = datasets.MNIST(str(args.data), train=True, download=False, transform=normalise)
        test = datasets.MNIST(str(args.data), train=False, download=False, transform=normalise)
        train = measure.first_images(train, args.train_images)
        test = measure.first_images(test, args.test_images)
        self.train_size = len(train)
        # Shuffled training batches, loaded in this process; test batches of 1024, in order.
        self.train_loader = torch.utils.data.DataLoader(train, batch_size=args.batch_size,
                                                        shuffle=True, num_workers=0)
        self.test_loader = torch.utils.data.DataLoader(test, batch_size=1024, shuffle=False)
        self.model = model_class().to(device)
        # Adam, $\text{lr} = 10^{-3}$
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        self.margin_loss = margin_loss_class(n_labels=10)
        self.reconstruction_loss = nn.MSELoss()
        self.notes = [
            f"labml-nn {ANCHOR_VERSION}'s main() does not run with labml 0.5.3 (no "
            "experiment.add_pytorch_models); its training loop is mirrored: batch 64 shuffled, "
            "num_workers 0, Adam lr 1e-3, MarginLoss + 0.0005 * MSELoss(reconstruction, input).",
            "Its per-step logging (accuracy metric, labml tracker) is left out.",
        ]
        if args.batch_size != 64:
            self.notes.append(f'Batch size {args.batch_size} instead of the experiment\'s 64.')

    def train_batches(self):
        """
        One shuffled epoch of training batches.
        """
        return self.train_loader

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """
        One step of the experiment: forward, loss, backward, Adam. Returns the loss.
        """
        self.model.train()
        images, labels = images.to(self.device), labels.to(self.device)
        # Digit capsules `[batch, 10, 16]`, reconstructions `[batch, 1, 28, 28]`,
        # predictions `[batch]`
        capsules, reconstructions, _ = self.model(images)
        # $\mathcal{L}_{margin} + 0.0005 \cdot \text{MSE}$
        loss = (self.margin_loss(capsules, labels) +
                0.0005 * self.reconstruction_loss(reconstructions, images))
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad()
        return loss.detach()

    @torch.no_grad()
    def test_accuracy(self) -> float:
        """
        The percentage of test images whose longest digit capsule is their label.
        """
        self.model.eval()
        correct, total = 0, 0
        for images, labels in self.test_loader:
            _, _, predictions = self.model(images.to(self.device))
            correct += (predictions.cpu() == labels).sum().item()
            total += len(labels)
        return 100 * correct / total


# `python bench/anchor.py --mode throughput|accuracy [options]`, with labml-nn 0.5.1 on PYTHONPATH.
if __name__ == '__main__':
    measure.main(AnchorRunner, default_batch_size=64, precisions=('fp32', 'tf32'))
