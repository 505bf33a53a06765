"""
The pictures of the paper's evidence: the two reconstructions of a MultiMNIST pair in two colours
over each other, with the pairs that are right, wrong, and reconstructed from a digit that is not
there; the affine examples sorted by which model gets them right.
"""

import pytest
import torch

from labml_nn.capsule_networks import evidence_figures
from labml_nn.capsule_networks.evidence_figures import (affine_figure,
                                                        multi_mnist_figure, overlaid, pairs_text)
from labml_nn.capsule_networks.multi_mnist import (MultiMNIST, MultiMNISTCapsuleNetworkModel,
                                                   TEST_SEED)
from labml_nn.helpers import checkpoint, mnist
from labml_nn.helpers.pictures import png
from tests.test_run_log import write_log


def test_the_two_reconstructions_are_orange_and_azure_and_white_where_both_draw():
    reconstructions = torch.zeros(1, 2, 36, 36)
    reconstructions[0, 0, 0, :2] = 1
    reconstructions[0, 1, 0, 1:3] = 1
    colours = overlaid(reconstructions)[0, :, 0, :4].T
    assert colours.tolist() == [[1.0, 0.5, 0.0], [1.0, 1.0, 1.0], [0.0, 0.5, 1.0], [0, 0, 0]]


def test_a_pair_is_written_as_in_the_paper_with_the_absent_digit_starred():
    assert pairs_text(torch.tensor([3, 7])) == '(3,7)'
    assert pairs_text(torch.tensor([3, 7]), marked=1) == '(3,7*)'


def axes_texts(figure):
    """The titles and the tick labels of every axes of a figure."""
    texts = []
    for axes in figure.axes:
        texts.append(axes.get_title())
        texts.extend(label.get_text() for label in axes.get_xticklabels())
    return texts


def test_figure_5_shows_right_and_wrong_pairs_and_a_digit_that_is_not_there():
    images, labels = mnist.load(train=False, subset=200)
    batch = next(iter(MultiMNIST(images, labels, 64, seed=TEST_SEED)))
    torch.manual_seed(0)
    model = MultiMNISTCapsuleNetworkModel().eval()
    # An untrained model: its first pair's labels swapped in as its prediction makes one right
    with torch.no_grad():
        capsules = model.digit_capsules(model.primary_capsules(batch.images))
    lengths = capsules.norm(dim=-1)
    batch.labels[0] = lengths[0].topk(2).indices
    figure = multi_mnist_figure(model, batch, 'a title', n_right=1, n_wrong=2, n_absent=1)
    texts = axes_texts(figure)
    assert texts.count('Right') == texts.count('Wrong') == texts.count('Not present') == 1
    # The absent digit is the longest capsule that is not a label
    absent = lengths[0].scatter(0, batch.labels[0], -1).argmax().item()
    assert f'R:({batch.labels[0, 0].item()},{absent}*)\nL:{pairs_text(batch.labels[0])}' in texts
    assert len(png(figure)) > 0


def test_the_affine_picture_sorts_digits_by_which_model_gets_them_right():
    images = torch.rand(4, 1, 40, 40)
    labels = torch.tensor([1, 2, 3, 4])
    capsnet = torch.tensor([1, 2, 0, 0])
    baseline = torch.tensor([1, 0, 3, 0])
    texts = axes_texts(affine_figure(images, labels, capsnet, baseline, 'a title'))
    assert 'Both right (1 digits)' in texts and 'Only the CapsNet right (1 digits)' in texts
    assert 'Only the baseline right (1 digits)' in texts and 'Both wrong (1 digits)' in texts
    assert '2: 2, 0' in texts


@pytest.mark.parametrize('arguments, message', [
    ([], 'the following arguments are required: PICTURE'),
    (['affine', 'one-run'], 'the following arguments are required: BASELINE_RUN'),
    (['multi_mnist', 'a', '--test-subset', 'all'],
     "argument --test-subset: takes a whole number above 0, not 'all'"),
    (['multi_mnist', 'a', '--colour', 'red'], 'unrecognized arguments: --colour red'),
])
def test_a_command_line_that_cant_be_used_says_why_and_exits_with_2(arguments, message, capsys):
    with pytest.raises(SystemExit) as exit:
        evidence_figures.main(arguments)
    assert exit.value.code == 2
    assert message in capsys.readouterr().err


def curve_run(folder, overrides, accuracies):
    """A run folder with a checkpoint of `overrides` and a log of test accuracies and CPU times."""
    steps = [1024 * 2 ** k for k in range(len(accuracies))]
    write_log(folder, [{'track': {'loss.train': [[step, [1 - accuracy]]],
                                  'accuracy.valid': [[step, [accuracy]]],
                                  'cpu_time.train': [[step, [step / 100]]]}}
                       for step, accuracy in zip(steps, accuracies)])
    checkpoint.save(folder / checkpoint.FILE_NAME, {'epoch': 1, 'overrides': overrides,
                                                    'state': {}})
    return str(folder)


def test_each_experiment_gets_a_picture_of_learning_curves_of_its_own(tmp_path):
    capsnet = curve_run(tmp_path / 'capsnet', {}, [0.1, 0.5, 0.9])
    baseline = curve_run(tmp_path / 'baseline', {'model': 'baseline'}, [0.1, 0.4])
    out = tmp_path / 'out'
    written = evidence_figures.main(['curves', '--affine', capsnet, baseline, '--out', str(out)])
    assert written == [out / 'learning_curves_affine.png', out / 'learning_curves_affine.dark.png']
    # Both experiments: two pictures each
    written = evidence_figures.main(['curves', '--multi-mnist', capsnet, '--affine', capsnet,
                                     baseline, '--out', str(out)])
    assert [path.name for path in written] == [
        'learning_curves_multi_mnist.png', 'learning_curves_multi_mnist.dark.png',
        'learning_curves_affine.png', 'learning_curves_affine.dark.png']
    assert all(path.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n' for path in written)


def test_the_learning_curves_take_the_capsnet_run_first(tmp_path):
    capsnet = curve_run(tmp_path / 'capsnet', {}, [0.1, 0.5])
    baseline = curve_run(tmp_path / 'baseline', {'model': 'baseline'}, [0.1, 0.4])
    with pytest.raises(checkpoint.CheckpointError, match='is a run of model=baseline; give the '
                                                         'run of model=capsnet, then that of'):
        evidence_figures.main(['curves', '--affine', baseline, capsnet, '--out',
                               str(tmp_path / 'out')])
