"""Kotlin: sandbox and computer handles as a thin generated wrapper over the
UniFFI surface (`Handles.kt`): each holds the client and the id, forwards to the
flat namespaces, and is `AutoCloseable` so `use {}` destroys the resource."""

from __future__ import annotations

from handles import KINDS, Bound, Kind, bound_ops, lifecycle_ops, returns_handle, spaces
from table import Op, camel
from targets import uniffi as U

HEADER = U.HEADER
PATH = "bindings-uniffi/kotlin/src/main/kotlin/ai/miosa/Handles.kt"

KT_ARGS = {"str": "String", "int": "Long", "float": "Double", "bool": "Boolean", "map": "String", "list": "String",
           "json": "String", "bytes": "ByteArray"}


def kt_arg(p) -> str:
    return "List<FileWrite>" if U.is_files(p) else "List<String>" if U.is_strings(p) else KT_ARGS[p.ty]


def kt_return(op: Op) -> str:
    r = op.returns
    if r.kind == "model":
        return U.record_name(r.model)
    if r.kind == "list":
        return "List<String>" if r.model == "str" else f"List<{U.record_name(r.model)}>"
    if r.kind == "page":
        return U.page_name(r.model)
    return {"json": "String", "bytes": "ByteArray", "events": "EventStream", "bool": "Boolean", "socket": "Socket"}[r.kind]


def handle_class(kind: Kind) -> str:
    return kind.name + "Handle"


def space_class(where: tuple[str, ...]) -> str:
    return camel(".".join(where)) + "Ops"


def method(kind: Kind, b: Bound, indent: str, on_handle: bool) -> str:
    op = b.unbound
    sig = [f"{U.lower_camel(p.name)}: {kt_arg(p)}" for p in op.positional]
    args = ["id"] + [U.lower_camel(p.name) for p in op.positional]
    pname = U.params_name(op)
    if pname:
        sig.append(f"params: {pname}? = null")
        args.append("params")
    if op.on_state:
        sig.append("onState: ((state: String) -> Unit)? = null")
        args.append("stateListenerOf(onState)")
    chain = "client" + "".join(f".{U.lower_camel(seg)}()" for seg in b.op.namespace)
    call = f"{chain}.{U.lower_camel(b.op.function)}({', '.join(args)})"
    name = U.lower_camel(b.function)
    doc = f"{indent}/** {b.op.doc} (`{b.op.method} {b.op.path}` with this {kind.name.lower()}'s id) */\n"
    if on_handle and b.function == "destroy":
        return (doc + f"{indent}suspend fun destroy({', '.join(sig)}): {kt_return(op)} {{\n"
                f"{indent}    settled = true\n{indent}    return {call}\n{indent}}}\n")
    if on_handle and returns_handle(b.op, kind) and op.returns.kind == "model":
        return (doc + f"{indent}suspend fun {name}({', '.join(sig)}): {kt_return(op)} =\n"
                f"{indent}    {call}.also {{ if (it.id == id) data = it }}\n")
    return doc + f"{indent}suspend fun {name}({', '.join(sig)}): {kt_return(op)} = {call}\n"


def render_space(kind: Kind, where: tuple[str, ...], bound: list[Bound], kids, indent: str) -> str:
    out = [f"\n{indent}/** `{'.'.join(where)}` operations on this {kind.name.lower()}. */\n"
           f"{indent}inner class {space_class(where)} internal constructor() {{\n"
           f"{indent}    internal val handle: {handle_class(kind)} get() = this@{handle_class(kind)}\n"]
    for child in kids[where]:
        out.append(f"{indent}    val {U.lower_camel(child[-1])} = {space_class(child)}()\n")
    for b in bound:
        if b.where == where:
            out.append(method(kind, b, indent + "    ", on_handle=False))
    for child in kids[where]:
        out.append(render_space(kind, child, bound, kids, indent + "    "))
    out.append(f"{indent}}}\n")
    return "".join(out)


def render_kind(kind: Kind, ops: list[Op]) -> str:
    bound = bound_ops(kind, ops)
    paths = spaces(bound)
    kids = {w: [c for c in paths if len(c) == len(w) + 1 and c[: len(w)] == w] for w in [()] + paths}
    h = handle_class(kind)
    lower = kind.name.lower()
    record = U.record_name(kind.model)
    out = [f"""
/**
 * A {lower} bound to its client: its id, the record the server last sent, and every
 * operation on it with the id filled in. `use {{ }}` (or [close]) destroys the {lower}
 * when the block ends, normally or by an exception, unless [keep] was called.
 */
class {h} private constructor(
    val client: Client,
    /** The {lower}'s id. */
    val id: String,
    record: {record}?,
) : AutoCloseable {{
    /** The record as the server last sent it (null for a handle from `connect`). */
    var data: {record}? = record
        private set

    @Volatile private var settled = false

    constructor(client: Client, record: {record}) : this(client, record.id, record)

    /** Leaves the {lower} running when the `use` block ends. */
    fun keep(): {h} = apply {{ settled = true }}

    /** Destroys the {lower} unless [keep] or [destroy] was called; one already gone is fine. */
    override fun close() {{
        if (settled) return
        runBlocking {{
            try {{
                destroy()
            }} catch (e: MiosaException.NotFound) {{
                // already gone
            }}
        }}
    }}

    companion object {{
        /** A handle for a known id, without a request. */
        fun connect(client: Client, id: String): {h} {{
            require(id.isNotEmpty()) {{ "id: a handle needs a non-empty id" }}
            return {h}(client, id, null)
        }}
    }}
"""]
    for child in kids[()]:
        out.append(f"\n    /** `{child[-1]}` operations on this {lower}. */\n    val {U.lower_camel(child[-1])} = {space_class(child)}()\n")
    out.append("\n")
    for b in bound:
        if not b.where:
            out.append(method(kind, b, "    ", on_handle=True))
    for child in kids[()]:
        out.append(render_space(kind, child, bound, kids, "    "))
    out.append("}\n")
    # Entry points on the client.
    create = next(op for op in lifecycle_ops(kind, ops) if op.function == "create")
    get = next(op for op in lifecycle_ops(kind, ops) if op.function == "get")
    chain = "sandboxes" if kind.lifecycle == "sandboxes" else U.lower_camel(kind.lifecycle)
    out.append(f"""
/** Creates a {lower} and answers its handle; `client.create{kind.name}().use {{ ... }}` destroys it after. */
suspend fun Client.create{kind.name}(params: {U.params_name(create)}? = null): {h} =
    {h}(this, {chain}().create(params))

/** Fetches a {lower} and answers its handle. */
suspend fun Client.get{kind.name}(id: String): {h} = {h}(this, {chain}().get(id))

/** A handle for a known {lower} id, without a request. */
fun Client.connect{kind.name}(id: String): {h} = {h}.connect(this, id)
""")
    return "".join(out)


def render(ops: list[Op]) -> dict[str, str]:
    text = (HEADER + "// Sandbox and computer handles: every operation on one resource with its id bound.\n"
            "package ai.miosa\n\nimport kotlinx.coroutines.runBlocking\n")
    for kind in KINDS:
        text += render_kind(kind, ops)
    return {PATH: text}
