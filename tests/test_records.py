"""
Records between epochs: a run validates and checkpoints every `valid_every` training examples and
at `curve_start` times a power of two, besides the end of each epoch; it resumes from any of those
checkpoints within an epoch to exactly the weights of a run never interrupted; `--pause-after`
pauses it there, unfinished.
"""

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from labml_nn.capsule_networks import multi_mnist
from labml_nn.helpers import checkpoint, resuming, run_log
from labml_nn.helpers.configs import ConfigError
from labml_nn.helpers.runner import TrainedRun
from labml_nn.helpers.trainer import TrainValidConfigs, is_record_point

# labml writes the runs of these tests to a temporary folder
pytestmark = pytest.mark.usefixtures('logs')

# Two epochs of eight MultiMNIST batches of 16, no compilation
TINY = ['device=cpu', 'epochs=2', 'train_subset=128', 'valid_subset=32', 'batch_size=16',
        'learning_rate=1e-3', 'compile=off', 'precision=fp32', 'curve_start=16',
        'valid_every=48']


def configs(valid_every: int, curve_start: int) -> TrainValidConfigs:
    conf = TrainValidConfigs()
    conf.valid_every, conf.curve_start = valid_every, curve_start
    return conf


def points(conf: TrainValidConfigs, steps: int, batch: int):
    """The training examples seen at each record point of `steps` steps of `batch` examples."""
    return [k * batch for k in range(1, steps + 1) if is_record_point(conf, (k - 1) * batch,
                                                                      k * batch)]


def test_records_fall_every_valid_every_examples_and_where_the_curve_doubles():
    assert points(configs(0, 0), 20, 10) == []
    assert points(configs(50, 0), 20, 10) == [50, 100, 150, 200]
    # A point within a step falls at the end of that step: 1000 is passed at 1050
    assert points(configs(0, 100), 20, 50) == [100, 200, 400, 800]
    assert points(configs(0, 100), 30, 75) == [150, 225, 450, 825, 1650]
    assert points(configs(300, 100), 10, 100) == [100, 200, 300, 400, 600, 800, 900]


@pytest.fixture(scope='module')
def uninterrupted():
    """The tiny run, trained in one go."""
    return multi_mnist.main(TINY)


# The tiny run with fewer records, to pause at each: within each epoch, and at its end
PAUSED = [argument for argument in TINY if not argument.startswith('curve_start')]
PAUSED = [argument if not argument.startswith('valid_every') else 'valid_every=96'
          for argument in PAUSED]


@pytest.mark.slow
def test_a_run_logs_its_records_at_the_curve_points_every_valid_every_and_at_epoch_ends(
        uninterrupted):
    steps = [step for step, _ in run_log.read_log(uninterrupted)['accuracy.valid']]
    # Curve: 16, 32, 64, 128, 256; every 48: 48, 96, 144, 192, 240; ends of epochs: 128, 256
    assert steps == [16, 32, 48, 64, 96, 128, 144, 192, 240, 256]
    log = run_log.read_log(uninterrupted)
    # The clocks of the training time only grow, wall-clock and CPU
    for key in ('time.train', 'cpu_time.train'):
        values = [value for _, value in log[key]]
        assert values == sorted(values) and values[0] > 0


@pytest.mark.slow
def test_a_run_paused_at_every_record_and_resumed_ends_with_the_weights_of_one_never_paused():
    whole = checkpoint.load(multi_mnist.main(PAUSED) / checkpoint.FILE_NAME, torch.device('cpu'))
    paused = multi_mnist.main(['--pause-after', '1e-9'] + PAUSED)
    state = checkpoint.load(paused / checkpoint.FILE_NAME, torch.device('cpu'))
    # Paused at its first record, within its first epoch: not finished
    assert (state['epoch'], state['epoch_batches'], state['global_step']) == (0, 6, 96)
    assert not state['reached_goal']
    resumes = 0
    while state['epoch'] < 2:
        multi_mnist.main(['--resume', str(paused), '--pause-after', '1e-9'])
        state = checkpoint.load(paused / checkpoint.FILE_NAME, torch.device('cpu'))
        resumes += 1
    # One resume per record after the first: 128 (the end of the first epoch), 192, 256
    assert resumes == 3
    for key, weights in whole['state']['model'].items():
        assert torch.equal(weights, state['state']['model'][key]), key
    assert [step for step, _ in state['records']] == [96, 128, 192, 256]
    assert [step for step, _ in whole['records']] == [96, 128, 192, 256]
    # The log holds each record once, in order
    assert [step for step, _ in run_log.read_log(paused)['accuracy.valid']] == [96, 128, 192, 256]


def test_replaying_an_epoch_that_leaves_the_generator_elsewhere_than_the_checkpoint_stops():
    generator = torch.Generator().manual_seed(0)
    start = generator.get_state()
    batches = iter(torch.rand(3, generator=generator) for _ in range(5))
    with pytest.raises(checkpoint.CheckpointError, match="left the generator 'generator' "
                                                         'elsewhere than the checkpoint'):
        resuming.replay(batches, 2, {'generator': generator}, {'generator': start},
                        {'state': {'generator': torch.Generator().manual_seed(1).get_state()}})


@pytest.mark.parametrize('arguments, message', [
    (['--pause-after'], '--pause-after needs a number of seconds'),
    (['--pause-after', 'soon'], "--pause-after needs a number of seconds above 0, such as "
                                "--pause-after 3600; got 'soon'"),
    (['--pause-after', '0'], 'above 0'),
    (['--pause-after', 'inf'], 'above 0'),
    (['--evaluate', 'run', '--pause-after', '10'], '--evaluate trains nothing'),
])
def test_pause_after_takes_a_number_of_seconds_above_0_and_only_when_training(arguments, message):
    with pytest.raises(ConfigError, match=message):
        multi_mnist.EXPERIMENT.parse(arguments)


def test_a_run_is_described_by_its_epochs_or_by_its_examples_within_an_epoch():
    def described(**state):
        return TrainedRun(SimpleNamespace(epochs=6), Path('checkpoint.pt'), state).described

    assert described(epoch=1, global_step=60_000) == '1 epoch'
    assert described(epoch=2, global_step=120_000, epoch_batches=0) == '2 epochs'
    assert described(epoch=0, global_step=32_768, epoch_batches=256) == (
        '32,768 training examples, in epoch 1 of 6')
