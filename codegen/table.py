"""Parses core/operations.toml into plain objects shared by every target."""

from __future__ import annotations

import dataclasses
import json
import pathlib
import re
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent
TABLE = ROOT / "core" / "operations.toml"

TYPES = {"str", "int", "float", "bool", "map", "list", "json", "bytes"}
# How a WebSocket operation frames its data (`returns = "socket<exec>"`).
SOCKET_FRAMES = {"terminal", "exec", "events"}
# Element types a list parameter may declare: `tags:[str]`, `messages:[map]`, and
# `files:[file]`: files to write, `{path, content}` items whose content (bytes or text)
# the core sends base64-encoded as `content_base64`.
LIST_PARAM_ITEMS = {"str", "map", "json", "file"}


@dataclasses.dataclass(frozen=True)
class Param:
    name: str
    wire: str
    ty: str
    required: bool = False  # a keyword parameter the call cannot do without (`name!` in the table)
    item: str | None = None  # element type of a list: str, map, json or file (`name:[str]` in the table)
    doc: str = ""  # meaning and unit, where the name alone does not say it


@dataclasses.dataclass(frozen=True)
class Returns:
    kind: str  # model, list, page, json, bytes, events, bool, socket
    model: str | None = None  # for socket: the framing (terminal, exec, events)
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
    on_state: bool = False  # a wait that can report each new lifecycle state to a callback

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
            # One keyword in every language; the core sends it under the table's wire name.
            wire = self.returns.cursor
            doc = ("Page to fetch (`next_cursor` of the previous page, a page number); the first when omitted."
                   if wire == "page"
                   else "Cursor of the page to fetch (`next_cursor` of the previous page); the first when omitted.")
            out.append(Param("cursor", wire, "str", doc=doc))
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
        m = re.fullmatch(r"([a-z_][a-z0-9_]*)(!)?(?::([a-z]+|\[[a-z]+\]))?(?:>([A-Za-z0-9_\-]+))?", token)
        if not m:
            raise SystemExit(f"{op}: bad {where} parameter `{token}`")
        name, ty, wire = m.group(1), m.group(3) or "str", m.group(4) or m.group(1)
        item = None
        if ty.startswith("["):
            ty, item = "list", ty[1:-1]
            if item not in LIST_PARAM_ITEMS:
                raise SystemExit(f"{op}: `{name}` lists `{item}`; elements may be {sorted(LIST_PARAM_ITEMS)}")
        if ty not in TYPES:
            raise SystemExit(f"{op}: unknown type `{ty}` in {where}")
        if m.group(2) and where == "args":
            raise SystemExit(f"{op}: `{name}` is positional, hence always required; drop the `!`")
        out.append(Param(name, wire, ty, required=bool(m.group(2)), item=item))
    return tuple(out)


def _returns(text: str, paginate: str | None, op: str) -> Returns:
    if text in {"json", "bytes", "events", "bool"}:
        return Returns(text)
    if m := re.fullmatch(r"socket<(\w+)>", text):
        if m.group(1) not in SOCKET_FRAMES:
            raise SystemExit(f"{op}: socket framing `{m.group(1)}` is not one of {sorted(SOCKET_FRAMES)}")
        return Returns("socket", m.group(1))
    if m := re.fullmatch(r"\[(\w+)\]", text):
        if m.group(1) != "str" and m.group(1) not in MODELS:
            raise SystemExit(f"{op}: returns a list of `{m.group(1)}`, which core/models.toml does not define")
        return Returns("list", m.group(1))
    if m := re.fullmatch(r"page<(\w+)>", text):
        if not paginate:
            raise SystemExit(f"{op}: page<...> needs `paginate`")
        if m.group(1) != "json" and m.group(1) not in MODELS:
            raise SystemExit(f"{op}: returns pages of `{m.group(1)}`, which core/models.toml does not define")
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


UPLOADS = {"json", "raw", "multipart"}


def _upload(row: dict, op: str) -> str:
    upload = row.get("upload", "json")
    if upload not in UPLOADS:
        raise SystemExit(f"{op}: upload must be one of {sorted(UPLOADS)}")
    if upload == "multipart" and not any(p.wire == "file" for p in _params(row.get("args", ""), "args", op)):
        raise SystemExit(f"{op}: a multipart upload needs an argument sent as `file` (`name>file`)")
    if row.get("extra") and row.get("seed"):
        raise SystemExit(f"{op}: an operation is either in the seed or `extra`, not both")
    return upload


def _documented(params: tuple[Param, ...], docs: dict[str, str], op: str) -> tuple[Param, ...]:
    return tuple(dataclasses.replace(p, doc=docs.get(p.name, "")) for p in params)


