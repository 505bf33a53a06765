"""
The script for a GPU machine holds to its budget by construction: each step runs under its own
cap, a step that reaches it is recorded as capped and the next one runs, each outcome is written
the moment its step ends, the caps add up to at most 8 minutes, and no step runs past the
deadline. And the whole script runs end to end on the CPU (`make gpu-bench-tiny`), its table
rebuilt from its results folder alone.
"""

import os
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

from bench import evidence_table, experiment_log, run

# Trains, builds or starts a process, a server or a browser: the full suite only, not `make check`
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
STEPS = REPO / 'bench' / 'steps.sh'
GPU_SCRIPT = REPO / 'bench' / 'gpu.sh'
BUNDLE = REPO / '.build' / 'gpu-bundle'


def run_steps(tmp_path: Path, script: str) -> subprocess.CompletedProcess:
    """`script`, a bash script after `source bench/steps.sh`, with its results in `tmp_path`."""
    script = f'set -eu\nsource {STEPS}\nsteps_begin {tmp_path} {script}'
    return subprocess.run(['bash', '-c', script], capture_output=True, text=True, timeout=120)


def outcomes(results: Path) -> List[List[str]]:
    """The rows of steps.tsv after its header: name, cap, seconds, outcome."""
    return [line.split('\t') for line in (results / 'steps.tsv').read_text().splitlines()[1:]]


def test_a_step_that_reaches_its_cap_is_recorded_as_capped_and_the_next_step_runs(tmp_path):
    done = run_steps(tmp_path, '''60
step slow 7 sleep 600
step next 6 echo the next step ran
''')
    assert done.returncode == 0, done.stderr
    (slow, next_step) = outcomes(tmp_path)
    # A cap of 7 s: a polite stop after 2 s, a forced one 5 s later
    assert slow[0] == 'slow' and slow[3] == 'capped at 2 s' and float(slow[2]) < 7
    assert next_step[0::3] == ['next', 'ok']
    assert (tmp_path / 'next.log').read_text() == 'the next step ran\n'


def test_a_failing_step_is_recorded_with_its_exit_status_and_the_end_of_its_log(tmp_path):
    done = run_steps(tmp_path, '''60
step broken 6 bash -c 'echo what went wrong; exit 3'
step after 6 true
''')
    assert [row[3] for row in outcomes(tmp_path)] == ['failed (exit 3)', 'ok']
    assert 'broken: what went wrong' in done.stderr


def test_each_outcome_is_written_the_moment_its_step_ends(tmp_path):
    run_steps(tmp_path, f'''60
step first 6 true
step second 6 cat {tmp_path}/steps.tsv
''')
    # While the second step ran, the first one's outcome was already on disk
    assert 'first\t6\t' in (tmp_path / 'second.log').read_text()


def test_a_step_whose_cap_would_pass_the_budget_is_refused_without_running(tmp_path):
    run_steps(tmp_path, f'''20
step first 12 true
step second 10 touch {tmp_path}/ran
step third 8 true
''')
    assert [row[3] for row in outcomes(tmp_path)] == [
        'ok', 'refused: with it the caps would add up to 22 s, over the budget of 20 s', 'ok']
    assert not (tmp_path / 'ran').exists()


def test_no_step_runs_past_the_deadline_whatever_its_cap(tmp_path):
    # Time spent outside the steps still counts: 8 of the 12 seconds pass before the step
    run_steps(tmp_path, f'''12
sleep 8
step late 6 touch {tmp_path}/ran
''')
    (late,) = outcomes(tmp_path)
    assert late[3].startswith('skipped: ') and late[3].endswith(' s left before the deadline')
    assert not (tmp_path / 'ran').exists()


def test_the_gpu_scripts_caps_add_up_to_at_most_8_minutes_with_the_install(tmp_path):
    done = subprocess.run(['bash', str(GPU_SCRIPT)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, 'STEPS_PLAN': '1', 'BENCH_RESULTS': str(tmp_path)})
    assert done.returncode == 0, done.stderr
    steps = outcomes(tmp_path)
    assert all(row[3] == 'planned' for row in steps), steps
    assert steps[0][0] == 'install' and steps[-1][0] == 'table'
    assert sum(int(row[1]) for row in steps) <= 8 * 60


