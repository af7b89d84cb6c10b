"""What sandbox and computer handles share: the bound id, the data the server
last sent, and destroy-on-exit for `with` / `async with`. The handle classes
themselves are generated (`_handles.py`)."""

from __future__ import annotations

from ._base import Namespace
from .errors import NotFoundError

# `typing` is for type checkers only (see `_typing.py`): importing it would double
# the time of `from miosa_native import Client`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType
    from typing import Any, Awaitable, Dict, Generator, Generic, Mapping, Optional, Tuple, Type, TypeVar

    from ._native import NativeClient
else:
    from ._typing import Generic, TypeVar

_H = TypeVar("_H")


class BoundNamespace(Namespace):
    """A namespace whose operations take the handle's id as their first path argument."""

    __slots__ = ("_id", "_owner")

    def __init__(self, owner: Any) -> None:
        Namespace.__init__(self, owner._native)
        self._owner = owner
        self._id = owner._id


class _Handle:
    """State shared by the blocking and the asyncio handles (mixed into a model class)."""

    _data: Dict[str, Any]
    _native: "NativeClient"
    _id: str
    _kept: bool
    _spaces: Dict[str, BoundNamespace]
    # Set by each generated handle class.
    _model: Any = None

    def __init__(self, native: "NativeClient", data: Mapping[str, Any]) -> None:
        ident = data.get("id")
        if not isinstance(ident, str) or not ident:
            from .errors import InvalidArgumentError

            raise InvalidArgumentError("id: a handle needs a non-empty id", kind="invalid_argument")
        object.__setattr__(self, "_data", dict(data))
        object.__setattr__(self, "_request_id", None)
        object.__setattr__(self, "_native", native)
        object.__setattr__(self, "_id", ident)
        object.__setattr__(self, "_kept", False)
        object.__setattr__(self, "_call", native.call)
        object.__setattr__(self, "_acall", native.acall)
        object.__setattr__(self, "_pager", native.pager)
        # Namespaces are made on first use: most handles (every record of a list) never need one.
        object.__setattr__(self, "_spaces", {})

    def _space(self, name: str, cls: Any) -> Any:
        """The namespace `name` of this handle, made on its first use."""
        space = self._spaces.get(name)
        if space is None:
            space = self._spaces[name] = cls(self)
        return space

    @property
    def id(self) -> str:
        return self._id

    @property
    def data(self) -> Any:
        """The record as the server last sent it, as a plain model (fields such as `env`
        and `tags` whose names the handle uses for namespaces are read here)."""
        return self._model(self._data)

    def keep(self: _H) -> _H:
        """Leave the resource running when the `with` block ends."""
        object.__setattr__(self, "_kept", True)
        return self

    def _adopt(self, value: Any) -> Any:
        """A record of this resource refreshes the handle; one of another (a fork, a
        clone) becomes a new handle on the same client."""
        if isinstance(value, dict) and value.get("id") == self._id:
            object.__setattr__(self, "_data", value)
            return self
        return type(self)(self._native, value) if isinstance(value, dict) else value

    def __reduce__(self) -> Tuple[Any, ...]:
        # A handle holds a live client; it pickles as its plain record.
        return (self._model, (self._data,))


def _exit_error(exc: Optional[BaseException], err: BaseException) -> bool:
    """Whether a destroy failure on leaving the block should propagate."""
    if isinstance(err, NotFoundError):
        return False  # already gone: destroyed inside the block
    return exc is None  # never hide the exception that ended the block


class SyncHandle(_Handle):
    def destroy(self) -> Any:  # replaced by the generated method
        raise NotImplementedError

    def __enter__(self: _H) -> _H:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if self._kept:
            return
        try:
            self.destroy()
        except Exception as err:
            if _exit_error(exc, err):
                raise


class AsyncHandle(_Handle):
    async def destroy(self) -> Any:  # replaced by the generated method
        raise NotImplementedError

    async def __aenter__(self: _H) -> _H:
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if self._kept:
            return
        try:
            await self.destroy()
        except Exception as err:
            if _exit_error(exc, err):
                raise


class PendingHandle(Generic[_H]):
    """What an asyncio `create` returns: `await` it for the handle, or use it
    directly in `async with`, which destroys the resource when the block ends."""

    __slots__ = ("_pending", "_handle")

    def __init__(self, pending: Awaitable[_H]) -> None:
        self._pending = pending
        self._handle: Optional[_H] = None

    async def _get(self) -> _H:
        if self._handle is None:
            self._handle = await self._pending
        return self._handle

    def __await__(self) -> Generator[Any, None, _H]:
        return self._get().__await__()

    async def __aenter__(self) -> _H:
        handle = await self._get()
        return await handle.__aenter__()  # type: ignore[attr-defined,no-any-return]

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if self._handle is not None:
            await self._handle.__aexit__(exc_type, exc, tb)  # type: ignore[attr-defined]
