"""Swift: sandbox and computer handles as a thin generated wrapper over the
UniFFI surface (`Handles.swift`). `client.withSandbox(params) { sb in ... }`
destroys the sandbox when the closure returns or throws; `close()` is the
`defer`-friendly form that destroys in the background."""

from __future__ import annotations

from handles import KINDS, Bound, Kind, bound_ops, lifecycle_ops, returns_handle, spaces
from table import Op, camel
from targets import uniffi as U

HEADER = U.HEADER
PATH = "bindings-uniffi/swift/Sources/Miosa/Handles.swift"

SW_ARGS = {"str": "String", "int": "Int", "float": "Double", "bool": "Bool", "map": "String", "list": "String",
           "json": "String", "bytes": "Data"}


def sw_arg(p) -> str:
    return "[FileWrite]" if U.is_files(p) else "[String]" if U.is_strings(p) else SW_ARGS[p.ty]


def sw_return(op: Op) -> str:
    r = op.returns
    if r.kind == "model":
        return U.record_name(r.model)
    if r.kind == "list":
        return "[String]" if r.model == "str" else f"[{U.record_name(r.model)}]"
    if r.kind == "page":
        return U.page_name(r.model)
    return {"json": "String", "bytes": "Data", "events": "EventStream", "bool": "Bool", "socket": "Socket"}[r.kind]


def space_struct(kind: Kind, where: tuple[str, ...]) -> str:
    return kind.name + "Handle" + camel(".".join(where)) + "Ops"


def method(kind: Kind, b: Bound, on_handle: bool) -> str:
    op = b.unbound
    sig = [f"{U.lower_camel(p.name)}: {sw_arg(p)}" for p in op.positional]
    args = ["id: id"] + [f"{U.lower_camel(p.name)}: {U.lower_camel(p.name)}" for p in op.positional]
    pname = U.params_name(op)
    if pname:
        sig.append(f"params: {pname}? = nil")
        args.append("params: params")
    if op.on_state:
        sig.append("onState: (@Sendable (String) -> Void)? = nil")
        args.append("onState: onState.map { StateClosure($0) }")
    chain = "client" + "".join(f".{U.lower_camel(seg)}()" for seg in b.op.namespace)
    call = f"try await {chain}.{U.lower_camel(b.op.function)}({', '.join(args)})"
    name = U.lower_camel(b.function)
    doc = f"    /// {b.op.doc} (`{b.op.method} {b.op.path}` with this {kind.name.lower()}'s id)\n"
    head = f"    public func {name}({', '.join(sig)}) async throws -> {sw_return(op)}"
    if on_handle and b.function == "destroy":
        return doc + head + f" {{\n        settled = true\n        return {call}\n    }}\n"
    if on_handle and returns_handle(b.op, kind) and op.returns.kind == "model":
        return (doc + head + f" {{\n        let record = {call}\n"
                "        if record.id == id { data = record }\n        return record\n    }\n")
    return doc + head + f" {{\n        {call}\n    }}\n"


def render_kind(kind: Kind, ops: list[Op]) -> str:
    bound = bound_ops(kind, ops)
    paths = spaces(bound)
    kids = {w: [c for c in paths if len(c) == len(w) + 1 and c[: len(w)] == w] for w in [()] + paths}
    h = kind.name + "Handle"
    lower = kind.name.lower()
    record = U.record_name(kind.model)
    create = next(op for op in lifecycle_ops(kind, ops) if op.function == "create")
    out = [f"""
/// A {lower} bound to its client: its id, the record the server last sent, and every
/// operation on it with the id filled in. `client.with{kind.name}(params) {{ {lower[:2]} in ... }}`
/// destroys it when the closure returns or throws; `destroy()` ends it explicitly and
/// `keep()` leaves it running. `close()` (for `defer`) destroys it in the background.
public final class {h} {{
    public let client: Client
    /// The {lower}'s id.
    public let id: String
    /// The record as the server last sent it (nil for a handle from `connect`).
    public private(set) var data: {record}?
    private var settled = false

    public init(client: Client, record: {record}) {{
        self.client = client
        self.id = record.id
        self.data = record
    }}

    /// A handle for a known id, without a request.
    public init(client: Client, id: String) {{
        self.client = client
        self.id = id
        self.data = nil
    }}

    /// Leaves the {lower} running when the scope ends.
    @discardableResult
    public func keep() -> {h} {{
        settled = true
        return self
    }}

    /// Destroys the {lower} in the background unless `keep()` or `destroy()` was called.
    public func close() {{
        if settled {{ return }}
        settled = true
        let handle = self
        Task {{ _ = try? await handle.destroy() }}
    }}
"""]
    for child in kids[()]:
        out.append(f"\n    /// `{child[-1]}` operations on this {lower}.\n"
                   f"    public var {U.lower_camel(child[-1])}: {space_struct(kind, child)} {{ {space_struct(kind, child)}(client: client, id: id) }}\n")
    for b in bound:
        if not b.where:
            out.append("\n" + method(kind, b, on_handle=True))
    out.append("}\n")
    for where in paths:
        s = space_struct(kind, where)
        out.append(f"\n/// `{'.'.join(where)}` operations on one {lower}.\npublic struct {s} {{\n"
                   "    let client: Client\n    let id: String\n")
        for child in kids[where]:
            out.append(f"    public var {U.lower_camel(child[-1])}: {space_struct(kind, child)} {{ {space_struct(kind, child)}(client: client, id: id) }}\n")
        for b in bound:
            if b.where == where:
                out.append("\n" + method(kind, b, on_handle=False))
        out.append("}\n")
    out.append(f"""
extension Client {{
    /// Creates a {lower} and answers its handle.
    public func create{kind.name}(params: {U.params_name(create)}? = nil) async throws -> {h} {{
        {h}(client: self, record: try await {U.lower_camel(kind.lifecycle)}().create(params: params))
    }}

    /// A handle for a known {lower} id, without a request.
    public func connect{kind.name}(id: String) -> {h} {{
        {h}(client: self, id: id)
    }}

    /// Creates a {lower}, runs `body` with its handle, and destroys it when `body`
    /// returns or throws (unless `body` called `keep()`).
    public func with{kind.name}<T>(params: {U.params_name(create)}? = nil, _ body: ({h}) async throws -> T) async throws -> T {{
        let handle = try await create{kind.name}(params: params)
        do {{
            let result = try await body(handle)
            try await handle.destroyUnlessKept()
            return result
        }} catch {{
            _ = try? await handle.destroyUnlessKept()
            throw error
        }}
    }}
}}

extension {h} {{
    func destroyUnlessKept() async throws {{
        if settled {{ return }}
        _ = try await destroy()
    }}
}}
""")
    return "".join(out)


def render(ops: list[Op]) -> dict[str, str]:
    text = (HEADER + "// Sandbox and computer handles: every operation on one resource with its id bound.\n\n"
            "import Foundation\n")
    for kind in KINDS:
        text += render_kind(kind, ops)
    return {PATH: text}