@pytest.fixture(scope='module')
def tiny_run(tmp_path_factory):
    """`make gpu-bench-tiny`: the whole script on the CPU, into a folder of results."""
    if not (BUNDLE / 'wheels').is_dir():
        pytest.fail(f'{BUNDLE} is missing: run `make gpu-bundle` (`make test` does)')
    results = tmp_path_factory.mktemp('gpu-results')
    environment = {**os.environ, 'BENCH_TINY': '1', 'PYTHON': sys.executable,
                   'BENCH_RESULTS': str(results)}
    done = subprocess.run(['bash', str(GPU_SCRIPT)], capture_output=True, text=True, cwd=REPO,
                          timeout=1800, env=environment)
    return done, results


def test_the_gpu_script_runs_every_step_end_to_end_on_the_cpu(tiny_run):
    done, results = tiny_run
    assert done.returncode == 0, done.stderr[-3000:]
    steps = outcomes(results)
    assert [row[0] for row in steps] == [
        'install', 'throughput-anchor', 'throughput-ours', 'throughput-ours-b64-fp32',
        'accuracy-anchor', 'accuracy-ours', 'experiment', 'table']
    assert all(row[3] == 'ok' for row in steps), (steps, done.stderr[-3000:])


def test_the_gpu_scripts_table_is_printed_last_and_rebuilt_from_its_results_alone(tiny_run, capsys):
    done, results = tiny_run
    saved = list(results.glob('*.json'))
    assert {path.stem for path in saved} == {'throughput-anchor', 'throughput-ours',
                                             'throughput-ours-b64-fp32', 'accuracy-anchor',
                                             'accuracy-ours'}
    run.main(['--table', *map(str, saved)])
    table = capsys.readouterr().out.strip()
    experiment = experiment_log.describe(results / 'experiment')
    assert experiment.startswith('experiment experiment: epochs=1 ')
    assert done.stdout.rstrip().endswith(table + '\n\n' + experiment)
    # Every row of the table, from each saved result
    assert len(table.split('\n\n')[0].splitlines()) == 1 + len(saved)


EVIDENCE_SCRIPT = REPO / 'bench' / 'evidence_gpu.sh'


def test_the_evidence_scripts_caps_add_up_to_at_most_8_minutes_with_the_install(tmp_path):
    done = subprocess.run(['bash', str(EVIDENCE_SCRIPT)], capture_output=True, text=True,
                          timeout=60, env={**os.environ, 'STEPS_PLAN': '1',
                                           'BENCH_RESULTS': str(tmp_path)})
    assert done.returncode == 0, done.stderr
    steps = outcomes(tmp_path)
    assert all(row[3] == 'planned' for row in steps), steps
    assert [row[0] for row in steps] == ['install', 'multi_mnist-capsnet', 'multi_mnist-baseline',
                                         'affine-capsnet', 'affine-baseline', 'table']
    assert sum(int(row[1]) for row in steps) <= 8 * 60
    # Each model of an experiment gets the same cap
    caps = {row[0]: row[1] for row in steps}
    assert caps['multi_mnist-capsnet'] == caps['multi_mnist-baseline']
    assert caps['affine-capsnet'] == caps['affine-baseline']


def test_the_evidence_script_runs_every_step_on_the_cpu_and_prints_its_table_last(tmp_path):
    """`make gpu-evidence-tiny`: the whole script on the CPU, on a few digits."""
    if not (BUNDLE / 'wheels').is_dir():
        pytest.fail(f'{BUNDLE} is missing: run `make gpu-bundle` (`make test` does)')
    environment = {**os.environ, 'BENCH_TINY': '1', 'PYTHON': sys.executable,
                   'BENCH_RESULTS': str(tmp_path)}
    done = subprocess.run(['bash', str(EVIDENCE_SCRIPT)], capture_output=True, text=True,
                          cwd=REPO, timeout=1800, env=environment)
    assert done.returncode == 0, done.stderr[-3000:]
    steps = outcomes(tmp_path)
    assert all(row[3] == 'ok' for row in steps), (steps, done.stderr[-3000:])
    table = evidence_table.table(tmp_path)
    # A row with numbers for each run: no run is without its finished epoch
    assert table.count('| capsnet | 1 |') == 2 and table.count('| baseline | 1 |') == 2
    assert done.stdout.rstrip().endswith(table)
