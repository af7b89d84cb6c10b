//! The operation table's types. The rows themselves live in
//! `core/operations.toml` and are generated into `generated/table.rs`.

/// HTTP method of an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

impl HttpMethod {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }

    /// Whether positional arguments beyond the path travel in a JSON body.
    pub fn has_body(self) -> bool {
        matches!(self, Self::Post | Self::Put | Self::Patch)
    }

    pub(crate) fn to_reqwest(self) -> reqwest::Method {
        match self {
            Self::Get => reqwest::Method::GET,
            Self::Post => reqwest::Method::POST,
            Self::Put => reqwest::Method::PUT,
            Self::Patch => reqwest::Method::PATCH,
            Self::Delete => reqwest::Method::DELETE,
        }
    }
}

/// Type of a parameter, used to check and convert caller values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    /// Text.
    Str,
    /// Integer.
    Int,
    /// Number.
    Float,
    /// Boolean.
    Bool,
    /// JSON object.
    Map,
    /// JSON array.
    List,
    /// Any JSON value.
    Json,
    /// Bytes, base64-encoded on the wire (or the raw body of an upload).
    Bytes,
    /// Files to write: a list of `{path, content}` items whose content (bytes or
    /// text) travels base64-encoded as `content_base64`.
    Files,
}

impl ParamType {
    /// The table's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Str => "str",
            Self::Int => "int",
            Self::Float => "float",
            Self::Bool => "bool",
            Self::Map => "map",
            Self::List => "list",
            Self::Json => "json",
            Self::Bytes => "bytes",
            Self::Files => "[file]",
        }
    }
}

/// One named parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    /// The name callers use.
    pub name: &'static str,
    /// The field name on the wire.
    pub wire: &'static str,
    /// Its type.
    pub ty: ParamType,
    /// Whether a call must give it (a missing one is refused before the network).
    pub required: bool,
}

/// What a successful call yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returns {
    /// One entity of the named model.
    Model(&'static str),
    /// A list of the named model.
    List(&'static str),
    /// One page of a cursor-paginated list; the item model (`json` when untyped) and the cursor parameter.
    Page {
        /// Item model name.
        item: &'static str,
        /// Query parameter carrying the cursor (`after` or `cursor`).
        cursor_param: &'static str,
    },
    /// JSON with no stable schema.
    Json,
    /// Raw bytes.
    Bytes,
    /// A server-sent event stream.
    Events,
    /// A yes/no answer computed by the client.
    Bool,
    /// A WebSocket, framed as the variant says.
    Socket(crate::ws::SocketFrames),
}

/// Whether and how an `Idempotency-Key` header is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Not applicable.
    None,
    /// Sent when the caller gives `idempotency_key`.
    Optional,
    /// Sent always; generated when the caller gives none.
    Auto,
}

/// How sure the reference is of the route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confidence {
    /// Two official SDKs agree.
    Confirmed,
    /// One official SDK implements it.
    OneSdk,
    /// No SDK implements it; follows the API's conventions.
    Inferred,
}

/// How the request body is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upload {
    /// JSON (or nothing).
    Json,
    /// The `content` bytes argument is the body, typed by `content_type`.
    Raw,
    /// `multipart/form-data`: the argument sent as `file` is the file part
    /// (bytes from memory, or text naming a local file streamed from disk);
    /// every other argument and body parameter is a text field.
    Multipart,
}

/// Which MIOSA host serves an operation when the client uses the default base URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    /// `api.miosa.ai`, like every operation unless noted.
    Api,
    /// `sandboxes.miosa.ai`: on the API host these paths are captured by the
    /// legacy file-download route.
    Sandboxes,
}

/// The hand-written implementation of an operation that is more than one
/// plain request (several requests, client-side logic).
pub type CustomOp = fn(
    crate::Client,
    &'static OpSpec,
    Vec<crate::Arg>,
    serde_json::Map<String, serde_json::Value>,
) -> futures_util::future::BoxFuture<'static, crate::Result<crate::Output>>;

/// One operation of the API.
#[derive(Debug, Clone, Copy)]
pub struct OpSpec {
    /// Mechanical name, e.g. `sandbox.files.write_many`.
    pub name: &'static str,
    /// Seed reference, e.g. `Miosa.Sandbox.Files.write_many/3` (empty for additions).
    pub seed: &'static str,
    /// HTTP method.
    pub method: HttpMethod,
    /// Path template relative to the base URL, with `{param}` placeholders.
    pub path: &'static str,
    /// Names of the path placeholders, in order: the first positional arguments.
    pub path_params: &'static [&'static str],
    /// Further positional arguments.
    pub args: &'static [Param],
    /// Keyword parameters sent in the query string.
    pub query: &'static [Param],
    /// Keyword parameters sent in the JSON body.
    pub body: &'static [Param],
    /// Idempotency-Key handling.
    pub idempotency: Idempotency,
    /// What a success yields.
    pub returns: Returns,
    /// Body encoding.
    pub upload: Upload,
    /// Body fields always sent, as (name, JSON text), overriding the caller's.
    pub fixed: &'static [(&'static str, &'static str)],
    /// The host serving the operation under the default base URL.
    pub host: Host,
    /// The core's own implementation, for operations that are more than one request.
    pub custom: Option<CustomOp>,
    /// The parameter giving, in seconds, how long the work may run on the
    /// server (e.g. a command's `timeout`); the attempt's time limit is raised
    /// to at least that plus a margin (a per-call timeout is kept as given).
    pub server_time: Option<&'static str>,
    /// For event streams: the event types that end the stream (`[DONE]` for
    /// the data sentinel). A stream that closes before one of them is resumed,
    /// or reported as broken when it cannot be.
    pub stream_end: &'static [&'static str],
    /// How sure the reference is.
    pub confidence: Confidence,
    /// One-line description.
    pub doc: &'static str,
}

impl OpSpec {
    /// Number of positional arguments a call takes.
    pub fn arity(&self) -> usize {
        self.path_params.len() + self.args.len()
    }

    /// Names of all positional arguments, in order.
    pub fn positional_names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.path_params
            .iter()
            .copied()
            .chain(self.args.iter().map(|p| p.name))
    }

    /// Whether the seed reference has this function (false for this project's additions).
    pub fn in_seed(&self) -> bool {
        !self.seed.is_empty()
    }
}

pub use crate::generated::table::OPERATIONS;

/// Looks an operation up by its mechanical name.
pub fn find(name: &str) -> Option<&'static OpSpec> {
    OPERATIONS.iter().copied().find(|op| op.name == name)
}
