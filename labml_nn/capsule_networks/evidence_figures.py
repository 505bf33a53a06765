r"""
---
title: Pictures of the paper's evidence
summary: >
  Overlapping digits read and redrawn by the CapsNet (Figure 5 of the paper), transformed digits
  that the CapsNet and the baseline get right and wrong, and the learning curves of both models.
---

# Pictures of the paper's evidence

This module draws, from trained runs of [the MultiMNIST experiment](multi_mnist.html) and of
[the affine experiment](affine.html):

1. [overlapping digits and their two reconstructions](#overlapping-digits), as Figure 5 of
   [the paper](https://arxiv.org/abs/1710.09829);
2. [transformed digits each model gets right and wrong](#affine-transformations);
3. [the learning curves](#learning-curves) of both models on both experiments.

### The runs of these pictures, and the paper's numbers

| experiment | the CapsNet | the baseline |
|---|---|---|
| MultiMNIST: both digits of a pair right | $95.0\%$ | $91.9\%$ |
| affine: translated MNIST test digits right, where training stopped | $99.23\%$ | $99.22\%$ |
| affine: then affNIST's test digits right | $79\%$ | $66\%$ |

Those are the paper's, after days of training on a GPU (60 million MultiMNIST pairs). The pictures
on this page come from runs of hours of a 2-core CPU, trained by `bench/evidence_cpu.py`, which
lists their exact configs: on a 2-core Intel Xeon, the CapsNet on $359{,}424$ MultiMNIST pairs and
the baseline on the same stream of pairs for as long as it was given; on a 2-core AMD EPYC, each
model of the affine experiment until $97\%$ of the same $5{,}000$ translated test digits, checked
every $10{,}240$ training digits. Each picture's title gives how long its runs trained and the
accuracies this module measures again from their checkpoints, in 32-bit floats, on the first
examples of the fixed test sets (`--test-subset`, $1{,}000$ by default); the [learning
curves](#learning-curves) give every accuracy the runs logged as they trained, on $10{,}000$
MultiMNIST test pairs and $5{,}000$ translated digits. Chance is $1/45 = 2.2\%$ for a MultiMNIST
pair, $10\%$ for a digit.

```bash
# Figure 5 from a MultiMNIST run of the CapsNet, into the run's folder's figures/
python -m labml_nn.capsule_networks.evidence_figures multi_mnist <run>
# The affine examples from two runs of the affine experiment, the CapsNet's and the baseline's
python -m labml_nn.capsule_networks.evidence_figures affine <capsnet run> <baseline run>
# The learning curves of both models, a picture for each experiment given
python -m labml_nn.capsule_networks.evidence_figures curves \
    --multi-mnist <capsnet run> <baseline run> --affine <capsnet run> <baseline run>
```

`--out labml_nn/capsule_networks/images` replaces the pictures of this site. Each is drawn
twice, for the light and the dark theme ([how](../helpers/pictures.html)).
"""

import argparse
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import torch
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter

from labml_nn.capsule_networks import affine, multi_mnist
from labml_nn.capsule_networks.multi_mnist import MultiMNISTBatch, both_correct
from labml_nn.helpers import checkpoint
from labml_nn.helpers.pictures import (DPI, Panel, foreground, panels_figure,
                                       save_light_and_dark)
from labml_nn.helpers.run_log import read_log
from labml_nn.helpers.runner import Experiment, TrainedRun, positive, run_command

# How the pictures name the two models
MODEL_NAMES = {'capsnet': 'CapsNet', 'baseline': 'baseline'}

# The colours of the two reconstructions, red, green and blue: orange and azure, which add up to
# white where both draw
FIRST_COLOUR = torch.tensor([1.0, 0.5, 0.0])
SECOND_COLOUR = torch.tensor([0.0, 0.5, 1.0])


def load_run(experiment: Experiment, run: str, model: str, test_subset: int) -> TrainedRun:
    """
    The run `run` of `model` in `experiment`, on the CPU, in 32-bit floats, its test sets cut to
    their first `test_subset` examples.
    """
    settings = {'device': 'cpu', 'precision': 'fp32', 'compile': 'off', 'valid_subset': test_subset}
    if experiment is affine.EXPERIMENT:
        settings['affine_subset'] = test_subset
    return experiment.load(run, model, **settings)


