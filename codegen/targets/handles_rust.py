"""Rust: sandbox and computer handles in the core (`core/src/generated/handles.rs`):
each owns a client clone and the id, and forwards to the generated namespaces."""

from __future__ import annotations

from handles import KINDS, Bound, Kind, bound_ops, returns_handle, spaces
from table import Op, camel
from targets import rust as R

HEADER = R.HEADER


def handle_struct(kind: Kind) -> str:
    return kind.name + "Handle"


def space_struct(kind: Kind, where: tuple[str, ...]) -> str:
    return handle_struct(kind) + camel(".".join(where))


def method(kind: Kind, b: Bound, on_handle: bool) -> str:
    op = b.unbound
    sig = [f"{R.ident(p.name)}: {R.arg_type(p)}" for p in op.positional]
    pstruct = R.params_struct(op)
    if pstruct:
        sig.append(f"params: crate::api::{pstruct}")
    rtype, _ = R.return_type(op)
    call_args = ["&self.id" if on_handle else "self.id"] + [R.ident(p.name) for p in op.positional] + (["params"] if pstruct else [])
    chain = "".join(f".{R.ident(seg)}()" for seg in b.op.namespace)
    client = "self.client" if on_handle else "self.client"
    call = f"{client}{chain}.{R.ident(b.op.function)}({', '.join(call_args)}).await"
    adopt = on_handle and returns_handle(b.op, kind) and b.op.returns.kind == "model"
    receiver = "&mut self" if adopt else "&self"
    doc = f"    /// {b.op.doc}\n    ///\n    /// `{b.op.method} {b.op.path}` with this {kind.name.lower()}'s id.\n"
    if on_handle and b.function == "destroy":
        return (doc + "    /// The normal end of a handle's life: afterwards dropping it does nothing.\n"
                f"    pub async fn destroy({', '.join(['mut self'] + sig)}) -> crate::Result<{rtype}> {{\n"
                f"        self.settled = true;\n        {call}\n    }}\n")
    if adopt:
        return (doc + "    /// A record of this same resource also refreshes [`Self::data`].\n"
                f"    pub async fn {R.ident(b.function)}({', '.join([receiver] + sig)}) -> crate::Result<{rtype}> {{\n"
                f"        let record = {call}?;\n"
                f"        if record.id == self.id {{\n            self.data = Some(record.clone());\n        }}\n"
                f"        Ok(record)\n    }}\n")
    return (doc + f"    pub async fn {R.ident(b.function)}({', '.join([receiver] + sig)}) -> crate::Result<{rtype}> {{\n"
            f"        {call}\n    }}\n")


