"""Node: sandbox and computer handles (`lib/handles.js`) and their typings,
appended to `lib/index.d.ts` by the node target."""

from __future__ import annotations

from handles import KINDS, Bound, Kind, bound_ops, lifecycle_ops, returns_handle, spaces
from table import Op, camel, load_models, lower_camel
from targets import node as N

HEADER = N.HEADER


def handle_class(kind: Kind) -> str:
    return kind.name + "Handle"


def space_class(kind: Kind, where: tuple[str, ...]) -> str:
    return handle_class(kind) + camel(".".join(where)) + "Api"


def lifecycle_class(kind: Kind) -> str:
    return camel(kind.lifecycle) + "HandlesApi"


def flat_path(op: Op) -> str:
    return ".".join(lower_camel(seg) for seg in op.namespace)


def js_bound(kind: Kind, b: Bound, owner: str) -> str:
    name = lower_camel(b.function)
    call = f"{owner}._flat.{flat_path(b.op)}.{lower_camel(b.op.function)}({owner}._id, ...args)"
    if returns_handle(b.op, kind):
        call += f".then((value) => {owner}._adopt(value))"
    return f"  /** {b.op.doc} */\n  {name}(...args) {{\n    return {call}\n  }}\n"


# Methods a handle namespace has beyond the table's operations.
HANDLE_HELPERS = {
    ("Sandbox", ("files",)): {
        "js": (
            "  /** Streams the sandbox file `path` into the local file `localPath`; resolves with the bytes written. */\n"
            "  download(...args) {\n"
            "    return this._h._flat.sandbox.files.download(this._h._id, ...args)\n"
            "  }\n"
            "\n"
            "  /** Streams the local file `localPath` to the sandbox path `path`. */\n"
            "  upload(...args) {\n"
            "    return this._h._flat.sandbox.files.upload(this._h._id, ...args)\n"
            "  }\n\n"
        ),
        "dts": (
            "  /** Streams the sandbox file `path` into the local file `localPath`; resolves with the bytes written. */\n"
            "  download(path: string, localPath: string | URL, options?: TransferOptions): Promise<number>\n"
            "  /** Streams the local file `localPath` to the sandbox path `path`, never holding it in memory. */\n"
            "  upload(path: string, localPath: string | URL, options?: TransferOptions): Promise<FileWritten>\n"
        ),
    },
}

WITH_RESPONSE_JS = (
    "  /** This namespace with each call resolving to `{ data, response }` (status, headers, request id). */\n"
    "  withResponse() {\n"
    "    return new this.constructor(this._h._withResponse())\n"
    "  }\n"
)


def render_js(ops: list[Op]) -> str:
    models = {m.name: m for m in load_models()}
    out = [HEADER, "'use strict'\n\n",
           "// Sandbox and computer handles: every operation on one resource with its id bound.\n\n",
           "const { Handle, rawFlat, toHandles } = require('./handle.js')\n"]
    exports = []
    for kind in KINDS:
        bound = bound_ops(kind, ops)
        paths = spaces(bound)
        kids = {w: [c for c in paths if len(c) == len(w) + 1 and c[: len(w)] == w] for w in [()] + paths}
        for where in sorted(paths, key=len, reverse=True):
            out.append(f"\n/** `{'.'.join(where)}` of one {kind.name.lower()}. */\nclass {space_class(kind, where)} {{\n")
            out.append("  constructor(handle) {\n    Object.defineProperty(this, '_h', { value: handle })\n")
            for child in kids[where]:
                out.append(f"    this.{lower_camel(child[-1])} = new {space_class(kind, child)}(handle)\n")
            out.append("  }\n\n")
            out.append("\n".join(js_bound(kind, b, "this._h") for b in bound if b.where == where))
            out.append("\n" + HANDLE_HELPERS.get((kind.name, where), {}).get("js", "") + WITH_RESPONSE_JS)
            out.append("}\n")
        members = {lower_camel(c[-1]) for c in kids[()]} | {lower_camel(b.function) for b in bound if not b.where}
        h = handle_class(kind)
        out.append(f"\n/** A {kind.name.lower()} bound to its client; see `{kind.lifecycle}.create`. */\nclass {h} extends Handle {{\n")
        getters = [
            f"  get {lower_camel(c[-1])}() {{\n    return this._space('{lower_camel(c[-1])}', {space_class(kind, c)})\n  }}\n"
            for c in kids[()]
        ]
        out.append("\n".join(getters))
        for f in models[kind.model].fields:
            if f.name not in members and f.name != "id":
                out.append(f"\n  /** {f.doc} */\n  get {f.name}() {{\n    return this._data.{f.name}\n  }}\n")
        out.append("\n" + "\n".join(js_bound(kind, b, "this") for b in bound if not b.where))
        out.append("}\n")
        lc = lifecycle_class(kind)
        out.append(f"\n/** `{kind.lifecycle}` with its records as `{h}`; the other operations as on the flat namespace. */\n")
        out.append(f"class {lc} {{\n  constructor(flat) {{\n    Object.defineProperty(this, '_flat', {{ value: flat }})\n")
        out.append(f"    for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(flat.{lower_camel(kind.lifecycle)}))) {{\n")
        out.append("      if (name !== 'constructor' && !(name in this)) {\n")
        out.append(f"        Object.defineProperty(this, name, {{ value: (...args) => flat.{lower_camel(kind.lifecycle)}[name](...args) }})\n")
        out.append("      }\n    }\n  }\n\n")
        out.append(f"  /** A handle for a known id, without a request (other fields empty until `refresh()`). */\n")
        out.append(f"  connect(id) {{\n    return new {h}(this._flat, {{ id }})\n  }}\n")
        out.append("\n  /** These operations with each call resolving to `{ data, response }` (status, headers, request id). */\n"
                   "  withResponse() {\n    return new this.constructor(rawFlat(this._flat))\n  }\n")
        for op in lifecycle_ops(kind, ops):
            fn = lower_camel(op.function)
            wrap = f"(value) => toHandles({h}, this._flat, value)"
            out.append(f"\n  /** {op.doc} */\n  {fn}(...args) {{\n    return this._flat.{lower_camel(kind.lifecycle)}.{fn}(...args).then({wrap})\n  }}\n")
            if op.iter_name:
                it = lower_camel(op.iter_name)
                out.append(f"\n  async *{it}(...args) {{\n    for await (const v of this._flat.{lower_camel(kind.lifecycle)}.{it}(...args)) yield new {h}(this._flat, v)\n  }}\n")
        out.append("}\n")
        exports += [h, lc]
    out.append(f"\nmodule.exports = {{ {', '.join(exports)} }}\n")
    return "".join(out)


