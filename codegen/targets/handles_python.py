"""Python: sandbox and computer handles (sync and asyncio) over the generated
namespaces, and the lifecycle namespaces whose results become handles."""

from __future__ import annotations

from handles import KINDS, Bound, Kind, bound_ops, lifecycle_ops, spaces
from table import Op, camel
from targets import python as P

PKG = P.PKG
HEADER = P.HEADER


def handle_class(kind: Kind, asynchronous: bool) -> str:
    return ("Async" if asynchronous else "") + kind.name + "Handle"


def space_class(kind: Kind, where: tuple[str, ...], asynchronous: bool) -> str:
    return handle_class(kind, asynchronous) + camel(".".join(where)) + "API"


def lifecycle_class(kind: Kind, asynchronous: bool) -> str:
    return ("Async" if asynchronous else "") + camel(kind.lifecycle) + "HandlesAPI"


def _renamed(text: str, op: Op, function: str) -> str:
    return text.replace(f"def {op.function}(", f"def {function}(", 1)


def bound_method(kind: Kind, b: Bound, asynchronous: bool, stub: bool, on_handle: bool) -> str:
    op = b.unbound
    if stub:
        text = _renamed(P.render_stub_method(op, asynchronous), op, b.function)
        return _handle_types(text, kind, asynchronous)
    text = _renamed(P.render_method(op, asynchronous), op, b.function)
    text = text.replace(f'"{op.name}", (', f'"{op.name}", (self._id, ').replace("(self._id, )", "(self._id,)")
    adopt = "self._adopt" if on_handle else "self._owner._adopt"
    return text.replace(f", _m.{kind.model})", f", {adopt})")


def _handle_types(text: str, kind: Kind, asynchronous: bool) -> str:
    """Stub result types: records of the handle's model are handles."""
    h = handle_class(kind, asynchronous)
    for old, new in ((f"-> {kind.model}:", f"-> {h}:"), (f"List[{kind.model}]", f"List[{h}]"),
                     (f"Page[{kind.model}]", f"Page[{h}]"), (f"Pager[{kind.model}]", f"Pager[{h}]")):
        text = text.replace(old, new)
    return text


def render_kind(kind: Kind, ops: list[Op], asynchronous: bool, stub: bool) -> str:
    bound = bound_ops(kind, ops)
    out = []
    paths = spaces(bound)
    kids = {w: [c for c in paths if len(c) == len(w) + 1 and c[: len(w)] == w] for w in [()] + paths}
    for where in reversed(paths):
        cls = space_class(kind, where, asynchronous)
        out.append(f"\n\nclass {cls}(BoundNamespace):\n    \"\"\"`{'.'.join(where)}` of one {kind.name.lower()}.\"\"\"\n\n")
        if not stub:
            out.append("    __slots__ = ()\n")
        for child in kids[where]:
            out.append(f"    {child[-1]}: {space_class(kind, child, asynchronous)}\n")
        for b in bound:
            if b.where == where:
                out.append("\n" + bound_method(kind, b, asynchronous, stub, on_handle=False))
    base = "AsyncHandle" if asynchronous else "SyncHandle"
    h = handle_class(kind, asynchronous)
    flat = "AsyncClient" if asynchronous else "Client"
    doc = (f"A {kind.name.lower()} bound to its client: the `{kind.lifecycle}` record it came with plus every "
           f"operation on it with the id filled in. `{'async with' if asynchronous else 'with'}` destroys it on exit "
           f"unless `keep()` was called. Fields whose names are namespaces here are read from `data`. "
           f"Get one from `{flat}.{kind.lifecycle}.create`, `get`, `list` or `connect`.")
    out.append(f"\n\nclass {h}({base}, _m.{kind.model}):\n    \"\"\"{doc}\"\"\"\n\n")
    top = kids[()]
    if stub:
        for child in top:
            out.append(f"    @property\n    def {child[-1]}(self) -> {space_class(kind, child, asynchronous)}: ...  # type: ignore[override]\n")
        out.append("    @property\n    def data(self) -> _m." + kind.model + ": ...\n")
        out.append("    def __init__(self, native: NativeClient, data: Mapping[str, Any]) -> None: ...\n")
    else:
        out.append(f"    _model = _m.{kind.model}\n")
        for child in top:
            out.append(
                f"\n    @property\n    def {child[-1]}(self):\n"
                f"        return self._space(\"{child[-1]}\", {space_class(kind, child, asynchronous)})\n"
            )
    for b in bound:
        if b.where == ():
            out.append("\n" + bound_method(kind, b, asynchronous, stub, on_handle=True))
    return "".join(out)


