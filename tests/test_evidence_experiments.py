"""
The experiments of the paper's evidence, wired through the same command line as MNIST: the
baseline on MNIST, MultiMNIST with either model, and the affine experiment that stops at a test
accuracy and then tests on the transformed digits; each tracked in a run folder, each with
`--evaluate`.
"""

from pathlib import Path
from typing import Dict, List, Tuple

import pytest
import torch

from labml_nn.capsule_networks import affine, mnist, multi_mnist
from labml_nn.capsule_networks.baseline import BaselineCNN
from labml_nn.capsule_networks.multi_mnist import MultiMNISTCapsuleNetworkModel
from labml_nn.helpers import checkpoint
from labml_nn.helpers.run_log import read_log

# Trains, builds or starts a process, a server or a browser: the full suite only, not `make check`
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures('logs')]

# Runs small enough for a test: one batch of 32 digits, no compilation
TINY = ['device=cpu', 'train_subset=32', 'valid_subset=32', 'batch_size=32', 'compile=off']


def epochs_logged(run_path: Path) -> List[Dict[str, float]]:
    """The values of each epoch in a run's log.jsonl, one dictionary per epoch."""
    epochs: Dict[int, Dict[str, float]] = {}
    for key, points in read_log(run_path).items():
        for step, value in points:
            epochs.setdefault(step, {})[key] = value
    return [epochs[step] for step in sorted(epochs)]


def configured(configs_class, **overrides):
    """A configs object of the experiment, set as the command line would set it."""
    conf = configs_class()
    for key, value in {'device': 'cpu', 'compile': 'off', 'precision': 'fp32',
                       **overrides}.items():
        setattr(conf, key, value)
    conf.stateful()
    return conf


def test_model_baseline_trains_the_baseline_cnn_a_step_on_mnist():
    conf = configured(mnist.Configs, model='baseline', batch_size=8, train_subset=8)
    assert isinstance(conf.model, BaselineCNN)
    before = [p.detach().clone() for p in conf.model.parameters()]
    batch = next(iter(conf.train_batches()))
    sums = conf.step(batch, is_train=True)
    # The baseline's loss is the cross-entropy alone: no margin or reconstruction loss
    assert set(sums) == {'loss', 'accuracy', 'samples'} and sums['samples'] == 8
    assert torch.isfinite(sums['loss'])
    assert all(not torch.equal(b, p) for b, p in zip(before, conf.model.parameters()))


def test_each_experiment_builds_each_model_for_its_canvas():
    assert isinstance(configured(multi_mnist.Configs).model, MultiMNISTCapsuleNetworkModel)
    assert configured(multi_mnist.Configs, model='baseline').model.fc1.in_features == 128 * 36 ** 2
    assert configured(affine.Configs).model.image_size == 40
    assert configured(affine.Configs, model='baseline').model.fc1.in_features == 128 * 40 ** 2


@pytest.fixture(scope='module', params=['capsnet', 'baseline'])
def multi_mnist_run(request) -> Tuple[str, Path]:
    """One epoch of MultiMNIST on 64 training digits, tested on the first 32 test pairs."""
    return request.param, multi_mnist.main(TINY + ['epochs=1', f'model={request.param}'])


def test_a_tiny_multi_mnist_run_writes_a_run_folder_scored_on_both_digits(multi_mnist_run):
    model, run_path = multi_mnist_run
    assert run_path.parent.name == 'capsule_network_multi_mnist'
    assert (run_path / 'checkpoint.pt').is_file() and (run_path / 'configs.yaml').is_file()
    (epoch,) = epochs_logged(run_path)
    assert 0 <= epoch['accuracy.valid'] <= 1
    # The CapsNet has a margin and a reconstruction loss, the baseline neither
    assert ('reconstruction_loss.valid' in epoch) == (model == 'capsnet')


def test_evaluate_gives_a_multi_mnist_run_the_accuracy_it_logged(multi_mnist_run):
    _, run_path = multi_mnist_run
    (epoch,) = epochs_logged(run_path)
    accuracy = multi_mnist.main(['--evaluate', str(run_path)])
    assert accuracy == pytest.approx(epoch['accuracy.valid'], abs=1 / 32 + 1e-9)


def test_the_affine_experiment_stops_at_its_target_and_tests_on_the_transformed_digits():
    # Any accuracy reaches a target of 0: the first of three epochs is the last
    run_path = affine.main(TINY + ['epochs=3', 'stop_accuracy=0', 'affine_subset=32'])
    (epoch,) = epochs_logged(run_path)
    assert 0 <= epoch['accuracy.affine'] <= 1 and 'accuracy.valid' in epoch
    assert checkpoint.load(run_path / checkpoint.FILE_NAME, torch.device('cpu'))['epoch'] == 1


def test_a_run_that_reached_its_goal_has_finished_and_resuming_it_changes_nothing(capsys):
    run_path = affine.main(TINY + ['epochs=3', 'stop_accuracy=0', 'affine_subset=32'])
    before = {path: path.read_bytes() for path in run_path.rglob('*') if path.is_file()}
    capsys.readouterr()
    assert affine.main(['--resume', str(run_path)]) == run_path
    assert 'reached its goal after 1 of its 3 epochs: nothing to resume, nothing changed' in \
        capsys.readouterr().out
    assert {path: path.read_bytes() for path in run_path.rglob('*') if path.is_file()} == before


def test_an_affine_run_that_misses_its_target_trains_every_epoch_then_tests_once(capsys):
    # A target of all 32 validation digits right, which 2 epochs on 32 digits do not reach
    run_path = affine.main(TINY + ['epochs=2', 'stop_accuracy=1', 'affine_subset=32',
                                   'model=baseline'])
    first, last = epochs_logged(run_path)
    assert 'accuracy.affine' not in first and 'accuracy.affine' in last
    # --evaluate tests the checkpoint on both sets, the same digits as at the end of training
    capsys.readouterr()
    affine.main(['--evaluate', str(run_path)])
    printed = capsys.readouterr().out
    assert f'accuracy.affine: {last["accuracy.affine"]:.2%}' in printed


def test_a_time_budget_stops_training_after_the_epoch_that_passes_it():
    run_path = multi_mnist.main(TINY + ['epochs=3', 'time_budget=0.001'])
    assert len(epochs_logged(run_path)) == 1