def _retype(text: str, kind: Kind) -> str:
    h = handle_class(kind)
    return text.replace(f"Promise<{kind.model}>", f"Promise<{h}>").replace(f"Promise<{kind.model}[]>", f"Promise<{h}[]>")


def _renamed(text: str, op: Op, function: str) -> str:
    return text.replace(f"  {lower_camel(op.function)}(", f"  {lower_camel(function)}(", 1)


def render_dts(ops: list[Op]) -> str:
    models = {m.name: m for m in load_models()}
    names = set(models)
    out = ["\n// ---- sandbox and computer handles\n\n",
           "/** What every handle has: its id, the record the server last sent, and destroy-on-dispose. */\n",
           "export interface Handle<Data> {\n  readonly id: string\n  /** The record as the server last sent it (fields whose names are namespaces here are read from it). */\n"
           "  readonly data: Data\n  /** Leave the resource running when `await using` ends. */\n  keep(): this\n"
           "  toJSON(): Data\n  /** The `x-request-id` of the response the record last came from, or `null`. */\n"
           "  readonly _request_id?: string | null\n"
           "  /** Destroys the resource unless `keep()` was called; a resource already gone is fine. */\n"
           "  [Symbol.asyncDispose](): Promise<void>\n}\n"]
    for kind in KINDS:
        bound = bound_ops(kind, ops)
        paths = spaces(bound)
        kids = {w: [c for c in paths if len(c) == len(w) + 1 and c[: len(w)] == w] for w in [()] + paths}
        for where in paths:
            out.append(f"\n/** `{'.'.join(where)}` of one {kind.name.lower()}. */\nexport interface {space_class(kind, where)} {{\n")
            for child in kids[where]:
                out.append(f"  readonly {lower_camel(child[-1])}: {space_class(kind, child)}\n")
            for b in bound:
                if b.where == where:
                    out.append(_retype(_renamed(N.ts_method(b.unbound, names), b.op, b.function), kind))
            out.append(HANDLE_HELPERS.get((kind.name, where), {}).get("dts", ""))
            out.append(N.with_response_dts(space_class(kind, where)))
            out.append("}\n")
        h = handle_class(kind)
        members = {lower_camel(c[-1]) for c in kids[()]} | {lower_camel(b.function) for b in bound if not b.where}
        fields = [f for f in models[kind.model].fields if f.name not in members]
        omitted = " | ".join(f"'{f.name}'" for f in models[kind.model].fields if f.name in members)
        base = f"Omit<{kind.model}, {omitted}>" if omitted else kind.model
        out.append(f"\n/** A {kind.name.lower()} bound to its client: its record's fields plus every operation on it with the id\n"
                   f" * filled in. `await using` destroys it at the end of the block unless `keep()` was called. */\n"
                   f"export interface {h} extends {base}, Handle<{kind.model}> {{\n")
        for child in kids[()]:
            out.append(f"  readonly {lower_camel(child[-1])}: {space_class(kind, child)}\n")
        for b in bound:
            if not b.where:
                out.append(_retype(_renamed(N.ts_method(b.unbound, names), b.op, b.function), kind))
        out.append("}\n")
        lc = lifecycle_class(kind)
        changed = [op for op in lifecycle_ops(kind, ops)]
        omit = " | ".join(f"'{lower_camel(op.function)}'" for op in changed)
        iters = " | ".join(f"'{lower_camel(op.iter_name)}'" for op in changed if op.iter_name)
        omit = omit + (" | " + iters if iters else "") + " | 'withResponse'"
        flat = N.class_name((kind.lifecycle,))
        out.append(f"\n/** `{kind.lifecycle}` operations whose records come back as `{h}`. */\n"
                   f"export interface {lc} extends Omit<{flat}, {omit}> {{\n"
                   f"  /** A handle for a known id, without a request (other fields empty until `refresh()`). */\n"
                   f"  connect(id: string): {h}\n"
                   + N.with_response_dts(lc))
        for op in changed:
            text = _retype(N.ts_method(op, names), kind)
            if op.iter_name:
                text = text.replace(f"AsyncGenerator<{kind.model},", f"AsyncGenerator<{h},")
            out.append(text)
        out.append("}\n")
    return "".join(out)


def client_members(text: str) -> str:
    """The client's namespaces, with the lifecycle ones typed as their handle-returning form."""
    for kind in KINDS:
        flat = N.class_name((kind.lifecycle,))
        text = text.replace(f"readonly {lower_camel(kind.lifecycle)}: {flat}\n", f"readonly {lower_camel(kind.lifecycle)}: {lifecycle_class(kind)}\n")
    return text


def render(ops: list[Op]) -> dict[str, str]:
    return {"bindings-node/lib/handles.js": render_js(ops)}
