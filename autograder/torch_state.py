"""torch's process-wide state, checked at C level: what a notebook can leave switched on.

:class:`autograder.integrity.StateSnapshot` undoes changes to Python attributes. torch keeps
much of what decides how an operation runs outside any attribute: the torch function and
dispatch mode stacks (``TorchFunctionMode``, ``TorchDispatchMode``, ``FlopCounterMode``,
``torch.set_default_device``), the thread-local dispatch key sets (inference mode, autocast,
the Python dispatcher), the saved-tensor hooks, the grad-mode and other flags set through
``torch._C._set_*``, kernels registered with ``torch.library`` and hooks kept in
module-level registries (``register_module_forward_hook``...). A mode entered in a
generator that is never resumed stays on the stack, and every operation of the tests then
goes through the student's ``__torch_dispatch__``.

:class:`TorchState` is taken in the fork engine's zygote (the baseline, as torch is before
any student code). :meth:`TorchState.check` compares, after the last cell and again after
the tests, and puts everything back:

* the mode stacks are emptied (a ``torch.set_default_device`` context first), the dispatch
  key sets, the saved-tensor hooks and inference mode are put back;
* a table of (getter, restorer) pairs: every ``set_X`` of ``torch`` and ``torch._C`` with a
  matching ``get_X`` / ``is_X`` / ``is_X_enabled`` found at start-up (grad mode, default
  dtype, deterministic algorithms, anomaly mode, autocast, matmul precision, the backends'
  flags ...), plus the default device, the default tensor type, print options, denormal
  flushing and the configuration modules (``torch._dynamo.config`` ...);
* every module-level dict, list or set of a torch module whose name says it holds hooks
  (``torch.nn.modules.module._global_forward_hooks``, the optimizers' global hooks ...);
* the ``torch.library`` registries (``_impls``, ``_defs``, ``_keep_alive``) and the number
  of kernels registered for each dispatch key a CPU operation passes through; new
  ``Library`` objects are destroyed.

Each difference is one line of the result. Settings honest notebooks copy from tutorials and
that cannot make a wrong answer pass (print options, anomaly detection, deterministic
algorithms, thread counts, the backends' speed flags, matmul precision, warnings) are put
back silently; everything else is a finding, so the submission needs review.
"""

from __future__ import annotations

import copy
import re
import sys
import types

__all__ = ["TorchState"]

# settings put back without a finding: honest notebooks set them, and none can make a
# wrong value compare equal (they change printing, speed, warnings or raise errors)
_QUIET = re.compile(r"printoptions|anomaly|deterministic|num_threads|num_interop_threads|cudnn|mkldnn|nnpack|miopen|rocm|cublas|"
                    r"onednn|blas_preferred|linalg_preferred|matmul_precision|warn|thread_name|qengine|sdp|sm_carveout|graph_exec|"
                    r"fp16_reduced|bf16_reduced|fp16_accumulation")
# the dispatch keys an operation on a CPU tensor passes through (and those a mode or the
# Python dispatcher adds): a kernel registered for one of them changes what the tests compute
_KEYS = ("CPU", "AutogradCPU", "AutogradOther", "ADInplaceOrView", "Python", "PythonDispatcher", "PythonTLSSnapshot", "PreDispatch",
         "AutocastCPU", "BackendSelect", "FuncTorchDynamicLayerFrontMode", "FuncTorchDynamicLayerBackMode",
         "CompositeImplicitAutograd", "CompositeExplicitAutograd")
_MISSING = object()
_GUARDS: list = []  # torch's RAII guards that keep a restored setting (never freed)
# getters that read something other than a setting (the RNG state changes with every draw)
_SKIP = {"get_rng_state", "set_rng_state", "_get_tracing_state"}


def _identical(a, b) -> bool:
    """``a is b``, or two (key, value) pairs of the same objects."""
    return a is b or (type(a) is tuple and type(b) is tuple and len(a) == len(b) == 2 and a[0] is b[0] and a[1] is b[1])


def _differs(now, baseline) -> bool:
    """Whether a setting changed, by identity and exact type first, so that a student's
    object that claims equality (``__eq__``) in a setting counts as a change."""
    if now is baseline:
        return False
    if type(now) is not type(baseline):
        return True
    if type(now) is dict:
        return now.keys() != baseline.keys() or any(_differs(now[k], baseline[k]) for k in baseline)
    if type(now) in (list, tuple):
        return len(now) != len(baseline) or any(map(_differs, now, baseline))
    return bool(now != baseline)


def _pairs(namespace, label: str) -> list[tuple[str, object, object]]:
    """(name, getter, setter) for every ``set_X`` of ``namespace`` with a no-argument getter."""
    found = []
    for name in dir(namespace):
        match = re.match(r"^(_?)set_(.+)$", name)
        if not match or name in _SKIP:
            continue
        under, what = match.groups()
        for getter_name in (f"{under}get_{what}", f"{under}is_{what}", f"{under}is_{what}_enabled", f"{under}get_{what}_enabled",
                            f"{under}is_{what.removesuffix('_enabled')}_enabled", f"{under}are_{what}_enabled"):
            getter = getattr(namespace, getter_name, None)
            if callable(getter) and getter_name not in _SKIP:
                found.append((f"{label}.{getter_name}()", getter, getattr(namespace, name)))
                break
    return found