def pairs_text(pair: torch.Tensor, marked: int = -1) -> str:
    """
    `(a,b)` for a pair of classes, `[2]`, with a star after the one at `marked`.
    """
    return '(' + ','.join(f'{d}*' if k == marked else str(d)
                          for k, d in enumerate(pair.tolist())) + ')'


def overlaid(reconstructions: torch.Tensor) -> torch.Tensor:
    """
    The two reconstructions of each example, `[n, 2, 36, 36]`, drawn over each other, the first
    in orange and the second in azure, added: `[n, 3, 36, 36]`.
    """
    first = reconstructions[:, 0, None] * FIRST_COLOUR[:, None, None]
    second = reconstructions[:, 1, None] * SECOND_COLOUR[:, None, None]
    return (first + second).clamp(0, 1)


@torch.no_grad()
def multi_mnist_figure(model: multi_mnist.MultiMNISTCapsuleNetworkModel, batch: MultiMNISTBatch,
                       title: str, n_right: int = 6, n_wrong: int = 6,
                       n_absent: int = 3) -> Figure:
    r"""
    ## Overlapping digits

    ![MultiMNIST pairs and their two reconstructions](images/multi_mnist.png)

    As Figure 5 of the paper: each test pair above its two reconstructions, drawn over each
    other, the first in orange and the second in azure (white where both draw). Under each, `R`
    is the pair of capsules the reconstructions come from and `L` the pair of labels.

    * **Right**: the first `n_right` pairs with both digits right, reconstructed from the two
      longest capsules.
    * **Wrong**: the first `n_wrong` pairs with a digit wrong, reconstructed from the two longest
      capsules, which are not the labels.
    * **Not present**: the first `n_absent` pairs with both digits right, reconstructed from the
      capsule of their first label and from the longest capsule of a digit that is *not* in the
      image (starred). The paper finds that such a reconstruction draws little of anything: the
      capsule of an absent digit is short, and it encodes no digit of the image.

    * `batch` is the first test pairs; `title` the run's caption
    """
    digit_capsules, reconstructions, predictions = model(batch.images)
    right = both_correct(predictions, batch.labels)
    right_index = right.nonzero().flatten()
    wrong_index = (~right).nonzero().flatten()[:n_wrong]
    # The longest capsule of a digit not in each image: the lengths with the two labels' set
    # below any length, `[batch]`
    lengths = digit_capsules.norm(dim=-1).scatter(1, batch.labels, -1.0)
    absent = lengths.argmax(dim=-1)
    absent_index = right_index[:n_absent]
    # The reconstructions from the first label's capsule and the absent digit's, `[n, 2, 1296]`
    absent_pairs = torch.stack([batch.labels[absent_index, 0], absent[absent_index]], dim=1)
    repeated = digit_capsules[absent_index].repeat_interleave(2, dim=0)
    from_absent = model.decode(repeated, absent_pairs.flatten()).view(len(absent_index), 2, -1)

    def panel(index: torch.Tensor, drawn: torch.Tensor, capsules: torch.Tensor, name: str,
              marked: int = -1) -> Panel:
        # The pairs above their reconstructions, in colour, `[2, n, 3, 36, 36]`
        inputs = batch.images[index].expand(-1, 3, -1, -1)
        colours = overlaid(drawn.view(-1, 2, 36, 36))
        labels = [f'R:{pairs_text(c, marked)}\nL:{pairs_text(l)}'
                  for c, l in zip(capsules, batch.labels[index])]
        return Panel(torch.stack([inputs, colours]), name, column_labels=labels,
                     row_labels=['input', 'R'])

    panels = [panel(right_index[:n_right], reconstructions[right_index[:n_right]],
                    predictions[right_index[:n_right]], 'Right'),
              panel(absent_index, from_absent, absent_pairs, 'Not present', marked=1)]
    if len(wrong_index):
        panels.insert(1, panel(wrong_index, reconstructions[wrong_index], predictions[wrong_index],
                               'Wrong'))
    title += '\nR: the capsules of the orange and the azure reconstruction\nL: the two labels'
    lines = title.count('\n') + 1
    return panels_figure(panels, title, 2, left=70, right=20, between=80, top=40 + 18 * lines,
                         bottom=40, stacked=True)


@torch.no_grad()
def predictions_of(run: TrainedRun, batches) -> Dict[str, torch.Tensor]:
    """
    The images, labels and predictions of `run`'s model over `batches` of `(images, labels)`.
    """
    images, labels, predictions = [], [], []
    for batch_images, batch_labels in batches:
        images.append(batch_images)
        labels.append(batch_labels)
        predictions.append(run.conf.losses((batch_images, batch_labels), False)['predictions'])
    return {'images': torch.cat(images), 'labels': torch.cat(labels),
            'predictions': torch.cat(predictions)}


