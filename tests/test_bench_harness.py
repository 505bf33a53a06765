"""
The benchmark harness: its report from given results, its ratios, and the clear stops when the
anchor or a runner's output is not what it should be; and both runners, run for a few steps, train
and say what they did.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from bench import run

# Trains, builds or starts a process, a server or a browser: the full suite only, not `make check`
pytestmark = pytest.mark.slow

THRESHOLDS = ('99.0', '99.5', '99.6', '99.7')


def result(runner, setting='default', *, mode='throughput', device='cpu', images_per_second=None,
           memory=1000.0, memory_kind='cpu_peak_rss', times=None, best=None, batch_size=64,
           precision='fp32', compiled=False):
    """
    A result as a runner prints it, with the two keys the harness adds.
    """
    return {'name': 'labml-nn 0.5.1' if runner == 'anchor' else 'ours', 'mode': mode,
            'device': device, 'device_name': 'a processor', 'threads': 2, 'batch_size': batch_size,
            'precision': precision, 'compiled': compiled, 'images_per_second': images_per_second,
            'train_images': 1280, 'train_seconds': 10.0, 'steps': 20, 'model_calls': 20,
            'parameters_changed': 1.0,
            'losses': [0.9] * 10 + [0.5] * 10 if mode == 'throughput' else None,
            'peak_memory_mb': memory, 'memory_kind': memory_kind,
            'time_to_accuracy': {t: (times or {}).get(t) for t in THRESHOLDS},
            'best_accuracy': best, 'accuracy_history': [], 'epochs': 0.1, 'torch': '2.x',
            'notes': [], 'runner': runner, 'setting': setting}


@pytest.fixture
def throughput_results():
    return [result('anchor', images_per_second=73.1, memory=1200.0),
            result('ours', images_per_second=150.2, memory=900.0, batch_size=256, precision='bf16',
                   compiled=True),
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
    assert compared['time_to_accuracy'] == {'99.0': pytest.approx(0.4), '99.6': None,
                                            '99.5': pytest.approx(1 / 3), '99.7': None}


def test_results_are_compared_only_on_the_same_device_and_mode(throughput_results):
    on_gpu = result('ours', device='cuda', images_per_second=5000.0,
                    memory_kind='cuda_max_allocated')
    other_mode = result('ours', mode='accuracy', images_per_second=80.0)
    assert [c['label'] for c in run.ratios(throughput_results[:1] + [on_gpu, other_mode])] == []


def test_memory_of_different_kinds_is_not_compared():
    results = [result('anchor', images_per_second=1.0, memory=1000.0),
               result('ours', images_per_second=2.0, memory=10.0, memory_kind='cuda_max_allocated')]
    assert run.ratios(results)[0]['peak_memory'] is None


def test_the_table_has_a_row_per_result_with_its_settings_and_numbers(throughput_results):
    lines = run.format_table(throughput_results).splitlines()
    assert lines[0].split()[:10] == ['runner', 'mode', 'device', 'batch', 'precision', 'compiled',
                                     'img/s', 'peak', 'MiB', 'loss']
    assert lines[1].split()[:10] == ['anchor', 'throughput', 'cpu', '64', 'fp32', 'no', '73.1',
                                     '1200', '(rss)', '0.9→0.5']
    assert lines[2].split()[:10] == ['ours', 'throughput', 'cpu', '256', 'bf16', 'yes', '150.2',
                                     '900', '(rss)', '0.9→0.5']
    assert lines[3].startswith('ours, batch 64 fp32')
    # No accuracy in throughput mode: a dash in each of the five accuracy columns.
    assert lines[1].split()[-5:] == ['-'] * 5


def test_the_accuracy_table_gives_the_time_to_each_threshold_and_the_best(accuracy_results):
    lines = run.format_table(accuracy_results).splitlines()
    assert lines[1].split()[-7:] == ['300.0', 's', '900.0', 's', '-', '-', '99.52']
    assert lines[2].split()[-9:] == ['120.0', 's', '300.0', 's', '450.0', 's', '800.0', 's',
                                     '99.71']


def test_the_report_says_what_the_clock_counted_compilation_included_or_not(throughput_results):
    text = run.report(throughput_results)
    assert ('img/s: in throughput mode, the timed steps after the warm-up, which holds the '
            'compilation of a compiled model; in accuracy mode, all training, compilation '
            'included.') in text


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


def test_the_anchor_alone_gives_a_report_without_ratios():
    only = [result('anchor', images_per_second=73.14)]
    assert run.report(only).splitlines()[1].split()[6] == '73.1'
    assert 'ours / anchor' not in run.report(only)


def test_saved_results_are_reported_again_in_the_order_they_run_whatever_the_files(
        tmp_path, capsys, throughput_results, accuracy_results):
    (tmp_path / 'a.json').write_text(json.dumps(accuracy_results[::-1]))
    (tmp_path / 'b.json').write_text(json.dumps(throughput_results[::-1]))
    run.main(['--table', str(tmp_path / 'a.json'), str(tmp_path / 'b.json')])
    assert capsys.readouterr().out.strip() == run.report(throughput_results + accuracy_results)


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
    assert [(r['runner'], r['setting']) for r in runs] == [('anchor', 'default'),
                                                            ('ours', 'default')]
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
    assert 'run `make anchor`' in message
    assert f'--no-deps --target {tmp_path / "anchor"} labml-nn==0.5.1' in message


def write_runner(tmp_path: Path, body: str) -> Path:
    script = tmp_path / 'runner.py'
    script.write_text(body)
    return script


def test_a_runner_result_is_the_json_on_its_last_line(tmp_path):
    script = write_runner(tmp_path, 'import os\nprint("warming up")\n'
                                    'print(\'{"name": "x", "path": "%s"}\' '
                                    '% os.environ["PYTHONPATH"])\n')
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


@pytest.fixture(scope='module')
def anchor_folder() -> Path:
    """labml-nn 0.5.1, as `make test` installs it before the tests."""
    if not run.anchor_installed(run.ANCHOR_FOLDER):
        pytest.fail(f'labml-nn 0.5.1 is not in {run.ANCHOR_FOLDER}: '
                    'run `make anchor` (`make test` does)')
    return run.ANCHOR_FOLDER


def run_anchor_script(pythonpath: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(run.ANCHOR_SCRIPT), *options], capture_output=True,
                          text=True, env={**os.environ, 'PYTHONPATH': str(pythonpath)},
                          cwd=run.REPO)


def test_the_anchor_runner_refuses_this_projects_labml_nn():
    done = run_anchor_script(run.REPO, '--mode', 'throughput', '--steps', '0',
                             '--warmup-steps', '0', '--data', str(run.REPO / 'data'))
    assert done.returncode != 0
    assert 'which is not labml-nn 0.5.1' in done.stderr


def test_the_anchor_runner_trains_to_accuracy_and_prints_the_contracts_json(anchor_folder):
    done = run_anchor_script(anchor_folder, '--mode', 'accuracy', '--device', 'cpu',
                             '--epochs', '1', '--train-images', '64', '--test-images', '64',
                             '--data', str(run.REPO / 'data'))
    assert done.returncode == 0, done.stderr
    returned = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(returned) >= {'name', 'device', 'batch_size', 'precision', 'compiled',
                             'images_per_second', 'peak_memory_mb', 'memory_kind',
                             'time_to_accuracy', 'best_accuracy', 'epochs', 'train_seconds',
                             'steps', 'model_calls', 'parameters_changed', 'losses', 'notes'}
    assert (returned['name'], returned['device'], returned['batch_size'],
            returned['precision']) == ('labml-nn 0.5.1', 'cpu', 64, 'fp32')
    assert list(returned['time_to_accuracy']) == list(THRESHOLDS)
    # One step of 64 images, then one evaluation.
    assert returned['train_images'] == 64 and len(returned['accuracy_history']) == 1
    assert returned['steps'] == 1 and returned['parameters_changed'] == 1.0
    assert any('main() does not run with labml 0.5.3' in note for note in returned['notes'])


# ## Both runners, a few steps each
#
# Each runner trains on the same 16 images, 12 untimed steps and then 12 timed ones, over which
# its loss must fall. (Ours follows the experiment's one-cycle schedule, here of 30 steps, one an
# epoch: its learning rate climbs for the first 6 and the loss jumps about until it has peaked.)
# It runs with `time.sleep` made to fail, so that a runner that waits in its step, as a slowed
# one would, stops instead. Compilation is turned off, to keep the test short; that our runner
# compiles at its defaults is checked apart.

# `python -c NO_SLEEP RUNNER OPTIONS...`: the runner, with `time.sleep` failing
NO_SLEEP = """
import runpy, sys, time
from pathlib import Path

