"""The hand-written pieces the generated API is built from: namespaces, the
model base class, async wrappers for streams and pagers, and the seed's
stream callback form."""

from __future__ import annotations

from collections import abc

from ._native import redacted
from ._observe import RawResponses
from .errors import InvalidArgumentError

# `typing` is for type checkers only (see `_typing.py`): importing it would double
# the time of `from miosa_native import Client`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import (
        Any,
        AsyncIterator,
        Awaitable,
        Callable,
        Dict,
        Generator,
        Generic,
        Mapping,
        NoReturn,
        Optional,
        Tuple,
        Type,
        TypedDict,
        TypeVar,
        Union,
    )

    from ._native import Event, EventStream, NativeClient, Page, Pager

    _Action = Optional[str]
else:
    from ._typing import Generic, TypedDict, TypeVar

_T = TypeVar("_T")


class FileWrite(TypedDict):
    """One file of `files.write_many`: its path, and the bytes it holds (text is sent
    as UTF-8); the client sends them base64-encoded."""

    path: str
    content: Union[bytes, bytearray, memoryview, str]


class FileWriteBase64(TypedDict):
    """One file of `files.write_many` whose content is already base64 text."""

    path: str
    content_base64: str

_REDACTED = "<redacted>"


def _without_query(url: Any) -> Any:
    """A token-carrying URL under the core's one URL rule (query and password hidden)."""
    return redacted({"url": url})["url"]



_M = TypeVar("_M", bound="Model")


def _wrap(cls: type, value: Any) -> Any:
    return cls(value) if isinstance(value, dict) else value


def _wrap_list(cls: type, value: Any) -> Any:
    return [_wrap(cls, v) for v in value] if isinstance(value, list) else value