def affine_figure(images: torch.Tensor, labels: torch.Tensor, capsnet: torch.Tensor,
                  baseline: torch.Tensor, title: str, n: int = 8) -> Figure:
    r"""
    ## Affine transformations

    ![Transformed digits each model gets right and wrong](images/affine.png)

    Two runs trained to the same accuracy on the translated digits, $97\%$ of $5{,}000$ of them:
    the CapsNet after $81{,}920$ training digits, the baseline after $112{,}640$. On all
    $10{,}000$ transformed test digits the CapsNet reads $86.97\%$, the baseline $84.54\%$
    (Wilson's $95\%$ intervals $86.3\%$ to $87.6\%$ and $83.8\%$ to $85.2\%$): the CapsNet is
    the more robust of the two, by $2.4$ points, where the paper finds $13$ on affNIST ($79\%$
    against $66\%$), a set of other images of the same kinds of transformations.

    The first `n` transformed test digits of each kind: both models right, only the CapsNet
    right, only the baseline right, both wrong. Under each digit, its label and the two
    predictions, the CapsNet's first.

    * `images`, `[k, 1, 40, 40]`, and `labels`, `[k]`, are the first transformed test digits
    * `capsnet` and `baseline` are the two models' predictions, `[k]`
    """
    capsnet_right, baseline_right = capsnet == labels, baseline == labels
    kinds = [('Both right', capsnet_right & baseline_right),
             ('Only the CapsNet right', capsnet_right & ~baseline_right),
             ('Only the baseline right', ~capsnet_right & baseline_right),
             ('Both wrong', ~capsnet_right & ~baseline_right)]
    panels = []
    for name, chosen in kinds:
        index = chosen.nonzero().flatten()[:n]
        if len(index) == 0:
            continue
        labels_text = [f'{labels[i].item()}: {capsnet[i].item()}, {baseline[i].item()}'
                       for i in index]
        panels.append(Panel(images[index, 0][None], f'{name} ({chosen.sum().item()} digits)',
                            column_labels=labels_text))
    title += '\nunder each digit, its label: the CapsNet\'s prediction,\nthe baseline\'s'
    lines = title.count('\n') + 1
    return panels_figure(panels, title, 2, left=20, right=20, between=70, top=40 + 18 * lines,
                         bottom=40, stacked=True)


# The paper's numbers, for the learning curves: the accuracy of each model on each experiment's
# curve, as a fraction; on the affine experiment, where training stopped on the translated digits
PAPER = {'multi_mnist': {'capsnet': 0.950, 'baseline': 0.919},
         'affine': {'capsnet': 0.9923, 'baseline': 0.9922}}
# What each experiment's curve measures, and its chance level
CURVES = {'multi_mnist': ('MultiMNIST: pairs with both digits right', 'pairs', 1 / 45),
          'affine': ('Affine: translated MNIST test digits right', 'digits', 0.1)}