def render_kind(kind: Kind, ops: list[Op]) -> str:
    bound = bound_ops(kind, ops)
    paths = spaces(bound)
    kids = {w: [c for c in paths if len(c) == len(w) + 1 and c[: len(w)] == w] for w in [()] + paths}
    h = handle_struct(kind)
    lower = kind.name.lower()
    out = [f"""
/// A {lower} bound to its client: its id, the record the server last sent, and
/// every operation on it with the id filled in.
///
/// End its life with [`{h}::destroy`]`().await`, or call [`{h}::keep`] to leave the
/// {lower} running. A handle dropped without either destroys the {lower} in the
/// background on the client's runtime, as a safety net that cannot report errors.
#[must_use = "destroy it with `destroy().await`, or call `keep()` to leave it running"]
#[derive(Debug)]
pub struct {h} {{
    client: Client,
    id: String,
    data: Option<crate::models::{kind.model}>,
    settled: bool,
}}

impl {h} {{
    /// A handle on `record`, sending its requests through `client`.
    pub fn new(client: &Client, record: crate::models::{kind.model}) -> Self {{
        Self {{ client: client.clone(), id: record.id.clone(), data: Some(record), settled: false }}
    }}

    /// A handle for a known id, without a request; [`Self::data`] is `None` until a refresh.
    pub fn connect(client: &Client, id: &str) -> crate::Result<Self> {{
        if id.is_empty() {{
            return Err(crate::Error::new(crate::ErrorKind::InvalidArgument, "id: a handle needs a non-empty id"));
        }}
        Ok(Self {{ client: client.clone(), id: id.to_owned(), data: None, settled: false }})
    }}

    /// The {lower}'s id.
    pub fn id(&self) -> &str {{
        &self.id
    }}

    /// The record as the server last sent it (`None` for a handle from `connect`).
    pub fn data(&self) -> Option<&crate::models::{kind.model}> {{
        self.data.as_ref()
    }}

    /// Leaves the {lower} running: the handle is released without a request,
    /// answering the id (for [`Self::connect`] later).
    pub fn keep(mut self) -> String {{
        self.settled = true;
        std::mem::take(&mut self.id)
    }}
"""]
    for child in kids[()]:
        out.append(f"\n    /// `{child[-1]}` operations on this {lower}.\n"
                   f"    pub fn {R.ident(child[-1])}(&self) -> {space_struct(kind, child)}<'_> {{\n"
                   f"        {space_struct(kind, child)} {{ client: &self.client, id: &self.id }}\n    }}\n")
    for b in bound:
        if not b.where:
            out.append("\n" + method(kind, b, on_handle=True))
    out.append("}\n")
    destroy = next(b for b in bound if not b.where and b.function == "destroy")
    chain = "".join(f".{R.ident(seg)}()" for seg in destroy.op.namespace)
    pstruct = R.params_struct(destroy.op)
    params = f", crate::api::{pstruct}::default()" if pstruct else ""
    out.append(f"""
impl Drop for {h} {{
    fn drop(&mut self) {{
        if self.settled {{
            return;
        }}
        let client = self.client.clone();
        let id = std::mem::take(&mut self.id);
        crate::handle::in_background(&self.client, async move {{
            client{chain}.{R.ident(destroy.op.function)}(&id{params}).await.map(drop)
        }});
    }}
}}
""")
    for where in paths:
        s = space_struct(kind, where)
        out.append(f"\n/// `{'.'.join(where)}` operations on one {lower}.\n#[derive(Debug, Clone, Copy)]\n"
                   f"pub struct {s}<'a> {{\n    client: &'a Client,\n    id: &'a str,\n}}\n\nimpl<'a> {s}<'a> {{\n")
        for child in kids[where]:
            out.append(f"    /// `{child[-1]}` operations.\n    pub fn {R.ident(child[-1])}(&self) -> {space_struct(kind, child)}<'a> {{\n"
                       f"        {space_struct(kind, child)} {{ client: self.client, id: self.id }}\n    }}\n\n")
        out.append("\n".join(method(kind, b, on_handle=False) for b in bound if b.where == where))
        out.append("}\n")
    lc = R.ns_struct((kind.lifecycle,), False)
    out.append(f"""
impl<'a> crate::api::{lc}<'a> {{
    /// A handle for a known {lower} id, without a request.
    pub fn connect(&self, id: &str) -> crate::Result<{h}> {{
        {h}::connect(self.client, id)
    }}

    /// Like `create`, answering with a handle on the new {lower}.
    pub async fn create_handle(&self, params: crate::api::{camel(kind.lifecycle)}CreateParams) -> crate::Result<{h}> {{
        let record = self.create(params).await?;
        Ok({h}::new(self.client, record))
    }}
}}
""")
    return "".join(out)


def render(ops: list[Op]) -> dict[str, str]:
    text = (HEADER + "//! Sandbox and computer handles: every operation on one resource with its id bound.\n\n"
            "#![allow(clippy::too_many_arguments)]\n\nuse bytes::Bytes;\nuse serde_json::Value;\n\n"
            "use crate::stream::EventStream;\nuse crate::Client;\n")
    for kind in KINDS:
        text += render_kind(kind, ops)
    return {"core/src/generated/handles.rs": R.rustfmt(text)}
