"""torch's process-wide state (autograder.torch_state): what a notebook leaves on is found,
put back and described; what honest notebooks set is put back without a finding.

Runs in this process with real torch: every change below is made the way a notebook would
make it (a context entered in a generator that is never resumed stays on), and the check
itself is what puts torch back, so the last assertion of each test is that torch works
as before.
"""

from __future__ import annotations

import warnings

import pytest
import torch

from autograder.torch_state import TorchState


_KEPT = []  # the generators stay referenced: finalizing one would run its context's __exit__ late


def _hold(context):
    """A context entered and left on: the generator is never resumed."""
    def hold():
        with context:
            yield
    generator = hold()
    _KEPT.append(generator)
    return generator


@pytest.fixture
def state():
    warnings.simplefilter("ignore")
    # as the fork engine's zygote does: the first optimizer imports torch._dynamo, which
    # registers its kernels (a later first use must not look like the notebook's doing)
    param = torch.zeros(2, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=0.1)
    (param * 2).sum().backward()
    optimizer.step()
    baseline = TorchState()
    yield baseline
    assert baseline.check() == []  # each test leaves torch as it found it
    while _KEPT:  # finalize the held contexts here (their __exit__ fails or undoes nothing) ...
        try:
            _KEPT.pop().close()
        except Exception:  # noqa: BLE001
            pass
    baseline.check()  # ... and put back whatever their __exit__ did


def _lenient_counter():
    from torch.utils.flop_counter import FlopCounterMode

    class Lenient(FlopCounterMode):
        def _count_flops(self, func_packet, out, args, kwargs):
            return True if str(func_packet) == "aten.allclose" else out

    return Lenient(display=False)


def test_a_dispatch_mode_left_on_is_popped_and_reported(state):
    held = _hold(_lenient_counter())
    next(held)
    assert torch.allclose(torch.zeros(1), torch.ones(1))  # the attack works while the mode is on
    changes = state.check()
    assert "left a torch dispatch mode active (_FlopCounterMode)" in changes
    assert any("torch.nn.modules.module._global_forward_hooks" in c for c in changes)  # its module tracker's hooks
    assert not torch.allclose(torch.zeros(1), torch.ones(1))
    assert torch._C._len_torch_dispatch_stack() == 0


def test_every_kind_of_left_over_state_is_found_and_undone(state):
    from torch.library import Library
    from torch.overrides import TorchFunctionMode

    class Passthrough(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            return func(*args, **(kwargs or {}))

    held = [_hold(Passthrough()), _hold(torch.inference_mode()), _hold(torch.autocast("cpu")),
            _hold(torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t))]
    for generator in held:
        next(generator)
    torch.set_default_dtype(torch.float64)
    torch.set_flush_denormal(True)
    torch.nn.modules.module.register_module_forward_hook(lambda *args: None)
    from torch.optim.optimizer import register_optimizer_step_pre_hook
    register_optimizer_step_pre_hook(lambda *args: None)
    library = Library("aten", "IMPL")
    library.impl("allclose", lambda *args, **kwargs: True, "CompositeExplicitAutograd")
    changes = state.check({"library": library})
    text = " | ".join(changes)
    for expected in ("left a torch function mode active (Passthrough)", "torch.is_inference_mode_enabled() from False to True",
                     "saved-tensor hook",
                     "is_autocast_cpu_enabled() from False to True", "torch.get_default_dtype() from torch.float32 to torch.float64",
                     "denormal", "torch.nn.modules.module._global_forward_hooks", "torch.optim.optimizer._global_optimizer_pre_hooks",
                     "registered or replaced torch operator kernels (torch.library)"):
        assert expected in text, (expected, changes)
    assert torch.get_default_dtype() is torch.float32 and not torch.is_inference_mode_enabled()
    assert torch._C._len_torch_function_stack() == 0 and not torch.is_autocast_enabled("cpu")
    assert torch.tensor([1e-310], dtype=torch.float64).mul(1.0).item() != 0.0
    assert not torch.allclose(torch.zeros(1), torch.ones(1))
    assert torch.nn.modules.module._global_forward_hooks == {}
    import torch.optim.optimizer as optimizer_module
    assert optimizer_module._global_optimizer_pre_hooks == {}


