"""
The experiment end to end on the CPU: command-line configs, a short training run tracked by labml,
checkpoints, resuming and evaluation.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from labml_nn.capsule_networks import mnist as experiment
from labml_nn.helpers import checkpoint
from labml_nn.helpers import mnist as mnist_data
from labml_nn.helpers.configs import ConfigError, parse_arguments

# Trains, builds or starts a process, a server or a browser: the full suite only, not `make check`
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures('logs')]

# A run small enough for a test: a few hundred images, small batches, no compilation
TINY = ['device=cpu', 'train_subset=256', 'valid_subset=128', 'batch_size=64', 'compile=off']


def metrics(run_path: Path):
    """Every tracked value of a run's log.jsonl: {key: [(step, value), ...]}."""
    found = {}
    for line in (run_path / 'log.jsonl').read_text().splitlines():
        for key, points in json.loads(line)['track'].items():
            found.setdefault(key, []).extend((step, values[0]) for step, values in points)
    return found


def test_unknown_config_stops_before_any_work_naming_it_and_listing_the_valid_ones(logs):
    before = set(logs.rglob('*'))
    with pytest.raises(ConfigError) as error:
        experiment.main(['epochs=1', 'learning_rat=0.1'])
    message = str(error.value)
    assert 'learning_rat' in message
    assert 'learning_rate' in message and 'routing_iterations' in message and 'batch_size' in message
    assert set(logs.rglob('*')) == before


@pytest.mark.parametrize('argument, expected', [
    ('epochs=ten', 'epochs must be an integer'),
    ('learning_rate=fast', 'learning_rate must be a number'),
    ('gradient_through_routing=maybe', 'gradient_through_routing is true or false'),
    ('schedule=linear', 'schedule is one of one_cycle, constant'),
    ('device=tpu', 'device is one of auto, cpu, cuda'),
    ('epochs', 'not of the form key=value'),
])
def test_a_value_of_the_wrong_type_names_the_key(argument, expected):
    with pytest.raises(ConfigError, match=expected) as error:
        experiment.main([argument])
    assert 'Valid configs:' in str(error.value)


def test_a_training_subset_smaller_than_a_batch_is_refused_before_training(logs):
    before = set(logs.rglob('*'))
    with pytest.raises(ConfigError, match='fewer than one batch'):
        experiment.main(['device=cpu', 'train_subset=100', 'batch_size=128'])
    assert set(logs.rglob('*')) == before


def test_command_line_overrides_are_typed():
    overrides = parse_arguments(experiment.Configs, [
        'epochs=1', 'routing_iterations=1', 'device=cpu', 'learning_rate=2e-3',
        'gradient_through_routing=false'])
    assert overrides == {'epochs': 1, 'routing_iterations': 1, 'device': 'cpu', 'learning_rate': 2e-3,
                         'gradient_through_routing': False}


def test_help_gives_the_usage_and_lists_every_config_a_user_sets_with_its_default(capsys):
    experiment.main(['--help'])
    text = capsys.readouterr().out
    assert text.startswith('usage: python -m labml_nn.capsule_networks.mnist '
                           '[--pause-after SECONDS] [key=value ...]\n')
    assert '--resume RUN' in text and '--evaluate RUN' in text and '--pause-after' in text
    for line in ('epochs=30', 'batch_size=512', 'routing_iterations=3', 'reconstruction_weight=0.0005',
                 'device=auto    [auto | cpu | cuda | mps | cuda:0 | cuda:1 |', 'schedule=one_cycle    [one_cycle | constant]',
                 'valid_every=0', 'curve_start=0', 'train_subset=0', 'data_path='):
        assert line in text
    # The experiment's own objects, computed from the configs, are not listed
    for name in ('forward', 'generator', 'train_data', 'test_digits', 'valid_data'):
        assert f'\n  {name}=' not in text


