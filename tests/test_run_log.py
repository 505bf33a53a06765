"""
A run's log.jsonl read back, one value per key and epoch, for the pictures and for the benchmark's
time to accuracy; a missing or unreadable log says which file and why.
"""

import json
from pathlib import Path

import pytest

from bench import experiment_log
from labml_nn.helpers import run_log


def write_log(folder: Path, lines):
    """A log.jsonl in `folder`, one JSON object per line."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / run_log.FILE_NAME).write_text(''.join(json.dumps(line) + '\n' for line in lines))


def epoch_line(step, loss, accuracy, train_seconds=None):
    """One epoch's line as the training loop logs it."""
    track = {f'{key}.{split}': [[step, [value]]]
             for key, value in (('loss', loss), ('accuracy', accuracy))
             for split in ('train', 'valid')}
    if train_seconds is not None:
        track['time.train'] = [[step, [train_seconds]]]
    return {'track': track}


def test_each_epoch_is_read_once_the_last_value_of_a_step_kept(tmp_path):
    write_log(tmp_path, [epoch_line(512, 0.5, 0.8), {'track': {}}, epoch_line(1024, 0.3, 0.85),
                         epoch_line(1024, 0.2, 0.9)])
    log = run_log.read_log(tmp_path)
    assert log['loss.train'] == [(512, 0.5), (1024, 0.2)]
    assert log['accuracy.valid'] == [(512, 0.8), (1024, 0.9)]


def test_a_run_folder_without_a_log_or_an_epoch_says_so(tmp_path):
    with pytest.raises(run_log.RunLogError,
                       match=r'log\.jsonl does not exist: give the folder of a training run'):
        run_log.read_log(tmp_path / 'nowhere')
    write_log(tmp_path, [{'track': {}}])
    with pytest.raises(run_log.RunLogError, match='has no record yet'):
        run_log.read_log(tmp_path)


def test_a_line_that_is_not_labmls_names_the_file_and_line(tmp_path):
    write_log(tmp_path, [epoch_line(512, 0.5, 0.8)])
    with open(tmp_path / run_log.FILE_NAME, 'a') as log:
        log.write('{"not": "a track"}\n')
    with pytest.raises(run_log.RunLogError, match=r'log\.jsonl:2 is not a line of a labml log'):
        run_log.read_log(tmp_path)


def test_the_time_to_each_accuracy_of_an_experiment_run_is_read_from_its_log(tmp_path):
    write_log(tmp_path / 'run', [epoch_line(512, 0.5, 0.985, 10.0),
                                 epoch_line(1024, 0.3, 0.9962, 21.5),
                                 epoch_line(1536, 0.2, 0.9955, 33.0)])
    assert experiment_log.describe(tmp_path / 'run') == (
        'experiment run: epochs=3 train=33.0s best=99.62% '
        'to99.0=21.5s to99.5=21.5s to99.6=21.5s to99.7=-')


def test_an_experiment_run_without_an_epoch_is_described_as_such(tmp_path):
    write_log(tmp_path / 'run', [{'track': {}}])
    assert experiment_log.describe(tmp_path / 'run').startswith('experiment run: ')
    assert 'has no record yet' in experiment_log.describe(tmp_path / 'run')
