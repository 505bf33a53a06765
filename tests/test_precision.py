"""
Precision is explicit and scoped: `fp32` is 32-bit floats with TF32 off, `tf32` and `bf16` are
what they say, the TF32 flags hold during a step only and are put back after it, choosing a
precision flips no global flag, and the configs hold what their annotations declare.
"""

import pytest
import torch

from labml_nn.capsule_networks.mnist import Configs
from labml_nn.helpers import compiler
from labml_nn.helpers.configs import ConfigError, describe, entries, parse_arguments
from labml_nn.helpers.precision import BF16, FP32, TF32, choose


def tf32_flags():
    """The two TF32 flags: matrix products, cuDNN's convolutions."""
    return torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32


@pytest.fixture
def flags():
    """Sets both TF32 flags for a test, `flags(value)`, and puts them back after it."""
    saved = tf32_flags()

    def set_both(value: bool):
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = value

    yield set_both
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def configs(precision: str) -> Configs:
    """Configs on the CPU at `precision`, without compilation, everything with state made."""
    conf = Configs()
    conf.device = 'cpu'
    conf.precision = precision
    conf.compile = 'off'
    conf.stateful()
    return conf


def seen_in_a_training_step(conf: Configs):
    """
    The TF32 flags and the autocast format seen in the forward pass and in the backward pass of
    one training step of `conf`, on two random images.
    """
    seen = {}

    def forward(module, inputs):
        seen['forward'] = tf32_flags()
        autocast = torch.is_autocast_enabled('cpu')
        seen['autocast'] = torch.get_autocast_dtype('cpu') if autocast else None

    def backward(module, grad_input, grad_output):
        seen['backward'] = tf32_flags()

    # The decoder's input, the masked digit capsules, has a gradient to compute
    handles = [conf.model.register_forward_pre_hook(forward),
               conf.model.decoder.register_full_backward_hook(backward)]
    conf.step((torch.rand(2, 1, 28, 28), torch.tensor([3, 7])), is_train=True)
    for handle in handles:
        handle.remove()
    return seen


@pytest.mark.parametrize('option, before, tf32, autocast', [
    # `fp32` turns TF32 off, though PyTorch's default lets cuDNN use it
    ('fp32', True, False, None),
    ('tf32', False, True, None),
    # `bf16` autocasts the forward pass, with TF32 off for what autocast leaves in 32 bits
    ('bf16', True, False, torch.bfloat16),
])
def test_a_step_holds_its_precisions_flags_in_both_passes_and_puts_them_back_after(
        flags, option, before, tf32, autocast):
    conf = configs(option)
    flags(before)
    seen = seen_in_a_training_step(conf)
    assert seen == {'forward': (tf32, tf32), 'backward': (tf32, tf32), 'autocast': autocast}
    assert tf32_flags() == (before, before)


@pytest.mark.parametrize('option', ['auto', 'fp32', 'tf32', 'bf16'])
@pytest.mark.parametrize('before', [True, False])
def test_choosing_a_precision_flips_no_global_flag(flags, option, before):
    flags(before)
    assert choose(option, torch.device('cpu')).name in ('fp32', 'tf32', 'bf16')
    assert tf32_flags() == (before, before)


def test_the_flags_are_put_back_when_a_step_raises(flags):
    flags(False)
    with pytest.raises(RuntimeError, match='a failing step'):
        with TF32.scope():
            assert tf32_flags() == (True, True)
            raise RuntimeError('a failing step')
    assert tf32_flags() == (False, False)


def test_the_precisions_are_the_formats_they_are_named_for():
    assert (FP32.dtype, FP32.tf32) == (torch.float32, False)
    assert (TF32.dtype, TF32.tf32) == (torch.float32, True)
    assert (BF16.dtype, BF16.tf32) == (torch.bfloat16, False)
    # Autocast only for bfloat16
    device = torch.device('cpu')
    for precision in (FP32, TF32):
        with precision.autocast(device):
            assert not torch.is_autocast_enabled('cpu')
    with BF16.autocast(device):
        assert torch.is_autocast_enabled('cpu')
        assert torch.get_autocast_dtype('cpu') == torch.bfloat16


def test_auto_is_bf16_on_a_gpu_and_on_a_cpu_that_computes_in_bfloat16_natively(monkeypatch):
    assert choose('auto', torch.device('cuda')) is BF16
    for native, expected in ((True, BF16), (False, FP32)):
        choose.cache_clear()
        monkeypatch.setattr(torch.ops.mkldnn, '_is_mkldnn_bf16_supported', lambda: native)
        assert choose('auto', torch.device('cpu')) is expected
    choose.cache_clear()
    # The names on the command line are taken as they are, on any device
    assert [choose(name, torch.device('cpu')) for name in ('fp32', 'tf32', 'bf16')] == [FP32, TF32,
                                                                                        BF16]


def test_every_config_holds_what_its_annotation_declares():
    conf = configs('auto')
    for name, entry in entries(Configs).items():
        # Annotations such as `Tuple[torch.Tensor, torch.Tensor]` are not classes to check against
        if isinstance(entry.annotation, type):
            assert isinstance(getattr(conf, name), entry.annotation), name
    assert conf.compile == 'off'


def test_precision_and_compile_are_set_by_option_name_and_listed_in_the_help():
    assert parse_arguments(Configs, ['precision=tf32', 'compile=off']) == {'precision': 'tf32',
                                                                            'compile': 'off'}
    with pytest.raises(ConfigError, match='precision is one of auto, fp32, tf32, bf16'):
        parse_arguments(Configs, ['precision=fp16'])
    with pytest.raises(ConfigError, match='compile is one of auto, on, off'):
        parse_arguments(Configs, ['compile=true'])
    text = describe(Configs, 'usage')
    assert 'precision=auto    [auto | fp32 | tf32 | bf16]' in text
    assert 'compile=auto    [auto | on | off]' in text


def test_compile_auto_and_on_compile_only_where_a_compiler_runs_and_on_says_why_not(monkeypatch):
    cpu = torch.device('cpu')
    monkeypatch.setenv('CXX', 'true')
    assert compiler.missing(cpu) is None
    assert compiler.wanted('auto', cpu) and compiler.wanted('on', cpu)
    assert not compiler.wanted('off', cpu)
    monkeypatch.setenv('CXX', 'no-such-compiler')
    assert compiler.missing(cpu) == 'there is no C++ compiler (no-such-compiler)'
    warnings = []
    monkeypatch.setattr(compiler.logger, 'log', lambda text, *style: warnings.append(text))
    assert not compiler.wanted('auto', cpu) and not compiler.wanted('off', cpu)
    assert warnings == []
    assert not compiler.wanted('on', cpu)
    assert warnings == ['compile=on, but there is no C++ compiler (no-such-compiler): running '
                        'without torch.compile']
