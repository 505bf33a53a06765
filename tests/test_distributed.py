"""
Training under torchrun on the CPU, with gloo: two processes with half the batch each train as one
process with the whole batch, into one run folder written by rank 0; a killed rank stops the job,
which resumes on one process; and the choice of the device, with its backends faked.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from labml_nn.capsule_networks.affine import TranslatedMNIST
from labml_nn.capsule_networks.multi_mnist import MultiMNIST
from labml_nn.helpers import checkpoint, distributed
from labml_nn.helpers.batches import DeviceBatches
from labml_nn.helpers.configs import ConfigError
from labml_nn.helpers.device import choose_device
from labml_nn.helpers.mnist import DEFAULT_ROOT, PROJECT_ROOT
from tests.test_experiment import metrics

# Trains, builds or starts a process, a server or a browser: the full suite only, not `make check`
pytestmark = pytest.mark.slow

# Four steps of 32 images per epoch, two epochs, in 32-bit floats and not compiled
TINY = ['device=cpu', 'train_subset=128', 'valid_subset=64', 'batch_size=32', 'compile=off',
        'precision=fp32', 'epochs=2', f'data_path={DEFAULT_ROOT}']

# Two processes add up the two halves' gradients in another order than one process adds up the
# whole batch's. After 8 Adam steps the weights differed by 1.4e-6 at most (on a 2-core AMD EPYC),
# against weights of 0.005 to 0.05 on average and a first step of 1.2e-4 (the learning rate)
WEIGHT_TOLERANCE = 1e-5

# The experiment's command line, with labml's runs written to the folder given first
LAUNCHER = '''
import sys
from labml import lab
lab.configure({'experiments_path': sys.argv[1]})
from labml_nn.capsule_networks import mnist
mnist.EXPERIMENT.run(sys.argv[2:])
'''


@pytest.fixture(scope='module')
def launcher(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp('launcher') / 'launch.py'
    path.write_text(LAUNCHER)
    return path


def environment(**extra) -> dict:
    """The environment of a run: this project importable, one thread per process."""
    return {**os.environ, 'PYTHONPATH': str(PROJECT_ROOT), 'OMP_NUM_THREADS': '1', **extra}


def command(launcher: Path, logs: Path, arguments, processes: int = 0):
    """The command line of a run, under torchrun when `processes` is given."""
    torchrun = [sys.executable, '-m', 'torch.distributed.run', '--standalone',
                f'--nproc_per_node={processes}'] if processes else [sys.executable]
    return torchrun + [str(launcher), str(logs)] + list(arguments)


def run(launcher: Path, logs: Path, arguments, processes: int = 0) -> Path:
    """Train, and return the one run folder under `logs`."""
    result = subprocess.run(command(launcher, logs, arguments, processes), env=environment(),
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    run_path, = (logs / 'capsule_network_mnist').iterdir()
    return run_path


def weights(run_path: Path):
    return checkpoint.load(run_path / checkpoint.FILE_NAME, torch.device('cpu'))


def largest_difference(first, second) -> float:
    return max((first['state']['model'][name] - tensor).abs().max().item()
               for name, tensor in second['state']['model'].items())


@pytest.fixture(scope='module')
def single(launcher, tmp_path_factory) -> Path:
    """One process, the whole batch of 32."""
    return run(launcher, tmp_path_factory.mktemp('single'), TINY)


@pytest.fixture(scope='module')
def two(launcher, tmp_path_factory) -> Path:
    """Two processes under torchrun, 16 images of each batch each."""
    return run(launcher, tmp_path_factory.mktemp('two'), TINY, processes=2)


def test_two_processes_with_half_the_batch_train_the_weights_of_one_with_the_whole(single, two):
    one, both = weights(single), weights(two)
    assert both['global_step'] == one['global_step'] == 256
    assert both['state']['schedule'] == one['state']['schedule']
    assert torch.equal(both['state']['generator'], one['state']['generator'])
    assert largest_difference(both, one) < WEIGHT_TOLERANCE
    # and they did train: the weights moved far more than the tolerance
    initial = {'state': {'model': _initial_weights()}}
    assert largest_difference(one, initial) > 100 * WEIGHT_TOLERANCE


def _initial_weights():
    """The model's weights before the first step, drawn from the seed as a run draws them."""
    from labml_nn.capsule_networks.mnist import MNISTCapsuleNetworkModel
    torch.manual_seed(0)
    return MNISTCapsuleNetworkModel().state_dict()