def render_lifecycle(kind: Kind, ops: list[Op], asynchronous: bool, stub: bool) -> str:
    cls = lifecycle_class(kind, asynchronous)
    h = handle_class(kind, asynchronous)
    parent = P.class_name((kind.lifecycle,), asynchronous)
    out = [f"\n\nclass {cls}({parent}):\n    \"\"\"`{kind.lifecycle}` operations whose {kind.name.lower()} records come back as `{h}`.\"\"\"\n\n"]
    if stub:
        out.append("    def __init__(self, native: NativeClient) -> None: ...\n")
        out.append(f"\n    def connect(self, id: str) -> {h}:\n"
                   f"        \"\"\"A handle for a known {kind.name.lower()} id, without a request (its other fields are\n"
                   f"        empty until `refresh()`).\"\"\"\n")
    else:
        out.append('    __slots__ = ("_native",)\n\n')
        out.append(f"    def __init__(self, native):\n        {parent}.__init__(self, native)\n        self._native = native\n")
        out.append(f"\n    def _handle(self, data):\n        return {h}(self._native, data)\n")
        out.append(f"\n    def connect(self, id):\n        return {h}(self._native, {{\"id\": id}})\n")
    for op in lifecycle_ops(kind, ops):
        pending = asynchronous and op.function == "create"
        if stub:
            text = _handle_types(P.render_stub_method(op, asynchronous), kind, asynchronous)
            if pending:
                text = text.replace("    async def create(", "    def create(", 1).replace(f"-> {h}:", f"-> PendingHandle[{h}]:", 1)
        else:
            text = P.render_method(op, asynchronous).replace(f", _m.{kind.model})", ", self._handle)")
            if pending:
                text = text.replace("    async def create(", "    def create(", 1).replace(
                    "return await self._acall(", "return PendingHandle(self._acall(", 1)
                text = text.rstrip("\n") + ")\n"
        out.append("\n" + text)
    return "".join(out)


def render_module(ops: list[Op], stub: bool) -> str:
    if stub:
        head = (HEADER
                + "from typing import Any, Awaitable, Callable, Coroutine, Dict, List, Mapping, Sequence, overload\n\n"
                + "from . import _models as _m\n"
                + "from ._base import AsyncEventStream, AsyncPager, FileWrite, FileWriteBase64\n"
                + "from ._handle_base import AsyncHandle, BoundNamespace, PendingHandle, SyncHandle\n"
                + "from ._models import *\n"
                + "from ._native import NOT_GIVEN, Event, EventStream, NativeClient, NotGiven, Page, Pager\n"
                + "from ._ops import " + ", ".join(P.class_name((k.lifecycle,), a) for k in KINDS for a in (False, True)) + "\n")
    else:
        head = (HEADER
                + '"""Sandbox and computer handles: every operation on one resource with its id bound."""\n\n'
                + "from . import _models as _m\n"
                + "from ._base import AsyncEventStream, AsyncPager, run_async_callback, run_callback\n"
                + "from ._handle_base import AsyncHandle, BoundNamespace, PendingHandle, SyncHandle\n"
                + "from ._native import NOT_GIVEN\n"
                + "from ._ops import " + ", ".join(P.class_name((k.lifecycle,), a) for k in KINDS for a in (False, True)) + "\n")
    names = [f(k, a) for k in KINDS for a in (False, True) for f in (handle_class, lifecycle_class)]
    body = "\n__all__ = [" + ", ".join(f'"{n}"' for n in names) + "]\n"
    for kind in KINDS:
        for asynchronous in (False, True):
            body += render_kind(kind, ops, asynchronous, stub) + render_lifecycle(kind, ops, asynchronous, stub)
    return head + body


def render(ops: list[Op]) -> dict[str, str]:
    return {f"{PKG}/_handles.py": render_module(ops, False), f"{PKG}/_handles.pyi": render_module(ops, True)}