class Model:
    """Base of the typed models. Every field of the model table is a typed,
    read-only property (required ones are always there: the core checks); fields
    this version does not know are in `extra`; `to_dict()` has everything as the
    server sent it. Models compare by value, pickle, and never print secrets."""

    __slots__ = ("_data", "_request_id")
    _fields: Tuple[str, ...] = ()
    _secret: "frozenset[str]" = frozenset()
    _token_urls: "frozenset[str]" = frozenset()
    # Fields holding other models (or lists of them), shown through their own repr.
    _nested: Dict[str, type] = {}
    _data: Dict[str, Any]
    _request_id: Optional[str]

    def __init__(self, data: Optional[Mapping[str, Any]] = None, **fields: Any) -> None:
        merged = dict(data) if data is not None else {}
        merged.update(fields)
        object.__setattr__(self, "_data", merged)
        # The `x-request-id` of the response this model came from (set by the client).
        object.__setattr__(self, "_request_id", None)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only; use to_dict() for a mutable copy")

    @property
    def extra(self) -> Dict[str, Any]:
        """The fields the server sent that this version of the client does not model."""
        return {k: v for k, v in self._data.items() if k not in self._fields}

    def __getitem__(self, name: str) -> Any:
        return self._data[name]

    def __contains__(self, name: object) -> bool:
        return name in self._data

    def __iter__(self) -> NoReturn:
        raise TypeError(f"{type(self).__name__} is not a mapping; use to_dict() for a dict of its fields")

    def get(self, name: str, default: Any = None) -> Any:
        """The field `name`, or `default` when the server did not send it."""
        return self._data.get(name, default)

    def to_dict(self) -> Dict[str, Any]:
        """A deep copy of every field, known and unknown, as the server sent it."""
        import copy  # only needed here; kept out of `import miosa_native`

        return copy.deepcopy(self._data)

    def to_json(self, **kwargs: Any) -> str:
        """Every field as JSON text; `kwargs` go to `json.dumps` (e.g. `indent=2`)."""
        import json

        return json.dumps(self._data, **kwargs)

    @classmethod
    def from_dict(cls: Type[_M], data: Mapping[str, Any]) -> _M:
        """A model over `data` (e.g. from `to_dict()` or a stored JSON object)."""
        return cls(data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Model) or type(other) is not type(self):
            return NotImplemented
        return self._data == other._data

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        # Fields the model table marks are hidden per model; everything else
        # goes through the core's one list of secret names and its URL rule.
        shown = []
        for k, v in self._data.items():
            if k in self._secret:
                v = _REDACTED
            elif k in self._token_urls:
                v = _without_query(v)
            elif k in self._nested:
                cls = self._nested[k]
                v = _wrap_list(cls, v) if isinstance(v, list) else _wrap(cls, v)
            elif k in self._fields:
                # A known field is shown under its own name; what it holds still
                # goes through the rule (secrets nested in a map).
                v = redacted({"field": v})["field"]
            else:
                v = redacted({k: v})[k]
            shown.append(f"{k}={v!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (self._data,))


class Namespace(RawResponses):
    """A group of operations sharing the client's native handle."""

    __slots__ = ("_call", "_acall", "_pager")

    def __init__(self, native: NativeClient) -> None:
        self._call = native.call
        self._acall = native.acall
        self._pager = native.pager



def _wants_stop(action: object) -> bool:
    if action is None or action == "continue":
        return False
    if action == "stop":
        return True
    raise InvalidArgumentError(
        f"a stream callback must return 'stop', 'continue' or None, not {action!r}",
        kind="invalid_argument",
    )


def run_callback(stream: EventStream, callback: Callable[[Event], _Action]) -> None:
    """The seed's callback form: deliver events until the callback says "stop" or the stream ends."""
    with stream:
        for event in stream:
            if _wants_stop(callback(event)):
                break


async def run_async_callback(
    stream: AsyncEventStream,
    callback: Callable[[Event], Union[_Action, Awaitable[_Action]]],
) -> None:
    """Async form of `run_callback`; the callback may be a plain or an async function."""
    async with stream:
        async for event in stream:
            action = callback(event)
            if isinstance(action, abc.Awaitable):
                action = await action
            if _wants_stop(action):
                break


class AsyncEventStream:
    """An SSE stream for `AsyncClient`. It connects on first use (`await`, `async for`
    or `async with`); leaving `async for` early or `close()` ends the connection."""

    __slots__ = ("_acall", "_call_args", "_stream", "_closed")

    def __init__(self, acall: Callable[..., Awaitable[Any]], call_args: Tuple[Any, ...]) -> None:
        self._acall = acall
        self._call_args = call_args
        self._stream: Optional[EventStream] = None
        self._closed = False

    async def _open(self) -> EventStream:
        if self._stream is None:
            if self._closed:
                raise InvalidArgumentError("the stream is closed", kind="invalid_argument")
            stream: EventStream = await self._acall(*self._call_args)
            self._stream = stream
        return self._stream

    async def _opened(self) -> AsyncEventStream:
        await self._open()
        return self

    def __await__(self) -> Generator[Any, None, AsyncEventStream]:
        return self._opened().__await__()

    def __aiter__(self) -> AsyncEventStream:
        return self

    async def __anext__(self) -> Event:
        if self._closed:
            raise StopAsyncIteration
        event = await (await self._open()).anext()
        if event is None:
            raise StopAsyncIteration
        return event

    def close(self) -> None:
        """Ends the stream and frees its connection."""
        self._closed = True
        if self._stream is not None:
            self._stream.close()

    async def aclose(self) -> None:
        """Same as `close()`, for `contextlib.aclosing` and friends."""
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed or (self._stream is not None and self._stream.closed)

    async def __aenter__(self) -> AsyncEventStream:
        return await self._opened()

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class AsyncPager(Generic[_T]):
    """Every item of a paginated operation for `AsyncClient`: `async for item in ...`.
    Pages are fetched lazily, one request each, as iteration needs them."""

    __slots__ = ("_pager",)

    def __init__(self, pager: Pager[_T]) -> None:
        self._pager = pager

    def __aiter__(self) -> AsyncIterator[_T]:
        return self

    async def __anext__(self) -> _T:
        item = await self._pager.anext()
        if item is None:
            raise StopAsyncIteration
        return item

    async def next_page(self) -> Optional[Page[_T]]:
        """The next whole page of the walk, or `None` after the last."""
        return await self._pager.anext_page()

    async def iter_pages(self) -> AsyncIterator[Page[_T]]:
        """The walk page by page: `async for page in pager.iter_pages()`."""
        while (page := await self._pager.anext_page()) is not None:
            yield page

    def close(self) -> None:
        """Ends the walk; a pending read returns at once."""
        self._pager.close()

    async def aclose(self) -> None:
        """Same as `close()`, for `contextlib.aclosing`."""
        self._pager.close()

    @property
    def closed(self) -> bool:
        return self._pager.closed

    async def __aenter__(self) -> AsyncPager[_T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._pager.close()

