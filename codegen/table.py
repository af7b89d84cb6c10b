"""Parses core/operations.toml into plain objects shared by every target."""

from __future__ import annotations

import dataclasses
import json
import pathlib
import re
import tomllib
from typing import NamedTuple

ROOT = pathlib.Path(__file__).resolve().parent.parent
TABLE = ROOT / "core" / "operations.toml"

TYPES = {"str", "int", "float", "bool", "map", "list", "json", "bytes"}
MODELS = {
    "Sandbox", "Computer", "ExecResult", "Process", "Webhook", "Share", "PreviewToken",
    "Snapshot", "Template", "UsageReport", "Quota", "AuditEntry", "Workspace", "Member",
    "Invite", "Deployment", "Database", "Volume", "Bucket",
}


@dataclasses.dataclass(frozen=True)
class Param:
    name: str
    wire: str
    ty: str


@dataclasses.dataclass(frozen=True)
class Returns:
    kind: str  # model, list, page, json, bytes, events, bool
    model: str | None = None
    cursor: str | None = None


@dataclasses.dataclass(frozen=True)
class Op:
    name: str
    seed: str
    method: str
    path: str
    path_params: tuple[str, ...]
    args: tuple[Param, ...]
    query: tuple[Param, ...]
    body: tuple[Param, ...]
    idempotency: str
    returns: Returns
    upload: str
    fixed: tuple[tuple[str, str], ...]
    host: str
    custom: bool
    server_time: str | None
    stream_end: tuple[str, ...]
    confidence: str
    doc: str

    @property
    def namespace(self) -> tuple[str, ...]:
        return tuple(self.name.split(".")[:-1])

    @property
    def function(self) -> str:
        return self.name.split(".")[-1]

    @property
    def positional(self) -> list[Param]:
        return [Param(p, p, "str") for p in self.path_params] + list(self.args)

    @property
    def keywords(self) -> list[Param]:
        """Keyword parameters callers may pass (query, body, and the header-borne ones)."""
        out = list(self.query) + list(self.body)
        if self.idempotency != "none":
            out.append(Param("idempotency_key", "Idempotency-Key", "str"))
        if self.upload == "raw" and not any(p.name == "content_type" for p in out):
            out.append(Param("content_type", "Content-Type", "str"))
        if self.returns.kind == "page":
            out.append(Param(self.returns.cursor, self.returns.cursor, "str"))
        return out

    @property
    def iter_name(self) -> str | None:
        """Name of the all-pages iterator beside a paginated list."""
        if self.returns.kind != "page":
            return None
        fn = self.function
        if fn == "list":
            return "iter"
        if fn.startswith("list_"):
            return "iter_" + fn[len("list_"):]
        return fn + "_iter"


def _params(spec: str, where: str, op: str) -> tuple[Param, ...]:
    out = []
    for token in spec.split():
        m = re.fullmatch(r"([a-z_][a-z0-9_]*)(?::([a-z]+))?(?:>([A-Za-z0-9_\-]+))?", token)
        if not m:
            raise SystemExit(f"{op}: bad {where} parameter `{token}`")
        name, ty, wire = m.group(1), m.group(2) or "str", m.group(3) or m.group(1)
        if ty not in TYPES:
            raise SystemExit(f"{op}: unknown type `{ty}` in {where}")
        out.append(Param(name, wire, ty))
    return tuple(out)


def _returns(text: str, paginate: str | None, op: str) -> Returns:
    if text in {"json", "bytes", "events", "bool"}:
        return Returns(text)
    if m := re.fullmatch(r"\[(\w+)\]", text):
        return Returns("list", m.group(1))
    if m := re.fullmatch(r"page<(\w+)>", text):
        if not paginate:
            raise SystemExit(f"{op}: page<...> needs `paginate`")
        return Returns("page", m.group(1), paginate)
    if text in MODELS:
        return Returns("model", text)
    raise SystemExit(f"{op}: unknown returns `{text}`")