def test_grad_mode_and_default_device_left_set_are_reported(state):
    torch.set_grad_enabled(False)
    torch.set_default_device("cpu")  # a torch function mode of its own
    changes = state.check()
    assert any("torch.is_grad_enabled() from True to False" in c for c in changes), changes
    assert any("left a default device set" in c for c in changes), changes
    assert torch.is_grad_enabled() and torch._C._len_torch_function_stack() == 0


def test_settings_honest_notebooks_copy_are_put_back_without_a_finding(state):
    from torch.utils.flop_counter import FlopCounterMode

    threads = torch.get_num_threads()
    torch.set_printoptions(precision=2)
    torch.autograd.set_detect_anomaly(True)
    torch.use_deterministic_algorithms(True)
    torch.backends.cudnn.deterministic = True
    torch.set_num_threads(threads + 1)
    x = torch.ones(2, requires_grad=True)
    handle = x.register_hook(lambda grad: grad)
    layer = torch.nn.Linear(2, 1)
    layer.register_forward_hook(lambda module, inputs, output: None)
    with FlopCounterMode(display=False):
        layer(x).sum().backward()
    handle.remove()
    assert state.check() == []
    assert torch.get_num_threads() == threads and not torch.is_anomaly_enabled()
    assert not torch.are_deterministic_algorithms_enabled() and torch._tensor_str.PRINT_OPTS.precision == 4


def test_a_setting_that_claims_to_be_unchanged_is_still_put_back(state):
    class Liar(int):
        def __eq__(self, other):
            return True

        __hash__ = int.__hash__

    torch.set_printoptions(precision=Liar(9))
    state.check()
    assert type(torch._tensor_str.PRINT_OPTS.precision) is int and torch._tensor_str.PRINT_OPTS.precision == 4


def test_a_configuration_changed_in_place_twice_is_found_twice(state):
    # the restore puts back a copy of the baseline, not the baseline's own set: a second
    # change made in place (in a later cell or a function a later test file calls) is found
    import torch._dynamo.config as dynamo_config

    expected = "changed the settings of torch._dynamo.config (traceable_tensor_subclasses)"
    for _ in range(2):
        dynamo_config.traceable_tensor_subclasses.add(torch.Tensor)
        assert expected in state.check()
        assert dynamo_config.traceable_tensor_subclasses == set()


# Found by red team atk6 and left open: the configuration check compares
# ``get_config_copy()`` (deep copies of the values) with the baseline, so a change that
# torch's export does not show is neither found nor put back. None moves a grade today:
# these modules configure torch.compile and export, which neither the check library nor
# the tests use (eager torch only), and every route tried is flagged by the static screen
# (a private attribute, ``del`` of a torch attribute, ``__delattr__``). A check of every
# entry's fields costs about 1.5 ms per check (894 keys, four checks per submission).
# raises=AssertionError: an error of another kind (a name torch renamed) fails the test
_CONFIG_GAP = "red team atk6: a configuration change behind get_config_copy is not found (no grade effect; screen flags it)"


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=_CONFIG_GAP)
def test_a_configuration_key_deleted_is_found(state):
    import torch._dynamo.config as dynamo_config

    entry = dynamo_config._config["recompile_limit"]
    try:
        del dynamo_config.recompile_limit  # torch code reading it now gets AttributeError
        assert state.check() != [] and hasattr(dynamo_config, "recompile_limit")
    finally:
        entry.hide = False


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=_CONFIG_GAP)
def test_a_configuration_value_whose_deepcopy_lies_is_found(state):
    import torch._dynamo.config as dynamo_config

    class Lie(set):
        def __deepcopy__(self, memo):
            return set()  # what get_config_copy, and so the check, sees

    dynamo_config.traceable_tensor_subclasses = Lie({torch.Tensor})
    try:
        assert state.check() != [] and type(dynamo_config.traceable_tensor_subclasses) is set
    finally:
        dynamo_config.traceable_tensor_subclasses = set()


@pytest.mark.xfail(strict=True, raises=AssertionError, reason=_CONFIG_GAP)
def test_a_configuration_forced_like_an_environment_variable_is_put_back(state):
    import torch._dynamo.config as dynamo_config
    from torch.utils._config_module import _UNSET_SENTINEL

    entry = dynamo_config._config["recompile_limit"]
    baseline = dynamo_config.recompile_limit
    entry.env_value_force = baseline + 1
    try:
        assert state.check() != []  # found ...
        assert dynamo_config.recompile_limit == baseline  # ... but not put back: the forced value wins over load_config's
    finally:
        entry.env_value_force = _UNSET_SENTINEL
        state.check()
