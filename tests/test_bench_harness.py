"""
The benchmark harness: its report from given results, its ratios, and the clear stops when the
anchor, our runner or a runner's output is not what it should be.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import run

THRESHOLDS = ('99.0', '99.5', '99.6', '99.7')


def result(runner, setting='default', *, mode='throughput', device='cpu', images_per_second=None,
           memory=1000.0, memory_kind='cpu_peak_rss', times=None, best=None, batch_size=64, precision='fp32'):
    """
    A result as a runner prints it, with the two keys the harness adds.
    """
    return {'name': 'labml-nn 0.5.1' if runner == 'anchor' else 'ours', 'mode': mode, 'device': device,
            'device_name': 'a processor', 'threads': 2, 'batch_size': batch_size, 'precision': precision,
            'images_per_second': images_per_second, 'train_images': 1280, 'train_seconds': 10.0,
            'peak_memory_mb': memory, 'memory_kind': memory_kind,
            'time_to_accuracy': {t: (times or {}).get(t) for t in THRESHOLDS},
            'best_accuracy': best, 'accuracy_history': [], 'epochs': 0.1, 'torch': '2.x',
            'notes': [], 'runner': runner, 'setting': setting}


@pytest.fixture
def throughput_results():
    return [result('anchor', images_per_second=73.1, memory=1200.0),
            result('ours', images_per_second=150.2, memory=900.0, batch_size=256, precision='bf16'),
            result('ours', run.SAME_SETTING, images_per_second=100.0, memory=600.0)]


@pytest.fixture
def accuracy_results():
    return [result('anchor', mode='accuracy', images_per_second=70.0, best=99.52,
                   times={'99.0': 300.0, '99.5': 900.0}),
            result('ours', mode='accuracy', images_per_second=140.0, best=99.71,
                   times={'99.0': 120.0, '99.5': 300.0, '99.6': 450.0, '99.7': 800.0})]


def test_ratios_are_ours_over_the_anchor_for_speed_and_memory(throughput_results):
    compared = run.ratios(throughput_results)
    assert [c['label'] for c in compared] == ['ours', 'ours, batch 64 fp32']
    assert compared[0]['images_per_second'] == pytest.approx(150.2 / 73.1)
    assert compared[0]['peak_memory'] == pytest.approx(0.75)
    assert compared[1]['images_per_second'] == pytest.approx(100.0 / 73.1)
    assert compared[1]['peak_memory'] == pytest.approx(0.5)


def test_time_ratios_exist_only_where_both_reached_the_threshold(accuracy_results):
    (compared,) = run.ratios(accuracy_results)
    assert compared['time_to_accuracy'] == {'99.0': pytest.approx(0.4), '99.5': pytest.approx(1 / 3),
                                            '99.6': None, '99.7': None}


def test_results_are_compared_only_on_the_same_device_and_mode(throughput_results):
    on_gpu = result('ours', device='cuda', images_per_second=5000.0, memory_kind='cuda_max_allocated')
    other_mode = result('ours', mode='accuracy', images_per_second=80.0)
    assert [c['label'] for c in run.ratios(throughput_results[:1] + [on_gpu, other_mode])] == []


def test_memory_of_different_kinds_is_not_compared():
    results = [result('anchor', images_per_second=1.0, memory=1000.0),
               result('ours', images_per_second=2.0, memory=10.0, memory_kind='cuda_max_allocated')]
    assert run.ratios(results)[0]['peak_memory'] is None


def test_the_table_has_a_row_per_result_with_its_settings_and_numbers(throughput_results):
    lines = run.format_table(throughput_results).splitlines()
    assert lines[0].split()[:7] == ['runner', 'mode', 'device', 'batch', 'precision', 'img/s', 'peak']
    assert lines[1].split()[:8] == ['anchor', 'throughput', 'cpu', '64', 'fp32', '73.1', '1200', '(rss)']
    assert lines[2].split()[:8] == ['ours', 'throughput', 'cpu', '256', 'bf16', '150.2', '900', '(rss)']
    assert lines[3].startswith('ours, batch 64 fp32')
    # No accuracy in throughput mode: a dash in each of the five accuracy columns.
    assert lines[1].split()[-5:] == ['-'] * 5


def test_the_summary_is_the_last_line_with_speeds_and_speedups(throughput_results):
    last = run.report(throughput_results).splitlines()[-1]
    assert last == ('summary: device=cpu ours=150.2 img/s ours@b64-fp32=100.0 img/s anchor=73.1 img/s '
                    'speedup=2.05x speedup@b64-fp32=1.37x memory=0.75x memory@b64-fp32=0.50x')


def test_the_accuracy_summary_gives_each_time_and_its_ratio(accuracy_results):
    last = run.report(accuracy_results).splitlines()[-1]
    assert last.startswith('summary: device=cpu ours_best=99.71% anchor_best=99.52% ')
    assert 'ours_to99.0=120.0s anchor_to99.0=300.0s ratio_to99.0=0.40x' in last
    assert 'ours_to99.7=800.0s anchor_to99.7=- ratio_to99.7=-' in last


def test_the_report_shows_each_note_once_and_the_ratio_table(throughput_results):
    throughput_results[0]['notes'] = ['Its training loop is mirrored.']
    anchor_accuracy = result('anchor', mode='accuracy', best=98.0)
    anchor_accuracy['notes'] = ['Its training loop is mirrored.']
    text = run.report(throughput_results + [anchor_accuracy])
    assert text.count('note (anchor, labml-nn 0.5.1): Its training loop is mirrored.') == 1
    assert 'ours / anchor' in text and '2.05x' in text


def test_the_report_names_each_device_that_gave_numbers_once(throughput_results):
    text = run.report(throughput_results)
    assert text.count('device cpu: a processor, 2 torch threads, torch 2.x') == 1


def test_the_anchor_alone_gives_a_summary_without_ratios():
    only = [result('anchor', images_per_second=73.14)]
    assert run.report(only).splitlines()[-1] == 'summary: device=cpu anchor=73.1 img/s'
    assert 'ours / anchor' not in run.report(only)


def test_saved_results_are_reported_again_without_training(tmp_path, capsys, throughput_results):
    saved = tmp_path / 'results.json'
    saved.write_text(json.dumps(throughput_results))
    run.main(['--table', str(saved)])
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith('summary: device=cpu ours=150.2')


def test_reporting_a_missing_results_file_names_it(tmp_path):
    with pytest.raises(run.BenchError, match='no saved results in .*absent.json'):
        run.main(['--table', str(tmp_path / 'absent.json')])


def test_the_quick_plan_trains_the_anchor_once_and_ours_at_both_settings():
    runs = run.plan(run.parse_args(['--quick']))
    assert [(r['runner'], r['setting']) for r in runs] == [
        ('anchor', 'default'), ('ours', 'default'), ('ours', run.SAME_SETTING)]
    assert runs[1]['options'].get('batch_size') is None
    assert (runs[2]['options']['batch_size'], runs[2]['options']['precision']) == (64, 'fp32')
    assert all(r['options']['steps'] == run.QUICK_STEPS['steps'] for r in runs)
    # Each runner sees its own labml_nn.
    assert runs[0]['pythonpath'] == run.ANCHOR_FOLDER and runs[1]['pythonpath'] == run.REPO


def test_an_accuracy_plan_compares_the_defaults_and_passes_the_caps():
    runs = run.plan(run.parse_args(['--accuracy', '--epochs', '4', '--max-seconds', '60']))
    assert [(r['runner'], r['setting']) for r in runs] == [('anchor', 'default'), ('ours', 'default')]
    command = run.runner_command(run.ANCHOR_SCRIPT, runs[0]['options'])
    assert command[:2] == [sys.executable, str(run.ANCHOR_SCRIPT)]
    assert ' '.join(command[2:]).startswith('--mode accuracy --device auto --data ')
    assert '--epochs 4 --max-seconds 60.0' in ' '.join(command)
    # Options left to the runner's defaults are not passed.
    assert '--batch-size' not in command and '--train-images' not in command


def test_unknown_runners_are_refused():
    with pytest.raises(SystemExit):
        run.parse_args(['--runners', 'anchor,theirs'])


def test_a_folder_without_the_anchor_stops_with_the_install_command(tmp_path):
    with pytest.raises(run.BenchError) as error:
        run.require_anchor(tmp_path / 'anchor')
    message = str(error.value)
    assert 'labml-nn 0.5.1 is not installed' in message
    assert f'--no-deps --target {tmp_path / "anchor"} labml-nn==0.5.1' in message


def test_a_failed_install_says_what_failed_and_leaves_no_folder_behind(tmp_path):
    folder = tmp_path / 'anchor'
    with pytest.raises(run.BenchError) as error:
        run.install_anchor(folder, str(tmp_path / 'labml_nn-0.5.1-py3-none-any.whl'))
    assert 'Could not install labml-nn 0.5.1' in str(error.value)
    assert '--anchor-wheel' in str(error.value)
    assert not folder.exists() and not (tmp_path / 'anchor.partial').exists()


def test_a_missing_runner_for_ours_stops_before_the_anchor_trains(tmp_path, monkeypatch):
    monkeypatch.setattr(run, 'OURS_SCRIPT', tmp_path / 'ours.py')
    monkeypatch.setattr(run, 'run_runner', lambda *args: pytest.fail('a runner was started'))
    monkeypatch.setattr(run, 'install_anchor', lambda *args: pytest.fail('the anchor was installed'))
    with pytest.raises(run.BenchError) as error:
        run.main(['--quick'])
    assert 'ours.py does not exist' in str(error.value)
    assert '--runners anchor' in str(error.value)


def write_runner(tmp_path: Path, body: str) -> Path:
    script = tmp_path / 'runner.py'
    script.write_text(body)
    return script


def test_a_runner_result_is_the_json_on_its_last_line(tmp_path):
    script = write_runner(tmp_path, 'import os\nprint("warming up")\n'
                                    'print(\'{"name": "x", "path": "%s"}\' % os.environ["PYTHONPATH"])\n')
    returned = run.run_runner([sys.executable, str(script)], tmp_path)
    assert returned['name'] == 'x'
    # The runner's folder comes first on PYTHONPATH.
    assert returned['path'].split(os.pathsep)[0] == str(tmp_path)


def test_a_failing_runner_stops_the_benchmark(tmp_path):
    script = write_runner(tmp_path, 'raise SystemExit("no data")\n')
    with pytest.raises(run.BenchError, match='runner.py failed with exit status 1'):
        run.run_runner([sys.executable, str(script)], tmp_path)


def test_a_runner_without_a_json_last_line_stops_the_benchmark(tmp_path):
    script = write_runner(tmp_path, 'print("done")\n')
    with pytest.raises(run.BenchError, match="did not print a JSON object.*'done'"):
        run.run_runner([sys.executable, str(script)], tmp_path)


def run_anchor_script(pythonpath: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(run.ANCHOR_SCRIPT), *options], capture_output=True, text=True,
                          env={**os.environ, 'PYTHONPATH': str(pythonpath)}, cwd=run.REPO)


def test_the_anchor_runner_refuses_this_projects_labml_nn():
    done = run_anchor_script(run.REPO, '--mode', 'throughput', '--steps', '0', '--warmup-steps', '0',
                             '--data', str(run.REPO / 'data'))
    assert done.returncode != 0
    assert 'which is not labml-nn 0.5.1' in done.stderr


def test_the_anchor_runner_trains_and_prints_the_contracts_json():
    # Installed as `make bench` installs it (once; later runs reuse the folder)
    run.install_anchor(run.ANCHOR_FOLDER)
    done = run_anchor_script(run.ANCHOR_FOLDER, '--mode', 'accuracy', '--device', 'cpu', '--epochs', '1',
                             '--train-images', '64', '--test-images', '64', '--data', str(run.REPO / 'data'))
    assert done.returncode == 0, done.stderr
    returned = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(returned) >= {'name', 'device', 'batch_size', 'precision', 'images_per_second', 'peak_memory_mb',
                             'memory_kind', 'time_to_accuracy', 'best_accuracy', 'epochs', 'train_seconds', 'notes'}
    assert (returned['name'], returned['device'], returned['batch_size'], returned['precision']) == \
           ('labml-nn 0.5.1', 'cpu', 64, 'fp32')
    assert list(returned['time_to_accuracy']) == list(THRESHOLDS)
    # One step of 64 images, then one evaluation.
    assert returned['train_images'] == 64 and len(returned['accuracy_history']) == 1
    assert any('main() does not run with labml 0.5.3' in note for note in returned['notes'])


def test_our_runner_trains_the_experiment_and_prints_the_contracts_json():
    done = subprocess.run([sys.executable, str(run.OURS_SCRIPT), '--mode', 'throughput', '--device', 'cpu',
                           '--batch-size', '64', '--precision', 'fp32', '--warmup-steps', '1', '--steps', '2',
                           '--train-images', '128', '--test-images', '64', '--data', str(run.REPO / 'data')],
                          capture_output=True, text=True, cwd=run.REPO)
    assert done.returncode == 0, done.stderr
    returned = json.loads(done.stdout.strip().splitlines()[-1])
    assert (returned['name'], returned['device'], returned['batch_size'], returned['precision']) == \
           ('ours', 'cpu', 64, 'fp32')
    # Three steps of 64 images, two of them timed, on 128 training images
    assert returned['train_images'] == 128 and returned['epochs'] == pytest.approx(3 * 64 / 128)
    assert returned['images_per_second'] > 0 and returned['memory_kind'] == 'cpu_peak_rss'