def _server_time(row: dict, op: str) -> str | None:
    name = row.get("server_time")
    if name is None:
        return None
    declared = _params(row.get("query", ""), "query", op) + _params(row.get("body", ""), "body", op)
    if not any(p.name == name and p.ty in ("int", "float") for p in declared):
        raise SystemExit(f"{op}: server_time `{name}` must name an int or float keyword parameter")
    return name


def _stream_end(row: dict, op: str) -> tuple[str, ...]:
    ends = row.get("stream_end", [])
    if ends and row["returns"] != "events":
        raise SystemExit(f"{op}: stream_end only applies to returns = \"events\"")
    if not isinstance(ends, list) or not all(isinstance(e, str) and e for e in ends):
        raise SystemExit(f"{op}: stream_end must be a list of event types")
    return tuple(ends)


def load_table() -> list[Op]:
    data = tomllib.loads(TABLE.read_text())["ops"]
    ops = []
    for name, row in data.items():
        method, _, path = row["http"].partition(" ")
        path_params = tuple(re.findall(r"\{(\w+)\}", path))
        ops.append(
            Op(
                name=name,
                seed=row.get("seed", ""),
                method=method,
                path=path,
                path_params=path_params,
                args=_params(row.get("args", ""), "args", name),
                query=_params(row.get("query", ""), "query", name),
                body=_params(row.get("body", ""), "body", name),
                idempotency=row.get("idempotency", "none"),
                returns=_returns(row["returns"], row.get("paginate"), name),
                upload=row.get("upload", "json"),
                fixed=tuple((k, json.dumps(v)) for k, v in row.get("fixed", {}).items()),
                host=row.get("host", "api"),
                custom=bool(row.get("custom", False)),
                server_time=_server_time(row, name),
                stream_end=_stream_end(row, name),
                confidence=row["confidence"],
                doc=row["doc"],
            )
        )
    return ops


def camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[._]", name) if part)


def lower_camel(name: str) -> str:
    c = camel(name)
    return c[:1].lower() + c[1:]


def namespaces(ops: list[Op]) -> list[tuple[str, ...]]:
    """Every namespace path, parents before children, in table order."""
    seen: list[tuple[str, ...]] = []
    for op in ops:
        ns = op.namespace
        for i in range(1, len(ns) + 1):
            if ns[:i] not in seen:
                seen.append(ns[:i])
    return seen


class ModelField(NamedTuple):
    name: str
    ty: str  # the Rust type, e.g. `String`, `Map<String, Value>`
    doc: str


class Model(NamedTuple):
    name: str
    doc: str
    fields: list[ModelField]


def load_models() -> list[Model]:
    """The `model! { ... }` blocks of core/src/models.rs, in order: every target
    derives its typed results from the core's models, so none can drift."""
    text = (ROOT / "core" / "src" / "models.rs").read_text()
    models: list[Model] = []
    for block in re.findall(r"model! \{\n(.*?)\n\}\n", text, re.S):
        docs: list[str] = []
        model: Model | None = None
        for line in (line.strip() for line in block.splitlines()):
            if line.startswith("///"):
                docs.append(line[3:].strip())
            elif m := re.fullmatch(r"(\w+) \{", line):
                model = Model(m.group(1), " ".join(docs), [])
                docs = []
            elif m := re.fullmatch(r"(\w+): (.+),", line):
                if model is None:
                    raise SystemExit(f"models.rs: field outside a model: {line}")
                model.fields.append(ModelField(m.group(1), m.group(2), " ".join(docs)))
                docs = []
            elif line not in ("}", ""):
                raise SystemExit(f"models.rs: cannot read `{line}`")
        if model is None:
            raise SystemExit("models.rs: a model! block without a model")
        models.append(model)
    if not models:
        raise SystemExit("models.rs: no models found")
    return models