def no_sleep(seconds):
    raise SystemExit(f'the runner slept {seconds} s')

time.sleep = no_sleep
script = sys.argv[1]
sys.argv = sys.argv[1:]
# The script's folder in place of the current one, as `python script.py` has it
sys.path[0] = str(Path(script).parent)
runpy.run_path(script, run_name='__main__')
"""
WARMUP_STEPS, STEPS = 12, 12
BATCH = 16


def run_without_sleeping(script: Path, pythonpath: Path) -> dict:
    """`script` trained for `STEPS` timed steps on the CPU, in fp32; its JSON."""
    done = subprocess.run(
        [sys.executable, '-c', NO_SLEEP, str(script), '--mode', 'throughput', '--device', 'cpu',
         '--precision', 'fp32', '--batch-size', str(BATCH), '--warmup-steps', str(WARMUP_STEPS),
         '--steps', str(STEPS),
         '--train-images', str(BATCH), '--test-images', str(BATCH),
         '--data', str(run.REPO / 'data')],
        capture_output=True, text=True, cwd=run.REPO,
        env={**os.environ, 'PYTHONPATH': str(pythonpath), 'TORCH_COMPILE_DISABLE': '1'})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope='module')
def anchor_run(anchor_folder) -> dict:
    return run_without_sleeping(run.ANCHOR_SCRIPT, anchor_folder)


@pytest.fixture(scope='module')
def our_run() -> dict:
    return run_without_sleeping(run.OURS_SCRIPT, run.REPO)


@pytest.fixture(params=['anchor', 'ours'])
def runner_result(request) -> dict:
    return request.getfixturevalue({'anchor': 'anchor_run', 'ours': 'our_run'}[request.param])


def test_a_runner_takes_the_steps_asked_for_each_calling_its_model_once(runner_result):
    assert (runner_result['steps'], runner_result['model_calls']) == (STEPS, STEPS)
    assert runner_result['train_images'] == STEPS * BATCH and runner_result['batch_size'] == BATCH
    assert len(runner_result['losses']) == STEPS


def test_a_runners_timed_steps_train_every_parameter_and_lower_the_loss(runner_result):
    assert runner_result['parameters_changed'] == 1.0
    losses = runner_result['losses']
    third = STEPS // 3
    assert sum(losses[-third:]) / third < 0.8 * sum(losses[:third]) / third, losses


def test_a_runner_reports_the_precision_and_compilation_it_ran_with(runner_result):
    assert (runner_result['precision'], runner_result['compiled']) == ('fp32', False)


def test_our_runner_trains_the_experiments_compiled_model_at_its_defaults(monkeypatch):
    from bench import measure, ours

    args = measure.parse_args(['--mode', 'throughput', '--device', 'cpu', '--train-images', '512',
                               '--data', str(run.REPO / 'data')],
                              default_batch_size=512, precisions=ours.PRECISIONS)
    runner = ours.OursRunner(args, torch.device('cpu'))
    # The experiment's defaults: compiled wherever a compiler is found, bf16 on this CPU if native
    assert runner.conf.compile == 'auto'
    assert runner.model is runner.conf.forward
    compiler_found = shutil.which(os.environ.get('CXX', 'g++')) is not None
    assert isinstance(runner.model, torch._dynamo.eval_frame.OptimizedModule) == compiler_found
    if compiler_found:
        assert runner.model._orig_mod is runner.conf.model
    assert runner.conf.max_shift == 2 and runner.batch_size == 512


def test_the_evidence_tables_intervals_are_wilsons():
    from bench.evidence_cpu import wilson
    # Values from Wilson's formula worked by hand
    assert wilson(50, 100) == pytest.approx((0.4038, 0.5962), abs=1e-4)
    low, high = wilson(0, 10)
    assert low == pytest.approx(0, abs=1e-12) and high == pytest.approx(0.2775, abs=1e-4)
    # Ten times the test examples, a narrower interval about the same accuracy
    assert wilson(9_500, 10_000) == pytest.approx((0.9456, 0.9541), abs=1e-4)


def test_the_evidence_tables_read_each_run_once_found(tmp_path):
    import json
    from bench import evidence_cpu

    def run(name, records):
        folder = tmp_path / name
        folder.mkdir()
        track = {'loss.train': [], 'accuracy.valid': [], 'cpu_time.train': []}
        for step, accuracy, seconds in records:
            track['loss.train'].append([step, [0.5]])
            track['accuracy.valid'].append([step, [accuracy]])
            track['cpu_time.train'].append([step, [seconds]])
        (folder / 'log.jsonl').write_text(json.dumps({'track': track}) + '\n')
        return folder

    capsnet = run('capsnet', [(1024, 0.25, 10.0), (2048, 0.5, 20.0), (4096, 0.75, 40.0)])
    baseline = run('baseline', [(1024, 0.125, 30.0), (2048, 0.375, 60.0)])
    multi_mnist = evidence_cpu.LANES[0]
    found = [[(*multi_mnist[0], capsnet, False), (*multi_mnist[1], baseline, False)]]
    rows = evidence_cpu.table(found)
    # The header, its rule, and a row for each run, from its last record
    assert len(rows) == 4
    assert '| CapsNet | 4,096 pairs, of 359,424 planned | 75.00% ' in rows[2]
    assert '| baseline | 2,048 pairs, of 359,424 planned | 37.50% ' in rows[3]
    assert '| 40 s |' in rows[2] and '| 60 s |' in rows[3]
    # Side by side: only the records both runs have reached
    side = evidence_cpu.side_by_side(found)
    assert side[-2:] == ['| 1,024 | 25.00% | 12.50% | 10 s | 30 s |',
                         '| 2,048 | 50.00% | 37.50% | 20 s | 60 s |']
    # A run not started yet: a row that says so, and no side-by-side table
    found = [[(*multi_mnist[0], capsnet, False), (*multi_mnist[1], None, False)]]
    assert '| baseline | not started |' in evidence_cpu.table(found)[3]
    assert evidence_cpu.side_by_side(found) == []


def test_a_lane_trains_on_the_threads_it_is_given_and_threads_need_a_lane(monkeypatch, capsys):
    from bench import evidence_cpu
    started = []
    monkeypatch.setattr(evidence_cpu.os, 'nice', lambda increment: None)
    monkeypatch.setattr(evidence_cpu, 'find_run', lambda module, arguments: (None, False))
    monkeypatch.setattr(evidence_cpu.subprocess, 'run',
                        lambda command, cwd, env, check: started.append((command, env)))
    evidence_cpu.main(['--lane', '1', '--first', '1', '--threads', '2'])
    [(command, env)] = started
    assert command[-1] == 'learning_rate=3e-4' and env['OMP_NUM_THREADS'] == '2'
    evidence_cpu.main(['--lane', '2'])
    assert started[-1][1]['OMP_NUM_THREADS'] == '1'
    with pytest.raises(SystemExit):
        evidence_cpu.main(['--threads', '2'])
    assert '--threads needs --lane' in capsys.readouterr().err