class TorchState:
    """torch's process-wide state in the zygote; :meth:`check` compares and restores.

    Take it after torch is imported and warmed up, before forking. Raises nothing: a getter
    that fails at start-up is left out of the table.
    """

    def __init__(self) -> None:
        import torch
        import torch.library
        import torch.utils._python_dispatch  # noqa: F401
        from torch.utils._config_module import ConfigModule

        self._torch = torch
        C = torch._C
        self.settings: list[tuple[str, object, object, object]] = []  # (name, getter, restorer(value), baseline)
        table = _pairs(C, "torch._C") + _pairs(torch, "torch")
        table += [
            ("torch.get_default_dtype()", torch.get_default_dtype, torch.set_default_dtype),
            ("torch.is_inference_mode_enabled()", torch.is_inference_mode_enabled, self._set_inference_mode),
            ("torch.is_autocast_enabled('cpu')", lambda: torch.is_autocast_enabled("cpu"), lambda v: torch.set_autocast_enabled("cpu", v)),
            ("torch.get_autocast_dtype('cpu')", lambda: torch.get_autocast_dtype("cpu"), lambda v: torch.set_autocast_dtype("cpu", v)),
            ("torch._C._is_torch_function_mode_enabled()", C._is_torch_function_mode_enabled, None),
            ("torch._C._is_any_autocast_enabled()", C._is_any_autocast_enabled, None),
            ("the default tensor type", lambda: torch.Tensor().type(), lambda v: C._set_default_tensor_type(getattr(torch, v.split(".")[-1]))),
            ("torch.set_printoptions", lambda: dict(vars(torch._tensor_str.PRINT_OPTS)),
             lambda v: vars(torch._tensor_str.PRINT_OPTS).update(v)),
            ("torch.set_flush_denormal (denormal numbers flushed)", self._flushes_denormals, torch.set_flush_denormal),
            ("torch.autograd saved-tensor hooks enabled", C._autograd._saved_tensors_hooks_is_enabled,
             lambda v: C._autograd._saved_tensors_hooks_enable() if v else None),
        ]
        for name, getter, setter in table:
            try:
                self.settings.append((name, getter, setter, getter()))
            except Exception:  # noqa: BLE001 - a getter that needs an argument or a device
                continue
        self.include = [k for k in C.DispatchKey.__members__.values() if C._dispatch_tls_is_dispatch_key_included(k)]
        self.exclude = [k for k in C.DispatchKey.__members__.values() if C._dispatch_tls_is_dispatch_key_excluded(k)]
        self.keysets = (repr(C._dispatch_tls_local_include_set()), repr(C._dispatch_tls_local_exclude_set()))
        self.configs = [(name, module, module.get_config_copy()) for name, module in sorted(sys.modules.items())
                        if name.startswith("torch") and isinstance(module, ConfigModule)]
        self.registries = self._registries()
        self.library = self._library_state()
        self._library_baseline = set(map(id, torch.library._keep_alive))

    # -- getters and restorers that torch does not provide ------------------------------
    def _flushes_denormals(self) -> bool:
        tiny = self._torch.tensor([1e-310], dtype=self._torch.float64)
        return bool((tiny * 1.0).item() == 0.0)

    def _set_inference_mode(self, enabled: bool) -> None:
        # a guard object sets the mode; it puts the old state back when it is freed, so it
        # is held for the rest of the process
        _GUARDS.append(self._torch._C._InferenceMode(enabled))

    def _registries(self) -> list[tuple[str, object, object]]:
        """Module-level dicts, lists and sets of torch whose name says they hold hooks."""
        found = []
        for name, module in sorted(sys.modules.items()):
            if not (name == "torch" or name.startswith("torch.")) or not isinstance(module, types.ModuleType):
                continue
            for attr, value in list(vars(module).items()):
                if "hook" in attr.lower() and type(value) in (dict, list, set) or (
                        attr.startswith("_global_") and isinstance(value, (dict, list, set))):
                    found.append((f"{name}.{attr}", value, self._copy(value)))
        return found

    @staticmethod
    def _copy(value):
        return list(value.items()) if isinstance(value, dict) else list(value)

    def _library_state(self) -> tuple:
        torch = self._torch
        C = torch._C
        counts = []
        for key in _KEYS:
            try:
                counts.append(len(C._dispatch_get_registrations_for_dispatch_key(key)))
            except Exception:  # noqa: BLE001 - alias keys have no registrations of their own
                counts.append(-1)
        return len(torch.library._impls), len(torch.library._defs), len(torch.library._keep_alive), tuple(counts)

    # -- the check ------------------------------------------------------------------------
    def check(self, namespace: dict | None = None) -> list[str]:
        """Compare torch's state with the baseline, put it back, describe what was left on.

        Args:
            namespace: the notebook's global namespace; ``torch.library.Library`` objects
                bound in it are destroyed when kernels were registered.

        Returns:
            list[str]: one line per difference that could change a test's outcome
            (``"a torch dispatch mode was left active (Lenient)"``); empty when torch is as
            the zygote left it or only harmless settings changed (those are put back too).
        """
        torch = self._torch
        C = torch._C
        changes: list[str] = []
        # modes first: every torch call below would go through them
        device = getattr(torch, "_GLOBAL_DEVICE_CONTEXT", None)
        if getattr(device, "device_context", None) is not None:
            changes.append(f"left a default device set (torch.set_default_device({torch.get_default_device()}))")
            device.device_context = None
        if C._len_torch_function_stack():
            modes = []
            while C._len_torch_function_stack():
                modes.append(type(C._pop_torch_function_stack()).__name__)
            changes.append(f"left a torch function mode active ({', '.join(modes)})")
        if C._len_torch_dispatch_stack():
            modes = []
            while C._len_torch_dispatch_stack():
                try:
                    modes.append(type(torch.utils._python_dispatch._pop_mode()).__name__)
                except Exception:  # noqa: BLE001 - pop it in C, without the Python bookkeeping
                    try:
                        modes.append(type(C._pop_torch_dispatch_stack(None)).__name__)
                    except Exception:  # noqa: BLE001 - nothing else to try; the finding stands
                        break
            changes.append(f"left a torch dispatch mode active ({', '.join(modes)})")
        hooks = 0
        while C._autograd._top_saved_tensors_default_hooks(True) is not None:
            C._autograd._pop_saved_tensors_default_hooks()
            hooks += 1
        if hooks:
            changes.append(f"left {hooks} saved-tensor hook(s) active (torch.autograd.graph.saved_tensors_hooks)")
        for name, getter, setter, baseline in self.settings:
            try:
                now = getter()
                same = not _differs(now, baseline)
            except Exception:  # noqa: BLE001 - a getter that broke is a change
                now, same = "?", False
            if same:
                continue
            if setter is not None:
                try:
                    setter(baseline)
                except Exception:  # noqa: BLE001 - e.g. interop threads can be set once
                    pass
            if not _QUIET.search(name):
                changes.append(f"changed {name} from {baseline!r} to {now!r}")
        if (repr(C._dispatch_tls_local_include_set()), repr(C._dispatch_tls_local_exclude_set())) != self.keysets:
            changes.append(f"changed torch's dispatch keys ({C._dispatch_tls_local_include_set()} / {C._dispatch_tls_local_exclude_set()})")
            for key in C.DispatchKey.__members__.values():
                try:
                    C._dispatch_tls_set_dispatch_key_included(key, key in self.include)
                    C._dispatch_tls_set_dispatch_key_excluded(key, key in self.exclude)
                except Exception:  # noqa: BLE001 - alias keys cannot be set
                    pass
        for name, module, baseline in self.configs:
            try:
                now = module.get_config_copy()
                changed = [key for key in baseline if _differs(now.get(key, _MISSING), baseline[key])]
                if changed:
                    # a copy: load_config binds the values it is given, so the baseline's own
                    # lists and sets would become the live ones, and a later change made in
                    # place would change the baseline with them and never be found
                    module.load_config(copy.deepcopy(baseline))
                changed = [key for key in changed if not _QUIET.search(key)]
            except Exception:  # noqa: BLE001 - a configuration that cannot be read back is a change
                changed = ["?"]
            if changed:
                changes.append(f"changed the settings of {name} ({', '.join(changed[:5])})")
        for name, registry, baseline in self.registries:
            current = self._copy(registry)
            if len(current) == len(baseline) and all(map(_identical, current, baseline)):
                continue
            changes.append(f"installed a global hook ({name})")
            registry.clear()
            if isinstance(registry, dict):
                registry.update(baseline)
            elif isinstance(registry, list):
                registry.extend(baseline)
            else:
                registry.update(baseline)
        if self._library_state() != self.library:
            changes.append("registered or replaced torch operator kernels (torch.library)")
            self._drop_libraries(namespace or {})
        return changes

    def _drop_libraries(self, namespace: dict) -> None:
        """Destroy the ``torch.library.Library`` objects the notebook made (their kernels go)."""
        library = self._torch.library
        found = [lib for lib in library._keep_alive if id(lib) not in self._library_baseline]
        for value in list(namespace.values()):
            values = list(value.values()) if isinstance(value, dict) else list(value) if isinstance(value, (list, tuple, set)) else [value]
            found += [v for v in values if isinstance(v, library.Library)]
        for lib in found:
            try:
                lib._destroy()
            except Exception:  # noqa: BLE001
                pass
        library._keep_alive[:] = [lib for lib in library._keep_alive if id(lib) in self._library_baseline]
