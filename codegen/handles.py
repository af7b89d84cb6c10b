"""Which operations a sandbox or computer handle exposes, derived from the
operation table: every operation of the handle's namespaces whose first path
argument is `id` is bound to the handle's id. Each target renders these."""

from __future__ import annotations

import dataclasses

from table import Op


@dataclasses.dataclass(frozen=True)
class Kind:
    name: str  # handle name: Sandbox, Computer
    model: str  # the model its records are (core/models.toml)
    lifecycle: str  # the flat namespace that creates, fetches and lists it
    # Table namespace -> where its bound operations sit on the handle ("" for the handle itself).
    sources: tuple[tuple[str, str], ...]
    # Handle-level names for lifecycle operations (the official SDKs' words).
    renames: tuple[tuple[str, str], ...]


KINDS = (
    Kind("Sandbox", "Sandbox", "sandboxes", (("sandboxes", ""), ("sandbox", "")), (("get", "refresh"), ("delete", "destroy"))),
    # `computer.destroy` comes before `computers.delete`, so the handle's `destroy` is the former.
    Kind("Computer", "Computer", "computers", (("computer", ""), ("computers", ""), ("desktop", "desktop"), ("exec", "exec")),
         (("get", "refresh"), ("delete", "destroy"))),
)


@dataclasses.dataclass(frozen=True)
class Bound:
    op: Op  # the table operation
    unbound: Op  # the same with the `id` path argument removed (what the handle's method takes)
    where: tuple[str, ...]  # namespace path on the handle, () for the handle itself
    function: str  # method name on the handle


def bound_ops(kind: Kind, ops: list[Op]) -> list[Bound]:
    out: list[Bound] = []
    taken: set[tuple[tuple[str, ...], str]] = set()
    renames = dict(kind.renames)
    for source, target in kind.sources:
        for op in ops:
            ns = op.namespace
            if not ns or ns[0] != source or not op.path_params or op.path_params[0] != "id":
                continue
            where = tuple(p for p in (target,) if p) + ns[1:]
            function = renames.get(op.function, op.function) if not where else op.function
            if (where, function) in taken:
                continue
            taken.add((where, function))
            out.append(Bound(op, dataclasses.replace(op, path_params=op.path_params[1:]), where, function))
    return out


def spaces(bound: list[Bound]) -> list[tuple[str, ...]]:
    """Every namespace path on the handle, parents first."""
    seen: list[tuple[str, ...]] = []
    for b in bound:
        for i in range(1, len(b.where) + 1):
            if b.where[:i] not in seen:
                seen.append(b.where[:i])
    return seen


def returns_handle(op: Op, kind: Kind) -> bool:
    """Whether the result is a record (or list of records) of the handle's model."""
    return op.returns.kind in ("model", "list", "page") and op.returns.model == kind.model


def lifecycle_ops(kind: Kind, ops: list[Op]) -> list[Op]:
    """Flat lifecycle operations whose results become handles (create, get, list, ...)."""
    return [op for op in ops if op.namespace == (kind.lifecycle,) and returns_handle(op, kind)]