def learning_curves_figure(logs: Dict[str, Dict[str, Dict[str, List[Tuple[int, float]]]]],
                           title: str) -> Figure:
    """
    ## Learning curves

    ![MultiMNIST: test accuracy against training pairs and training time, both models](images/learning_curves_multi_mnist.png)

    ![Affine: test accuracy against training digits and training time, both models](images/learning_curves_affine.png)

    The test accuracy of both models as they train, against the training examples seen (left)
    and against the CPU time of training (right), one picture for each experiment: its runs
    trained on a CPU of their own, the MultiMNIST runs on an Intel Xeon, the affine runs on an
    AMD EPYC, so their times compare within a picture, not across. Both axes are
    logarithmic: each mark of a run's curve is twice as far into training as the one before,
    and the marks between them fall at the ends of epochs or every `valid_every` examples.
    Each mark is measured on the same fixed test examples for both models. The dotted lines are
    the paper's numbers, reached after far longer training.

    The CPU time is the seconds of every thread of a run, each run on a thread of its own at the
    lowest priority beside other work (the affine baseline on two, from $30{,}720$ digits on,
    once the CapsNet had finished): it is what the computation costs, whatever else the machine
    was doing. It counts training only, compilation included, not the validations.

    * `logs` holds, for each experiment (`multi_mnist`, `affine`), the
      [log](../helpers/run_log.html) of each model (`capsnet`, `baseline`)
    """
    figure = Figure(figsize=(9.2, 3.3 * len(logs)), dpi=DPI, layout='constrained')
    rows = figure.subplots(len(logs), 2, squeeze=False)
    colours = {'capsnet': 'C0', 'baseline': 'C1'}
    for (experiment, models), (by_examples, by_seconds) in zip(logs.items(), rows):
        name, unit, chance = CURVES[experiment]
        for model, log in models.items():
            steps = [step for step, _ in log['accuracy.valid']]
            accuracy = [100 * value for _, value in log['accuracy.valid']]
            seconds = dict(log['cpu_time.train'])
            style = dict(color=colours[model], marker='o', markersize=3, label=MODEL_NAMES[model])
            by_examples.plot(steps, accuracy, **style)
            by_seconds.plot([seconds[step] for step in steps], accuracy, **style)
            for axes in (by_examples, by_seconds):
                axes.axhline(100 * PAPER[experiment][model], color=colours[model],
                             linestyle=':', linewidth=1,
                             label=f'{MODEL_NAMES[model]}, the paper')
        for axes in (by_examples, by_seconds):
            axes.axhline(100 * chance, color=foreground(), linestyle='--', linewidth=0.8,
                         label='chance')
            axes.set_xscale('log')
            axes.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f'{x:,.0f}'))
            axes.xaxis.set_minor_formatter(NullFormatter())
            axes.set_ylim(0, 100)
            axes.set_ylabel('test accuracy (%)')
            axes.grid(True, which='major', linewidth=0.5)
        by_examples.set_title(f'{name}, by {unit} seen')
        by_seconds.set_title(f'{name.split(":")[0]}, by training time')
        by_examples.set_xlabel(f'training {unit} seen')
        by_seconds.set_xlabel('CPU seconds of training')
        by_examples.legend(loc='upper left', fontsize=8)
    figure.suptitle(title)
    return figure


def draw_multi_mnist(run: str, out: Path, test_subset: int) -> List[Path]:
    """
    Figure 5 from the CapsNet's run `run` of the MultiMNIST experiment.
    """
    trained = load_run(multi_mnist.EXPERIMENT, run, 'capsnet', test_subset)
    batches = list(trained.conf.valid_batches())
    correct = sum(trained.conf.step(batch, False)['accuracy'].item() for batch in batches)
    total = sum(len(batch.labels) for batch in batches)
    title = (f'MultiMNIST, the CapsNet after {trained.described}:\nboth digits right in '
             f'{correct / total:.1%} of the first {total:,} test pairs')
    print(title)
    # The examples are picked from the first 256 test pairs, or fewer
    first = MultiMNISTBatch(*(torch.cat(parts)[:256] for parts in zip(*batches)))
    return save_light_and_dark(lambda: multi_mnist_figure(trained.conf.model, first, title),
                               out / 'multi_mnist.png')


def draw_affine(capsnet_run: str, baseline_run: str, out: Path, test_subset: int) -> List[Path]:
    """
    The affine examples from the two runs of the affine experiment, the CapsNet's and the
    baseline's.
    """
    runs = [load_run(affine.EXPERIMENT, run, model, test_subset)
            for run, model in ((capsnet_run, 'capsnet'), (baseline_run, 'baseline'))]
    summaries, affine_predictions = [], []
    for run in runs:
        translated = predictions_of(run, run.conf.valid_batches())
        transformed = predictions_of(run, run.conf.affine_batches())
        affine_predictions.append(transformed)
        accuracies = [(found['predictions'] == found['labels']).float().mean().item()
                      for found in (translated, transformed)]
        # Each model on two lines of the title: a picture no wider than its digits
        summaries.append(f'{MODEL_NAMES[run.model_name]} after {run.described}:\n'
                         f'{accuracies[0]:.1%} of the translated MNIST digits, '
                         f'{accuracies[1]:.1%} of the transformed')
    title = (f'Affine transformations, the first {len(affine_predictions[0]["labels"]):,} test '
             'digits of each set\n' + '\n'.join(summaries))
    print(title)
    capsnet, baseline = affine_predictions
    return save_light_and_dark(
        lambda: affine_figure(capsnet['images'], capsnet['labels'], capsnet['predictions'],
                              baseline['predictions'], title), out / 'affine.png')