def test_the_metrics_summed_over_the_processes_are_those_of_one_process(single, two):
    one, both = metrics(single), metrics(two)
    assert one.keys() == both.keys()
    for key in one:
        if key.startswith(('time.', 'cpu_time.')) or key == 'images_per_second.train':
            continue
        assert [step for step, _ in both[key]] == [step for step, _ in one[key]] == [128, 256]
        for (_, expected), (_, value) in zip(one[key], both[key]):
            if key.startswith('accuracy'):
                assert value == expected, key
            else:
                assert value == pytest.approx(expected, rel=1e-5), key


def test_rank_0_alone_writes_one_run_folder(single, two):
    # `run` found exactly one run folder; it has what a single process's run has
    for name in ('configs.yaml', 'log.jsonl', checkpoint.FILE_NAME, 'reconstructions.png'):
        assert (two / name).is_file(), name
    # The records one process writes, each once: the other rank wrote none of its own. (labml
    # gathers records into lines by the clock, so lines are not counted.)
    steps = [[step for step, _ in metrics(run)['loss.train']] for run in (two, single)]
    assert steps[0] == steps[1] == [128, 256]
    assert not any(path.name.endswith('.1') for path in two.parent.iterdir())


def test_a_compiled_model_trains_under_torchrun_as_the_uncompiled_one(launcher, tmp_path, two):
    compiled = run(launcher, tmp_path, [a for a in TINY if a != 'compile=off'] + ['compile=on'],
                   processes=2)
    # The compiler fuses and reorders the floating-point operations: close, not equal
    assert largest_difference(weights(compiled), weights(two)) < 10 * WEIGHT_TOLERANCE
    for (_, expected), (_, value) in zip(metrics(two)['loss.train'],
                                         metrics(compiled)['loss.train']):
        assert value == pytest.approx(expected, rel=1e-4)


def _rank_process(parent: int, rank: int) -> int:
    """The process id of the worker of `rank` started by the torchrun process `parent`."""
    children = Path(f'/proc/{parent}/task/{parent}/children').read_text().split()
    for child in children:
        variables = Path(f'/proc/{child}/environ').read_bytes().split(b'\0')
        if f'RANK={rank}'.encode() in variables:
            return int(child)
    raise AssertionError(f'no worker of rank {rank} among {children}')


