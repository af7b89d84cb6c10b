"""`Client` (blocking) and `AsyncClient` (asyncio): the same generated API over one native handle."""

from __future__ import annotations

from ._native import NativeClient
from ._handles import AsyncComputersHandlesAPI, AsyncSandboxesHandlesAPI, ComputersHandlesAPI, SandboxesHandlesAPI
from ._ops import _AsyncRoot, _SyncRoot

# `typing` is for type checkers only (see `_typing.py`): importing it would double
# the time of `from miosa_native import Client`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType
    from typing import Any, Dict, Mapping, Optional, Type, TypedDict

    from typing_extensions import Unpack
else:
    from ._typing import TypedDict

__all__ = ["Client", "AsyncClient", "ClientSettings"]


class ClientSettings(TypedDict, total=False):
    """The settings a client takes as keywords; the README's contract table
    lists each with its unit and default. `None` means the default; unknown
    names are refused."""

    base_url: Optional[str]
    connect_timeout: Optional[float]
    timeout: Optional[float]
    operation_timeout: Optional[float]
    max_retries: Optional[int]
    retry_base_delay: Optional[float]
    retry_max_delay: Optional[float]
    max_response_bytes: Optional[int]
    max_download_bytes: Optional[int]
    max_event_bytes: Optional[int]
    allow_insecure_http: Optional[bool]
    headers: Optional[Mapping[str, str]]



def _native(api_key: Optional[str], settings: Dict[str, Any]) -> NativeClient:
    return NativeClient({"api_key": api_key, **settings})


class Client(_SyncRoot):
    """A blocking MIOSA client. Calls release the GIL while they wait on the
    network and Ctrl-C interrupts them. Thread-safe, and usable in a child
    process after `os.fork()`.

    Args:
        api_key: a key starting with ``msk_``; default: the ``MIOSA_API_KEY`` environment variable.
        base_url: the API root; default ``MIOSA_BASE_URL``, else ``https://api.miosa.ai/api/v1``.
            Plain ``http://`` is refused for hosts other than this machine unless
            ``allow_insecure_http=True``.
        connect_timeout: seconds to connect (default 30).
        timeout: seconds for one whole attempt: connect, headers and body; also the
            idle limit between stream events (default 60).
        operation_timeout: seconds for a whole call, every retry and wait included (default none).
        max_retries: retries after a failed attempt (default 2; 0 turns retries off).
            Only safe requests are retried: never a mutation without an idempotency key.
        retry_base_delay, retry_max_delay: backoff base and cap in seconds (0.5, 30).
        max_response_bytes, max_download_bytes, max_event_bytes: size limits (64 MiB, 1 GiB, 16 MiB).
        headers: headers sent with every request (e.g. a white-label tenant header).

    Every value is checked by the core; a bad one raises `InvalidArgumentError` naming it.
    """

    _native: NativeClient
    # Sandbox and computer records come back as handles (`sb.exec.run(...)`).
    sandboxes: SandboxesHandlesAPI
    computers: ComputersHandlesAPI

    def __init__(self, api_key: Optional[str] = None, **settings: Unpack[ClientSettings]) -> None:
        native = _native(api_key, dict(settings))
        _SyncRoot.__init__(self, native)
        self._native = native
        self.sandboxes = SandboxesHandlesAPI(native)
        self.computers = ComputersHandlesAPI(native)

    @classmethod
    def from_env(cls, **settings: Unpack[ClientSettings]) -> "Client":
        """A client whose key and base URL come from ``MIOSA_API_KEY`` and ``MIOSA_BASE_URL``
        (the same as ``Client()``)."""
        return cls(None, **settings)

    @property
    def settings(self) -> Dict[str, Any]:
        """The settings in effect (seconds, secrets redacted)."""
        return self._native.settings

    @property
    def base_url(self) -> str:
        """The API root requests go to."""
        return self._native.base_url

    @property
    def closed(self) -> bool:
        return self._native.closed

    def close(self) -> None:
        """Releases the client; later calls raise `UsageError`. Open streams keep working."""
        self._native.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return "Client(closed)" if self.closed else f"Client(base_url={self.base_url!r})"


class AsyncClient(_AsyncRoot):
    """An asyncio MIOSA client with the same surface as `Client`; every call is
    awaitable, and cancelling the awaiting task cancels the request. The
    requests run on the client's own I/O threads, so any event loop works.
    It takes the same settings as `Client`."""

    _native: NativeClient
    sandboxes: AsyncSandboxesHandlesAPI
    computers: AsyncComputersHandlesAPI

    def __init__(self, api_key: Optional[str] = None, **settings: Unpack[ClientSettings]) -> None:
        native = _native(api_key, dict(settings))
        _AsyncRoot.__init__(self, native)
        self._native = native
        self.sandboxes = AsyncSandboxesHandlesAPI(native)
        self.computers = AsyncComputersHandlesAPI(native)

    @classmethod
    def from_env(cls, **settings: Unpack[ClientSettings]) -> "AsyncClient":
        """A client whose key and base URL come from ``MIOSA_API_KEY`` and ``MIOSA_BASE_URL``
        (the same as ``AsyncClient()``)."""
        return cls(None, **settings)

    @property
    def settings(self) -> Dict[str, Any]:
        """The settings in effect (seconds, secrets redacted)."""
        return self._native.settings

    @property
    def base_url(self) -> str:
        """The API root requests go to."""
        return self._native.base_url

    @property
    def closed(self) -> bool:
        return self._native.closed

    def close(self) -> None:
        """Releases the client; later calls raise `UsageError`. Open streams keep working."""
        self._native.close()

    async def aclose(self) -> None:
        """Same as `close()`, awaitable."""
        self.close()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return "AsyncClient(closed)" if self.closed else f"AsyncClient(base_url={self.base_url!r})"
