"""The hand-written pieces the generated API is built from: namespaces, the
model base class, async wrappers for streams and pagers, and the seed's
stream callback form."""

from __future__ import annotations

from collections import abc
from typing import (
    TYPE_CHECKING,
    Any,
    AsyncIterator,
    Awaitable,
    Callable,
    Dict,
    Generator,
    Generic,
    Mapping,
    Optional,
    Tuple,
    TypeVar,
    Union,
)

from ._native import redacted
from .errors import InvalidArgumentError

if TYPE_CHECKING:
    from ._native import Event, EventStream, NativeClient, Pager

_T = TypeVar("_T")


class Model:
    """Base of the typed models. Known fields are properties; every field the
    server sent, known or not, is reachable as an attribute, by `model["name"]`,
    and through `to_dict()`. Models are read-only."""

    __slots__ = ("_data",)
    _fields: Tuple[str, ...] = ()
    _data: Dict[str, Any]

    def __init__(self, data: Optional[Mapping[str, Any]] = None, **fields: Any) -> None:
        merged = dict(data) if data is not None else {}
        merged.update(fields)
        object.__setattr__(self, "_data", merged)

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: unknown fields the server sent.
        if name.startswith("__") or name == "_data":
            raise AttributeError(name)
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(f"{type(self).__name__} has no field {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only; use to_dict() for a mutable copy")

    def __getitem__(self, name: str) -> Any:
        return self._data[name]

    def __contains__(self, name: object) -> bool:
        return name in self._data

    def get(self, name: str, default: Any = None) -> Any:
        """The field `name`, or `default` when the server did not send it."""
        return self._data.get(name, default)

    def to_dict(self) -> Dict[str, Any]:
        """A deep copy of every field, known and unknown."""
        import copy  # only needed here; kept out of `import miosa_native`

        return copy.deepcopy(self._data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Model) or type(other) is not type(self):
            return NotImplemented
        return self._data == other._data

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        # The core's one list of secret names and its URL rule (query and password hidden).
        shown = ", ".join(f"{k}={v!r}" for k, v in redacted(self._data).items())
        return f"{type(self).__name__}({shown})"

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (self._data,))

    def __dir__(self) -> Any:
        return sorted(set(super().__dir__()) | set(self._data))


class Namespace:
    """A group of operations sharing the client's native handle."""

    __slots__ = ("_call", "_acall", "_pager")

    def __init__(self, native: NativeClient) -> None:
        self._call = native.call
        self._acall = native.acall
        self._pager = native.pager


_Action = Optional[str]


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