def draw_learning_curves(runs: Dict[str, List[str]], out: Path) -> List[Path]:
    """
    The learning curves of the runs of each experiment, `{experiment: [capsnet run, baseline
    run]}` (the CapsNet's alone while the baseline has not started), read from their logs: one
    picture for each experiment, `learning_curves_<experiment>.png`, so that the runs of one
    experiment can be trained, and drawn again, apart from those of the other.
    """
    experiments = {'multi_mnist': multi_mnist.EXPERIMENT, 'affine': affine.EXPERIMENT}
    title = 'Learning curves: test accuracy as training goes on, on a 2-core CPU'
    written = []
    for experiment, pair in runs.items():
        logs = {}
        for run, model in zip(pair, ('capsnet', 'baseline')):
            path = checkpoint.find(run, experiments[experiment].name)
            found = checkpoint.load(path, torch.device('cpu'))['overrides'].get('model', 'capsnet')
            if found != model:
                raise checkpoint.CheckpointError(f'{path} is a run of model={found}; give the run '
                                                 f'of model=capsnet, then that of model=baseline')
            logs[model] = read_log(path.parent)
        written += save_light_and_dark(lambda: learning_curves_figure({experiment: logs}, title),
                                       out / f'learning_curves_{experiment}.png')
    return written


def main(arguments: List[str]) -> List[Path]:
    """
    Draw the pictures the command line asks for.
    """
    parser = argparse.ArgumentParser(
        prog='python -m labml_nn.capsule_networks.evidence_figures',
        description='Draws the pictures of the paper\'s evidence, light and dark: Figure 5 from a '
                    'run of the CapsNet on MultiMNIST, or the affine examples from a run of each '
                    'model on the affine experiment. A run is a run UUID, a run folder or a '
                    'checkpoint file.')
    pictures = parser.add_subparsers(dest='picture', required=True, metavar='PICTURE')
    multi = pictures.add_parser('multi_mnist', help='Figure 5, from a run of the CapsNet')
    multi.add_argument('run', metavar='RUN')
    affine_parser = pictures.add_parser('affine', help='the affine examples, from a run of each '
                                                       'model')
    affine_parser.add_argument('capsnet_run', metavar='CAPSNET_RUN')
    affine_parser.add_argument('baseline_run', metavar='BASELINE_RUN')
    curves = pictures.add_parser('curves', help='the learning curves, from the runs of both '
                                                'models on one experiment or both')
    curves.add_argument('--multi-mnist', nargs='+', metavar='RUN',
                        help="the CapsNet's run, then the baseline's if there is one yet")
    curves.add_argument('--affine', nargs='+', metavar='RUN',
                        help="the CapsNet's run, then the baseline's if there is one yet")
    for sub in (multi, affine_parser, curves):
        sub.add_argument('--out', type=Path,
                         help="where the pictures go (default: the first run's folder/figures); "
                              "the site's are in labml_nn/capsule_networks/images")
    for sub in (multi, affine_parser):
        sub.add_argument('--test-subset', type=positive, default=1000, metavar='N',
                         help='test on the first N examples of each test set (default: 1000)')
    args = parser.parse_args(arguments)
    if args.picture == 'curves':
        runs = {name: pair for name, pair in (('multi_mnist', args.multi_mnist),
                                              ('affine', args.affine)) if pair}
        if not runs:
            curves.error('give the runs of one experiment at least: --multi-mnist or --affine')
        if any(len(pair) > 2 for pair in runs.values()):
            curves.error('give two runs of an experiment at most: the CapsNet\'s, the baseline\'s')
        first = next(iter(runs))
        experiment = multi_mnist.EXPERIMENT if first == 'multi_mnist' else affine.EXPERIMENT
        out = args.out or checkpoint.find(runs[first][0], experiment.name).parent / 'figures'
        return draw_learning_curves(runs, out)
    experiment = multi_mnist.EXPERIMENT if args.picture == 'multi_mnist' else affine.EXPERIMENT
    first = args.run if args.picture == 'multi_mnist' else args.capsnet_run
    out = args.out or checkpoint.find(first, experiment.name).parent / 'figures'
    with torch.no_grad():
        if args.picture == 'multi_mnist':
            return draw_multi_mnist(args.run, out, args.test_subset)
        return draw_affine(args.capsnet_run, args.baseline_run, out, args.test_subset)


if __name__ == '__main__':
    run_command(main, sys.argv[1:])
