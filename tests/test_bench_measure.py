"""
The benchmark's measurements: when the clock runs, when a test accuracy counts as reached, and
what is read back from a run: its precision, its compilation, its steps and whether they trained.

The clock here is a fake one that a training step moves by one second and an evaluation by a
hundred, so that what is counted as training time is exact.
"""

import json
import types

import pytest
import torch

from bench import measure
from labml_nn.helpers import mnist


class FakeClock:
    """
    `perf_counter` for `measure`, moved on by hand.
    """

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeRunner:
    """
    A runner whose step takes one second and whose evaluation takes a hundred, and whose test
    accuracies are given in advance, one per evaluation.
    """

    name = 'fake'

    def __init__(self, clock: FakeClock, accuracies=(), batches_per_epoch=3, batch_size=4):
        self.clock = clock
        self.accuracies = list(accuracies)
        self.batches_per_epoch = batches_per_epoch
        self.batch_size = batch_size
        self.train_size = batches_per_epoch * batch_size
        self.notes = []
        self.steps = 0
        self.evaluations = 0
        torch.manual_seed(0)
        self.model = torch.nn.Linear(4, 1)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.1)

    def train_batches(self):
        return [(torch.rand(self.batch_size, 4), torch.zeros(self.batch_size, 1))
                for _ in range(self.batches_per_epoch)]

    def train_step(self, images, labels):
        self.clock.now += 1.0
        self.steps += 1
        # Least squares towards zero: the loss falls
        loss = ((self.model(images) - labels) ** 2).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.detach()

    def test_accuracy(self) -> float:
        self.clock.now += 100.0
        self.evaluations += 1
        return self.accuracies.pop(0)


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(measure, 'time', types.SimpleNamespace(perf_counter=fake))
    return fake


def test_each_threshold_keeps_the_training_time_at_which_it_was_first_reached():
    timeline = measure.AccuracyTimeline()
    for seconds, accuracy in [(10, 98.9), (20, 99.5), (30, 99.2), (40, 99.7), (50, 99.8)]:
        timeline.record(seconds, accuracy)
    assert timeline.first_reached == {'99.0': 20, '99.5': 20, '99.6': 40, '99.7': 40}
    assert timeline.best == 99.8
    assert timeline.all_reached


def test_an_accuracy_equal_to_a_threshold_reaches_it_and_an_unreached_one_stays_none():
    timeline = measure.AccuracyTimeline()
    # 9,960 of 10,000 test images, computed as the runners do.
    timeline.record(7.5, 100 * 9960 / 10000)
    assert timeline.first_reached == {'99.0': 7.5, '99.5': 7.5, '99.6': 7.5, '99.7': None}
    assert not timeline.all_reached


def test_a_timeline_without_evaluations_has_no_best_accuracy():
    assert measure.AccuracyTimeline().best is None


def test_evaluation_time_is_not_counted_as_training_time(clock):
    runner = FakeRunner(clock, [98.0, 99.1, 99.3])
    measured = measure.train_to_accuracy(runner, torch.device('cpu'), epochs=3, max_seconds=None,
                                         log=lambda message: None)
    # Three epochs of three one-second steps, evaluated after each epoch.
    assert measured['timeline'].history == [(3.0, 98.0), (6.0, 99.1), (9.0, 99.3)]
    assert measured['train_seconds'] == 9.0
    assert measured['timeline'].first_reached['99.0'] == 6.0
    assert measured['images_per_second'] == runner.train_size * 3 / 9.0
    assert measured['epochs'] == 3


def test_training_stops_once_every_threshold_is_reached(clock):
    runner = FakeRunner(clock, [99.0, 99.8, 50.0])
    measured = measure.train_to_accuracy(runner, torch.device('cpu'), epochs=10, max_seconds=None,
                                         log=lambda message: None)
    assert runner.evaluations == 2 and runner.steps == 6
    assert measured['timeline'].first_reached == {'99.0': 3.0, '99.5': 6.0, '99.6': 6.0,
                                                  '99.7': 6.0}