def test_a_mistake_on_the_command_line_ends_the_process_with_one_line_and_no_traceback(logs):
    result = subprocess.run([sys.executable, '-m', 'labml_nn.capsule_networks.mnist', 'learning_rat=1'],
                            cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.startswith('error: Unknown config "learning_rat"')
    assert 'Traceback' not in result.stderr


def test_corrupt_data_stops_the_run_with_one_clear_message(tmp_path, mnist_copy, offline, logs):
    with open(mnist_copy / 'train-images-idx3-ubyte', 'r+b') as f:
        f.seek(1000)
        f.write(b'\xff' * 16)
    before = set(logs.rglob('*'))
    with pytest.raises(mnist_data.MNISTDataError, match='train-images-idx3-ubyte is corrupt'):
        experiment.main(TINY + [f'data_path={tmp_path}'])
    # No run was started on the partial data
    assert set(logs.rglob('*')) == before


@pytest.fixture(scope='module')
def short_run():
    """Two epochs on 4,096 images, compiled as by default: long enough to learn, a minute or so."""
    return experiment.main(['device=cpu', 'train_subset=4096', 'valid_subset=1024', 'batch_size=64',
                            'learning_rate=1e-3', 'epochs=2'])


def test_a_short_cpu_run_lowers_the_loss_and_beats_chance_by_far(short_run):
    tracked = metrics(short_run)
    losses = [value for _, value in tracked['loss.train']]
    assert len(losses) == 2 and losses[1] < losses[0]
    # Chance is 10%
    assert tracked['accuracy.valid'][-1][1] > 0.7


def test_the_run_folder_holds_the_log_configs_checkpoint_and_reconstructions(short_run):
    tracked = metrics(short_run)
    for key in ('loss.train', 'margin_loss.train', 'reconstruction_loss.train', 'accuracy.train',
                'loss.valid', 'margin_loss.valid', 'reconstruction_loss.valid', 'accuracy.valid',
                'time.train', 'images_per_second.train'):
        assert [step for step, _ in tracked[key]] == [4096, 8192], key
    configs = (short_run / 'configs.yaml').read_text()
    assert 'train_subset' in configs and '4096' in configs
    assert (short_run / checkpoint.FILE_NAME).is_file()
    assert (short_run / 'reconstructions.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_evaluation_only_mode_prints_the_checkpoints_test_accuracy(short_run, capsys):
    accuracy = experiment.main(['--evaluate', short_run.name])
    # The same weights on the same 1,024 test images; in bfloat16, with the model compiled
    # afresh, a digit or two on the edge between two classes may fall the other way.
    assert accuracy == pytest.approx(metrics(short_run)['accuracy.valid'][-1][1], abs=2 / 1024)
    assert 'Test accuracy' in capsys.readouterr().out


def test_a_resumed_run_continues_exactly_where_it_stopped(logs, monkeypatch):
    straight = experiment.main(TINY + ['epochs=2'])

    # A run of two epochs, stopped (as with Ctrl-C) right after its first checkpoint
    save = checkpoint.save

    def save_then_stop(path, state):
        save(path, state)
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint, 'save', save_then_stop)
    before = set((logs / experiment.EXPERIMENT_NAME).iterdir())
    with pytest.raises(KeyboardInterrupt):
        experiment.main(TINY + ['epochs=2'])
    monkeypatch.undo()
    interrupted, = set((logs / experiment.EXPERIMENT_NAME).iterdir()) - before
    assert checkpoint.load(interrupted / checkpoint.FILE_NAME, torch.device('cpu'))['epoch'] == 1

    resumed = experiment.main(['--resume', interrupted.name])
    assert resumed == interrupted
    final = checkpoint.load(resumed / checkpoint.FILE_NAME, torch.device('cpu'))
    reference = checkpoint.load(straight / checkpoint.FILE_NAME, torch.device('cpu'))
    assert final['epoch'] == 2 and final['global_step'] == reference['global_step']
    # The same weights, optimizer state, schedule and random generator as the run that was never
    # stopped
    for name, tensor in reference['state']['model'].items():
        assert torch.equal(final['state']['model'][name], tensor), name
    optimizer, expected = final['state']['optimizer'], reference['state']['optimizer']
    assert optimizer['param_groups'] == expected['param_groups']
    assert optimizer['state'].keys() == expected['state'].keys()
    for index, state in expected['state'].items():
        for key, value in state.items():
            assert torch.equal(optimizer['state'][index][key], value), (index, key)
    assert final['state']['schedule'] == reference['state']['schedule']
    assert torch.equal(final['state']['generator'], reference['state']['generator'])
    # The metrics continue in the same run, at the next step
    assert [step for step, _ in metrics(resumed)['loss.train']] == [256, 512]
    assert metrics(resumed)['loss.train'] == metrics(straight)['loss.train']


def test_resume_refuses_new_configs():
    with pytest.raises(ConfigError, match='keeps the configs it was started with; leave out learning_rate=1'):
        experiment.main(['--resume', 'some-run', 'learning_rate=1'])


def test_a_missing_checkpoint_is_a_clear_error():
    with pytest.raises(checkpoint.CheckpointError, match='No checkpoint for "no-such-run"'):
        experiment.main(['--evaluate', 'no-such-run'])


def test_an_interrupted_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / checkpoint.FILE_NAME
    checkpoint.save(path, {'epoch': 1})

    def broken_save(state, f):
        f.write(b'half a checkpoint')
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, 'save', broken_save)
    with pytest.raises(KeyboardInterrupt):
        checkpoint.save(path, {'epoch': 2})
    monkeypatch.undo()
    assert checkpoint.load(path, torch.device('cpu')) == {'epoch': 1}
    assert [p.name for p in tmp_path.iterdir()] == [checkpoint.FILE_NAME]