def test_a_killed_rank_stops_the_job_naming_it_and_the_run_resumes_on_one_process(
        launcher, tmp_path, single):
    logs = tmp_path / 'logs'
    job = subprocess.Popen(command(launcher, logs, TINY, processes=2), env=environment(),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # Wait for the first checkpoint, then kill rank 1
    runs = logs / 'capsule_network_mnist'
    deadline = time.monotonic() + 300
    while not (runs.is_dir() and any((path / checkpoint.FILE_NAME).exists()
                                     for path in runs.iterdir())):
        assert job.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(_rank_process(job.pid, 1), signal.SIGKILL)
    killed = time.monotonic()
    output, _ = job.communicate(timeout=60)
    # The whole job stopped, well before any timeout, and says which rank failed and how
    assert time.monotonic() - killed < 30
    assert job.returncode != 0
    assert 'rank      : 1' in output and 'Signal 9 (SIGKILL)' in output, output[-3000:]

    interrupted, = runs.iterdir()
    assert weights(interrupted)['epoch'] == 1
    # Resumed on one process, it ends where the single process's run ended
    resumed = run(launcher, logs, ['--resume', str(interrupted)])
    assert resumed == interrupted
    assert weights(resumed)['epoch'] == 2
    assert largest_difference(weights(resumed), weights(single)) < WEIGHT_TOLERANCE
    assert [step for step, _ in metrics(resumed)['loss.train']] == [128, 256]


def test_a_process_under_torchrun_ends_without_python_shutting_down_and_its_output_whole(
        tmp_path):
    """
    `distributed.leave` ends a process of a torchrun job with `os._exit`, so that no gloo thread
    can abort it during Python's shutdown; the output printed before must still come out.
    """
    launcher = tmp_path / 'launch.py'
    launcher.write_text("import atexit\natexit.register(print, 'Python shut down')\n" + LAUNCHER)
    for processes, shut_down in [(0, True), (2, False)]:
        result = subprocess.run(command(launcher, tmp_path / 'logs', ['--help'], processes),
                                env=environment(), capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]
        # Every process printed the usage before it ended
        assert result.stdout.count('usage: ') == max(processes, 1), result.stdout[-3000:]
        assert ('Python shut down' in result.stdout) == shut_down


def _unused_port() -> int:
    with socket.socket() as server:
        server.bind(('127.0.0.1', 0))
        return server.getsockname()[1]


def test_a_process_that_finds_no_one_at_the_rendezvous_stops_with_a_clear_error(
        launcher, tmp_path):
    lonely = environment(RANK='1', LOCAL_RANK='1', WORLD_SIZE='2', MASTER_ADDR='127.0.0.1',
                         MASTER_PORT=str(_unused_port()), CAPSULES_DISTRIBUTED_TIMEOUT='3')
    result = subprocess.run(command(launcher, tmp_path / 'logs', TINY), env=lonely,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    # PyTorch logs the socket's timeout; the process ends with one line that says what to check
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith('error: rank 1 of 2 could not join the others at 127.0.0.1:'), last
    assert 'within 3 s' in last and 'Traceback' not in result.stderr
    assert not (tmp_path / 'logs').exists()


def test_a_batch_that_does_not_split_evenly_over_the_processes_is_refused_with_the_numbers(
        monkeypatch):
    monkeypatch.setattr(distributed, 'world_size', lambda: 3)
    images, labels = torch.zeros(128, 28, 28, dtype=torch.uint8), torch.zeros(128)
    with pytest.raises(ConfigError, match=r'batch_size=100 can not be split evenly over 3 '
                                          r'processes \(100 / 3 = 33.3333 images each\); use a '
                                          r'multiple of 3, such as batch_size=99 or '
                                          r'batch_size=102'):
        DeviceBatches(images, labels, 100, generator=torch.Generator(), shuffle=True)


def test_a_last_batch_smaller_than_the_number_of_processes_is_refused(monkeypatch):
    monkeypatch.setattr(distributed, 'world_size', lambda: 4)
    images, labels = torch.zeros(130, 28, 28, dtype=torch.uint8), torch.zeros(130)
    with pytest.raises(ConfigError, match='the last batch of 2 would leave some of the 4 '):
        DeviceBatches(images, labels, 64, generator=torch.Generator(), shuffle=False)
    # Left out when training, it is no matter
    DeviceBatches(images, labels, 64, generator=torch.Generator(), shuffle=True, drop_last=True)


def test_each_process_takes_its_own_slice_of_every_batch_and_together_they_take_all(monkeypatch):
    images = torch.arange(12 * 28 * 28).reshape(12, 28, 28).to(torch.uint8)
    labels = torch.arange(12)
    monkeypatch.setattr(distributed, 'world_size', lambda: 2)
    shares = []
    for rank in range(2):
        monkeypatch.setattr(distributed, 'rank', lambda rank=rank: rank)
        batches = DeviceBatches(images, labels, 4, generator=torch.Generator().manual_seed(0),
                                shuffle=True, drop_last=True)
        shares.append([batch_labels for _, batch_labels in batches])
    monkeypatch.undo()
    whole = DeviceBatches(images, labels, 4, generator=torch.Generator().manual_seed(0),
                          shuffle=True, drop_last=True)
    for first, second, (_, batch_labels) in zip(*shares, whole):
        assert len(first) == len(second) == 2
        assert torch.equal(torch.cat([first, second]), batch_labels)
    assert sorted(torch.cat([torch.cat(share) for share in shares]).tolist()) == list(range(12))


@pytest.mark.parametrize('kind', [MultiMNIST, TranslatedMNIST])
def test_each_process_takes_its_own_slice_of_every_generated_batch(monkeypatch, kind):
    images = torch.randint(0, 256, (20, 28, 28), dtype=torch.uint8,
                           generator=torch.Generator().manual_seed(1))
    labels = torch.arange(20) % 10

    def batches():
        return list(kind(images, labels, 4, generator=torch.Generator().manual_seed(0),
                         drop_last=True))

    monkeypatch.setattr(distributed, 'world_size', lambda: 2)
    shares = []
    for rank in range(2):
        monkeypatch.setattr(distributed, 'rank', lambda rank=rank: rank)
        shares.append(batches())
    monkeypatch.undo()
    for first, second, whole in zip(*shares, batches()):
        # Every tensor of a batch (images, labels, ...) is split in two halves, in order
        for part_0, part_1, all_of_it in zip(first, second, whole):
            assert len(part_0) == len(part_1) == 2
            assert torch.equal(torch.cat([part_0, part_1]), all_of_it)


def test_a_single_process_is_left_as_it_is():
    assert not distributed.launched() and distributed.world_size() == 1
    model = torch.nn.Linear(2, 2)
    assert distributed.wrap(model) is model
    batch = torch.arange(6)
    assert distributed.share(batch) is batch
    sums = {'loss': torch.tensor(3.0)}
    assert distributed.sum_over_processes(sums, 6) == (sums, 6)


@pytest.fixture
def backends(monkeypatch):
    """Fake which GPUs PyTorch sees: `backends(cuda=2, mps=False)`."""
    def fake(cuda: int = 0, mps: bool = False):
        monkeypatch.setattr(torch.cuda, 'is_available', lambda: cuda > 0)
        monkeypatch.setattr(torch.cuda, 'device_count', lambda: cuda)
        monkeypatch.setattr(torch.backends.mps, 'is_available', lambda: mps)
    return fake


@pytest.mark.parametrize('cuda, mps, expected', [(1, True, 'cuda:0'), (0, True, 'mps'),
                                                  (0, False, 'cpu')])
def test_auto_picks_cuda_then_mps_then_the_cpu(backends, cuda, mps, expected):
    backends(cuda=cuda, mps=mps)
    assert choose_device('auto') == torch.device(expected)


def test_a_gpu_is_picked_by_its_index(backends):
    backends(cuda=2)
    assert choose_device('cuda:1') == torch.device('cuda', 1)


@pytest.mark.parametrize('name, cuda, message', [
    ('cuda:2', 2, r'device=cuda:2 was asked for, but PyTorch sees 2 CUDA GPUs here '
                  r'\(cuda:0 to cuda:1\)'),
    ('cuda:0', 0, 'device=cuda:0 was asked for, but PyTorch sees no CUDA GPU here'),
    ('mps', 1, 'device=mps was asked for, but PyTorch sees no Apple GPU here'),
])
def test_a_device_asked_for_but_absent_is_a_one_line_error(backends, name, cuda, message):
    backends(cuda=cuda)
    with pytest.raises(ConfigError, match=message):
        choose_device(name)


@pytest.mark.parametrize('given, expected', [(None, '1'), ('0', '0')])
def test_operations_missing_on_mps_fall_back_to_the_cpu_unless_the_user_said_otherwise(
        given, expected):
    # PyTorch reads the variable as it loads: importing the package sets it before that
    variables = {name: value for name, value in environment().items()
                 if name != 'PYTORCH_ENABLE_MPS_FALLBACK'}
    if given is not None:
        variables['PYTORCH_ENABLE_MPS_FALLBACK'] = given
    program = ('import os, sys, labml_nn; '
               'print("torch" in sys.modules, os.environ["PYTORCH_ENABLE_MPS_FALLBACK"])')
    result = subprocess.run([sys.executable, '-c', program], env=variables, capture_output=True,
                            text=True, check=True)
    assert result.stdout.split() == ['False', expected]


def test_under_torchrun_each_process_takes_the_gpu_of_its_local_rank(backends, monkeypatch):
    backends(cuda=4)
    for name, value in (('RANK', '5'), ('LOCAL_RANK', '1'), ('WORLD_SIZE', '8')):
        monkeypatch.setenv(name, value)
    assert choose_device('auto') == choose_device('cuda') == torch.device('cuda', 1)
    with pytest.raises(ConfigError, match='each process takes the GPU of its local rank'):
        choose_device('cuda:2')