def test_evaluating_every_few_steps_does_not_evaluate_twice_at_an_epoch_end(clock):
    # Three steps an epoch, evaluated every third step: only at each epoch's end.
    runner = FakeRunner(clock, [90.0, 91.0])
    measured = measure.train_to_accuracy(runner, torch.device('cpu'), epochs=2, max_seconds=None,
                                         eval_every_steps=3, log=lambda message: None)
    assert [seconds for seconds, _ in measured['timeline'].history] == [3.0, 6.0]


def test_evaluating_every_few_steps_also_evaluates_at_each_epoch_end(clock):
    runner = FakeRunner(clock, [90.0, 91.0, 92.0])
    measured = measure.train_to_accuracy(runner, torch.device('cpu'), epochs=1, max_seconds=None,
                                         eval_every_steps=1, log=lambda message: None)
    assert [seconds for seconds, _ in measured['timeline'].history] == [1.0, 2.0, 3.0]


def test_the_cap_on_seconds_stops_within_an_epoch_with_a_last_evaluation(clock):
    runner = FakeRunner(clock, [90.0, 95.0], batches_per_epoch=10)
    measured = measure.train_to_accuracy(runner, torch.device('cpu'), epochs=5, max_seconds=4.0,
                                         log=lambda message: None)
    assert runner.steps == 4
    assert measured['timeline'].history == [(4.0, 90.0)]
    assert measured['epochs'] == 0.4


def test_throughput_times_only_the_steps_after_the_warm_up(clock):
    # Warm-up and timed steps run across an epoch's end (three batches an epoch).
    runner = FakeRunner(clock, [], batches_per_epoch=3, batch_size=4)
    measured = measure.measure_throughput(runner, torch.device('cpu'), warmup_steps=2, steps=5)
    assert measured['train_seconds'] == 5.0
    assert measured['train_images'] == 20
    assert measured['images_per_second'] == 4.0
    assert measured['epochs'] == 28 / 12
    assert runner.evaluations == 0


def test_throughput_reports_the_timed_steps_their_model_calls_losses_and_changed_parameters(clock):
    runner = FakeRunner(clock)
    measured = measure.measure_throughput(runner, torch.device('cpu'), warmup_steps=2, steps=5)
    # The warm-up's steps and calls are not counted
    assert (measured['steps'], measured['model_calls']) == (5, 5)
    assert len(measured['losses']) == 5 and measured['losses'][-1] < measured['losses'][0]
    assert measured['parameters_changed'] == 1.0
    assert measured['precision'] == 'fp32'


def test_the_clock_starts_and_stops_only_once_the_gpu_has_done_its_queued_work(clock, monkeypatch):
    events = []
    monkeypatch.setattr(measure, 'synchronize', lambda device: events.append(('sync', device.type)))
    monkeypatch.setattr(measure, 'time', types.SimpleNamespace(
        perf_counter=lambda: events.append('clock') or clock()))
    runner = FakeRunner(clock)
    step = runner.train_step
    runner.train_step = lambda images, labels: events.append('step') or step(images, labels)
    # A GPU, as far as the clock knows: the device's work is waited for with `synchronize`
    measure.measure_throughput(runner, torch.device('cuda'), warmup_steps=1, steps=2)
    timed = events[events.index('clock'):]
    assert events[:2] == ['step', ('sync', 'cuda')]
    assert timed == ['clock', 'step', 'step', ('sync', 'cuda'), 'clock']


def test_synchronising_a_gpu_waits_for_it_and_the_cpu_needs_no_wait(monkeypatch):
    waits = []
    monkeypatch.setattr(torch.cuda, 'synchronize', lambda device=None: waits.append(device))
    measure.synchronize(torch.device('cuda'))
    measure.synchronize(torch.device('cpu'))
    assert waits == [torch.device('cuda')]


def test_the_precision_is_read_back_from_autocast_at_each_call_of_the_model():
    model = torch.nn.Linear(4, 1)
    with measure.ModelProbe(model, torch.device('cpu')) as probe:
        model(torch.rand(2, 4))
        with torch.autocast('cpu', dtype=torch.bfloat16):
            model(torch.rand(2, 4))
    assert (probe.calls, probe.precision) == (2, 'fp32 / bf16')
    # Gone after the block
    model(torch.rand(2, 4))
    assert probe.calls == 2