def load_table() -> list[Op]:
    table = tomllib.loads(TABLE.read_text())
    data, param_docs = table["ops"], table.get("param_docs", {})
    ops = []
    for name, row in data.items():
        docs = {**param_docs, **row.get("docs", {})}
        given = set(row.get("docs", {}))
        declared = {p for where in ("args", "query", "body") for p in re.findall(r"([a-z_][a-z0-9_]*)", row.get(where, ""))}
        if given - declared:
            raise SystemExit(f"{name}: `docs` for parameters it does not have: {sorted(given - declared)}")
        method, _, path = row["http"].partition(" ")
        path_params = tuple(re.findall(r"\{(\w+)\}", path))
        ops.append(
            Op(
                name=name,
                seed=row.get("seed", ""),
                method=method,
                path=path,
                path_params=path_params,
                args=_documented(_params(row.get("args", ""), "args", name), docs, name),
                query=_documented(_params(row.get("query", ""), "query", name), docs, name),
                body=_documented(_params(row.get("body", ""), "body", name), docs, name),
                idempotency=row.get("idempotency", "none"),
                returns=_returns(row["returns"], row.get("paginate"), name),
                upload=_upload(row, name),
                fixed=tuple((k, json.dumps(v)) for k, v in row.get("fixed", {}).items()),
                host=row.get("host", "api"),
                custom=bool(row.get("custom", False)),
                server_time=_server_time(row, name),
                stream_end=_stream_end(row, name),
                confidence=row["confidence"],
                doc=row["doc"],
                on_state=_on_state(row, name),
            )
        )
    return ops


def _on_state(row: dict, op: str) -> bool:
    on_state = bool(row.get("on_state", False))
    if on_state and (not row.get("custom") or row["returns"] != "bool"):
        raise SystemExit(f"{op}: on_state is for the client's own waits (custom, returns bool)")
    return on_state


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


# Scalar field types of core/models.toml; `[X]` is a list of X, a model name a nested model.
FIELD_SCALARS = {"str", "int", "float", "bool", "timestamp", "map", "json", "enum"}
LIST_ITEMS = {"str", "int", "json"}


@dataclasses.dataclass(frozen=True)
class ModelField:
    name: str
    ty: str  # as written in the table: `str`, `enum`, `[str]`, `[FileWritten]`, `Deployment`
    required: bool
    secret: bool
    token_url: bool
    values: tuple[str, ...]  # known values of an open enum
    same_as: str | None  # another field the core fills this one from when the server sends only that one
    doc: str

    @property
    def item(self) -> str | None:
        """The element type of a list field, else None."""
        return self.ty[1:-1] if self.ty.startswith("[") else None

    @property
    def model(self) -> str | None:
        """The nested model of this field or of its elements, else None."""
        inner = self.item or self.ty
        return None if inner in FIELD_SCALARS or inner in LIST_ITEMS else inner


@dataclasses.dataclass(frozen=True)
class Model:
    name: str
    doc: str
    fields: tuple[ModelField, ...]

    @property
    def secret_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.secret)

    @property
    def token_url_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.token_url)


MODELS_TABLE = ROOT / "core" / "models.toml"
FIELD_KEYS = {"type", "required", "secret", "token_url", "values", "same_as", "doc"}


def load_models() -> list[Model]:
    """core/models.toml, in table order: every target derives its typed results from it."""
    data = tomllib.loads(MODELS_TABLE.read_text())
    names = set(data)
    models = []
    for name, row in data.items():
        if set(row) != {"doc", "fields"}:
            raise SystemExit(f"models.toml: {name} needs exactly `doc` and `fields`")
        fields = []
        for fname, spec in row["fields"].items():
            where = f"models.toml: {name}.{fname}"
            if not set(spec) <= FIELD_KEYS or "type" not in spec or "doc" not in spec:
                raise SystemExit(f"{where}: needs `type` and `doc`, may have {sorted(FIELD_KEYS)}")
            ty = spec["type"]
            inner = ty[1:-1] if ty.startswith("[") and ty.endswith("]") else None
            if inner is not None and inner not in LIST_ITEMS and inner not in names:
                raise SystemExit(f"{where}: unknown list element type `{inner}`")
            if inner is None and ty not in FIELD_SCALARS and ty not in names:
                raise SystemExit(f"{where}: unknown type `{ty}`")
            if ("values" in spec) != (ty == "enum"):
                raise SystemExit(f"{where}: `values` goes with type enum, and only there")
            field = ModelField(
                name=fname,
                ty=ty,
                required=bool(spec.get("required", False)),
                secret=bool(spec.get("secret", False)),
                token_url=bool(spec.get("token_url", False)),
                values=tuple(spec.get("values", ())),
                same_as=spec.get("same_as"),
                doc=spec["doc"],
            )
            if field.secret and field.token_url:
                raise SystemExit(f"{where}: a secret is hidden whole; drop `token_url`")
            if (field.secret or field.token_url) and ty != "str":
                raise SystemExit(f"{where}: only text fields can be secret or token URLs")
            fields.append(field)
        known = {f.name for f in fields}
        for f in fields:
            if f.same_as is not None and f.same_as not in known:
                raise SystemExit(f"models.toml: {name}.{f.name}: same_as names no field of {name}")
        models.append(Model(name, row["doc"], tuple(fields)))
    if not models:
        raise SystemExit("models.toml: no models found")
    return models


MODELS = {m.name for m in load_models()}
