"""`Client` (blocking) and `AsyncClient` (asyncio): the same generated API over one native handle."""

from __future__ import annotations

from types import TracebackType
from typing import Mapping, NamedTuple, Optional, Type, Union

from ._native import NativeClient
from ._ops import _AsyncRoot, _SyncRoot

__all__ = ["Client", "AsyncClient", "RetryPolicy"]


class RetryPolicy(NamedTuple):
    """How failed attempts are retried (`retry=True` selects these defaults).

    Attempt n waits a random time up to ``base_delay * 2**(n-1)`` seconds, never
    more than `max_delay`; a server's Retry-After is honoured up to `max_delay`.
    """

    max_attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 30.0


def _native(
    api_key: str,
    base_url: Optional[str],
    timeout: Optional[float],
    receive_timeout: Optional[float],
    retry: Union[bool, RetryPolicy],
    headers: Optional[Mapping[str, str]],
    operation_timeout: Optional[float],
) -> NativeClient:
    policy = retry if isinstance(retry, RetryPolicy) else None
    return NativeClient(
        api_key,
        base_url=base_url,
        timeout=timeout,
        receive_timeout=receive_timeout,
        retry=bool(retry),
        max_attempts=policy.max_attempts if policy else None,
        base_delay=policy.base_delay if policy else None,
        max_delay=policy.max_delay if policy else None,
        headers=dict(headers) if headers is not None else None,
        operation_timeout=operation_timeout,
    )


class Client(_SyncRoot):
    """A blocking MIOSA client. Calls release the GIL while they wait on the
    network and Ctrl-C interrupts them. Thread-safe, and usable in a child
    process after `os.fork()`.

    Args:
        api_key: a key starting with ``msk_``.
        base_url: the API root (default ``https://api.miosa.ai/api/v1``).
        timeout: connect timeout in seconds (default 30).
        receive_timeout: response and stream-idle timeout in seconds (default 60).
        retry: ``True`` for the default `RetryPolicy`, or a `RetryPolicy`.
        operation_timeout: limit in seconds on a whole call, every attempt and
            backoff wait included (default none); exceeding it raises `APITimeoutError`.
        headers: headers sent with every request (e.g. a white-label tenant header).
    """

    _native: NativeClient

    def __init__(
        self,
        api_key: str,
        *,
        base_url: Optional[str] = None,
        timeout: Optional[float] = None,
        receive_timeout: Optional[float] = None,
        retry: Union[bool, RetryPolicy] = False,
        headers: Optional[Mapping[str, str]] = None,
        operation_timeout: Optional[float] = None,
    ) -> None:
        native = _native(api_key, base_url, timeout, receive_timeout, retry, headers, operation_timeout)
        _SyncRoot.__init__(self, native)
        self._native = native

    @classmethod
    def from_env(cls) -> "Client":
        """A client from ``MIOSA_API_KEY`` and, when set, ``MIOSA_BASE_URL``."""
        self = cls.__new__(cls)
        native = NativeClient.from_env()
        _SyncRoot.__init__(self, native)
        self._native = native
        return self

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
    requests run on the client's own I/O threads, so any event loop works."""

    _native: NativeClient

    def __init__(
        self,
        api_key: str,
        *,
        base_url: Optional[str] = None,
        timeout: Optional[float] = None,
        receive_timeout: Optional[float] = None,
        retry: Union[bool, RetryPolicy] = False,
        headers: Optional[Mapping[str, str]] = None,
        operation_timeout: Optional[float] = None,
    ) -> None:
        native = _native(api_key, base_url, timeout, receive_timeout, retry, headers, operation_timeout)
        _AsyncRoot.__init__(self, native)
        self._native = native

    @classmethod
    def from_env(cls) -> "AsyncClient":
        """A client from ``MIOSA_API_KEY`` and, when set, ``MIOSA_BASE_URL``."""
        self = cls.__new__(cls)
        native = NativeClient.from_env()
        _AsyncRoot.__init__(self, native)
        self._native = native
        return self

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