@pytest.fixture
def tf32_flags():
    """The TF32 flags, free to set: `tf32_flags(matmul, convolution)`; put back after the test."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32

    def set_flags(matmul: bool, convolution: bool):
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = matmul, convolution

    yield set_flags
    set_flags(*saved)


@pytest.mark.parametrize('matmul, convolution, name', [
    (False, False, 'fp32'), (True, True, 'tf32'), (False, True, 'fp32, tf32 conv'),
    (True, False, 'fp32, tf32 matmul')])
def test_on_a_gpu_the_tf32_flags_in_effect_name_the_precision(tf32_flags, matmul, convolution,
                                                               name):
    tf32_flags(matmul, convolution)
    assert measure.precision_in_effect(torch.device('cuda')) == name
    # The flags mean nothing on a CPU
    assert measure.precision_in_effect(torch.device('cpu')) == 'fp32'


@pytest.mark.parametrize('before', [True, False])
def test_fp32_turns_tf32_off_for_the_run_and_tf32_on_then_the_flags_are_put_back(tf32_flags,
                                                                                  before):
    tf32_flags(before, before)
    matmul, cudnn = torch.backends.cuda.matmul, torch.backends.cudnn
    for allowed in (False, True):
        with measure.tf32_allowed(allowed):
            assert (matmul.allow_tf32, cudnn.allow_tf32) == (allowed, allowed)
        assert (matmul.allow_tf32, cudnn.allow_tf32) == (before, before)


def run_main(make_runner, capsys, *options) -> dict:
    """A runner's `main` on the CPU, for a few steps; returns its JSON."""
    measure.main(make_runner, default_batch_size=4, precisions=('fp32', 'tf32'),
                 argv=['--mode', 'throughput', '--device', 'cpu', '--warmup-steps', '1',
                       '--steps', '3', '--data', str(mnist.DEFAULT_ROOT), *options])
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_a_runner_whose_steps_never_call_its_model_is_stopped(clock, capsys):
    def idle_step(images, labels):
        # A second passes, and nothing is trained
        clock.now += 1.0
        return torch.tensor(1.0)

    def idle_runner(args, device):
        runner = FakeRunner(clock)
        runner.train_step = idle_step
        return runner

    with pytest.raises(SystemExit, match='none of them called the runner\'s model'):
        run_main(idle_runner, capsys)


@pytest.mark.slow
def test_compilation_is_read_back_from_the_compiler(clock, capsys):
    torch._dynamo.reset()
    torch._dynamo.utils.counters.clear()
    assert run_main(lambda args, device: FakeRunner(clock), capsys)['compiled'] is False

    def compiled_runner(args, device):
        runner = FakeRunner(clock)
        runner.model = torch.compile(runner.model)
        return runner

    assert run_main(compiled_runner, capsys)['compiled'] is True


def test_missing_mnist_files_are_each_named_with_the_fix(tmp_path):
    with pytest.raises(SystemExit) as error:
        measure.require_mnist(tmp_path)
    message = str(error.value)
    assert all(name in message for name in measure.MNIST_FILES)
    assert 'make setup' in message


def test_asking_for_cuda_without_it_stops_instead_of_measuring_the_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(SystemExit, match='--device cuda'):
        measure.pick_device('cuda')
    assert measure.pick_device('auto') == torch.device('cpu')


def test_the_cpu_peak_memory_is_the_resident_set_in_mib():
    megabytes, kind = measure.peak_memory(torch.device('cpu'))
    assert kind == 'cpu_peak_rss'
    # This process holds torch: tens of MiB at the very least, and not terabytes.
    assert 20 < megabytes < 1_000_000


def test_every_runner_takes_the_same_options_with_its_own_defaults():
    args = measure.parse_args(['--mode', 'throughput'], default_batch_size=128,
                              precisions=('bf16', 'fp32'))
    assert (args.batch_size, args.precision, args.device) == (128, 'bf16', 'auto')
    with pytest.raises(SystemExit):
        measure.parse_args(['--mode', 'accuracy', '--precision', 'bf16'], default_batch_size=64,
                           precisions=('fp32',))
