"""Raw responses (`with_raw_response`), logging through `logging.getLogger("miosa_native")`,
and file transfers to and from local paths with progress. The work is the core's;
this module only shapes it for Python."""

from __future__ import annotations

import os

from . import _native

# `typing` is for type checkers only (see `_typing.py`): importing it would double
# the time of `from miosa_native import Client`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import (
        Any,
        Awaitable,
        Callable,
        Dict,
        Generic,
        List,
        Optional,
        Protocol,
        Tuple,
        TypeVar,
        Union,
        cast,
    )

    from ._models import FileWritten

    #: Called with `(bytes_done, total)`; `total` is None when the size is not known.
    ProgressCallback = Callable[[int, Optional[int]], Any]
    LocalPath = Union[str, "os.PathLike[str]"]
else:
    from ._typing import Generic, Protocol, TypeVar, cast

    def __getattr__(name: str) -> object:
        # `ProgressCallback` is public: built from `typing` when a program asks for it.
        if name == "ProgressCallback":
            from typing import Any, Callable, Optional

            alias = globals()[name] = Callable[[int, Optional[int]], Any]
            return alias
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

_T = TypeVar("_T")


class RawResponse(Generic[_T]):
    """A call's result with the HTTP response it came from: `status`, `headers`
    (names in lower case), `request_id`, and `parse()` for the usual result."""

    __slots__ = ("status", "headers", "request_id", "_value")

    def __init__(self, value: _T, status: int, headers: List[Tuple[str, str]], request_id: Optional[str]) -> None:
        self._value = value
        self.status = status
        merged: Dict[str, str] = {}
        for name, text in headers:
            merged[name] = f"{merged[name]}, {text}" if name in merged else text
        self.headers = merged
        self.request_id = request_id

    def parse(self) -> _T:
        """The result the plain call would have returned."""
        return self._value

    def __repr__(self) -> str:
        return f"RawResponse(status={self.status}, request_id={self.request_id!r})"


class RawNamespace(Protocol):
    """A namespace whose calls return `RawResponse` instead of their plain result."""

    def __getattr__(self, name: str) -> Callable[..., RawResponse[Any]]: ...


class AsyncRawNamespace(Protocol):
    """The `AsyncClient` form of `RawNamespace`."""

    def __getattr__(self, name: str) -> Callable[..., Awaitable[RawResponse[Any]]]: ...


def _native_of(namespace: Any) -> Any:
    # `_call` is the bound `NativeClient.call` of the client the namespace belongs to.
    return namespace._call.__self__


def _raw_copy(namespace: Any) -> Any:
    native = _native_of(namespace)

    def call(*args: Any) -> RawResponse[Any]:
        return RawResponse(*_native.call_raw(native, *args))

    async def acall(*args: Any) -> RawResponse[Any]:
        return RawResponse(*(await _native.acall_raw(native, *args)))

    raw = object.__new__(type(namespace))
    # Copy every slot (subclasses such as handle namespaces add their own), then swap the calls.
    for cls in type(namespace).__mro__:
        slots = getattr(cls, "__slots__", ())
        for slot in (slots,) if isinstance(slots, str) else slots:
            if hasattr(namespace, slot):
                object.__setattr__(raw, slot, getattr(namespace, slot))
    raw._call = call
    raw._acall = acall
    return raw


class RawResponses:
    """Gives every namespace `with_raw_response`."""

    __slots__ = ()

    @property
    def with_raw_response(self) -> RawNamespace:
        """This namespace with each call returning a `RawResponse` (status, headers,
        request id, `parse()`): `client.sandboxes.with_raw_response.get(id)`."""
        return cast(RawNamespace, _raw_copy(self))


class AsyncRawResponses:
    """`with_raw_response` for the namespaces of `AsyncClient`."""

    __slots__ = ()

    @property
    def with_raw_response(self) -> AsyncRawNamespace:
        """This namespace with each call returning a `RawResponse`:
        `await client.sandboxes.with_raw_response.get(id)`."""
        return cast(AsyncRawNamespace, _raw_copy(self))


def _file_written() -> Any:
    from ._models import FileWritten

    return FileWritten


class SandboxFileTransfers:
    """Streamed transfers between sandbox files and local paths: the file is
    never held in memory, and `on_progress(bytes_done, total)` follows it."""

    __slots__ = ()

    def download(
        self, id: str, path: str, local_path: LocalPath, *, on_progress: Optional[ProgressCallback] = None
    ) -> int:
        """Download the sandbox file `path` into `local_path`; returns the bytes written.
        The local file appears under its name only once complete."""
        return cast(int, _native.download_to_path(_native_of(self), id, path, os.fspath(local_path), on_progress))

    def upload(
        self, id: str, path: str, local_path: LocalPath, *, on_progress: Optional[ProgressCallback] = None
    ) -> FileWritten:
        """Upload the local file `local_path` to the sandbox path `path`."""
        return cast(
            "FileWritten",
            _native.upload_from_path(_native_of(self), id, path, os.fspath(local_path), on_progress, _file_written()),
        )


class AsyncSandboxFileTransfers:
    """`SandboxFileTransfers` for `AsyncClient`."""

    __slots__ = ()

    async def download(
        self, id: str, path: str, local_path: LocalPath, *, on_progress: Optional[ProgressCallback] = None
    ) -> int:
        """Download the sandbox file `path` into `local_path`; returns the bytes written."""
        return cast(
            int, await _native.adownload_to_path(_native_of(self), id, path, os.fspath(local_path), on_progress)
        )

    async def upload(
        self, id: str, path: str, local_path: LocalPath, *, on_progress: Optional[ProgressCallback] = None
    ) -> FileWritten:
        """Upload the local file `local_path` to the sandbox path `path`."""
        return cast(
            "FileWritten",
            await _native.aupload_from_path(
                _native_of(self), id, path, os.fspath(local_path), on_progress, _file_written()
            ),
        )


# `logging` (with `traceback`, `string`, `threading`) is imported when the first
# record arrives, not by `import miosa_native`; the level numbers are logging's.
_LEVELS = {"debug": 10, "info": 20, "warn": 30}
_logger: Any = None


def _get_logger() -> Any:
    global _logger
    if _logger is None:
        import logging

        _logger = logging.getLogger("miosa_native")
    return _logger


def _enabled(level: str) -> bool:
    return bool((_logger or _get_logger()).isEnabledFor(_LEVELS.get(level, 20)))


def _forward(level: str, message: str, fields: Dict[str, Any]) -> None:
    # Called only for a level `_enabled` accepted.
    (_logger or _get_logger()).log(_LEVELS.get(level, 20), message, extra={"miosa": fields})


def _install_logging() -> None:
    """Forwards the core's records to `logging.getLogger("miosa_native")`;
    `MIOSA_LOG=debug|info|warn` also prints them on stderr when the application
    configured no handler."""
    wanted = os.environ.get("MIOSA_LOG", "").strip().lower()
    level = {"warning": "warn", "trace": "debug"}.get(wanted, wanted)
    if level in _LEVELS:
        import logging

        logger = _get_logger()
        logger.setLevel(_LEVELS[level])
        if not logger.handlers:
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("miosa %(levelname)s: %(message)s"))
            logger.addHandler(handler)
    # The core asks `_enabled` first: a record no logger takes is not built.
    _native.set_log_handler(_forward, _enabled)


_install_logging()
