"""WebSockets: a terminal, an interactive exec, a computer's live events.

`Socket` is for `Client`: iterate it (`for message in socket`), `send`,
`resize`, and close it (`with` block, `close()`, or dropping it).
`AsyncSocket` is the same for `AsyncClient`: `async for`, `await send(...)`,
`async with`. Closing from another thread or task ends a pending read.
"""

from __future__ import annotations

from ._native import Socket as _NativeSocket
from ._native import SocketMessage

# `typing` is for type checkers only (see `_typing.py`): importing it would double
# the time of `from miosa_native import Client`.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Optional, Union

__all__ = ["AsyncSocket", "Socket", "SocketMessage"]


class _Common:
    __slots__ = ("_native",)

    def __init__(self, native: _NativeSocket) -> None:
        self._native = native

    @property
    def frames(self) -> str:
        """How the socket frames its data: `terminal`, `exec` or `events`."""
        return self._native.frames

    @property
    def exit_code(self) -> Optional[int]:
        """For an exec: the exit code, once the process has ended."""
        return self._native.exit_code

    @property
    def closed(self) -> bool:
        """Whether the socket has ended or was closed."""
        return self._native.closed

    def close(self) -> None:
        """Closes the socket; a pending read (any thread, any task) returns at once."""
        self._native.close()

    def __repr__(self) -> str:
        return repr(self._native)


class Socket(_Common):
    """An open WebSocket for `Client`."""

    __slots__ = ()

    def __iter__(self) -> Socket:
        return self

    def __next__(self) -> SocketMessage:
        message = self._native.recv()
        if message is None:
            raise StopIteration
        return message

    def recv(self, timeout: Optional[float] = None) -> Optional[SocketMessage]:
        """The next message; `None` at the end (`closed` is then true) or after `timeout` seconds."""
        return self._native.recv(timeout)

    def send(self, data: Union[str, bytes]) -> None:
        """Types into a terminal, or writes an exec's stdin."""
        self._native.send(data)

    def resize(self, cols: int, rows: int) -> None:
        """Resizes the terminal."""
        self._native.resize(cols, rows)

    def signal(self, signal: str) -> None:
        """Sends a signal such as `SIGINT` to an exec's process."""
        self._native.signal(signal)

    def close_stdin(self) -> None:
        """Ends an exec's standard input."""
        self._native.close_stdin()

    def __enter__(self) -> Socket:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class AsyncSocket(_Common):
    """An open WebSocket for `AsyncClient`."""

    __slots__ = ()

    def __aiter__(self) -> AsyncSocket:
        return self

    async def __anext__(self) -> SocketMessage:
        message = await self._native.arecv()
        if message is None:
            raise StopAsyncIteration
        return message

    async def recv(self) -> Optional[SocketMessage]:
        """The next message; `None` once the socket has ended."""
        return await self._native.arecv()

    async def send(self, data: Union[str, bytes]) -> None:
        """Types into a terminal, or writes an exec's stdin."""
        await self._native.asend(data)

    async def resize(self, cols: int, rows: int) -> None:
        """Resizes the terminal."""
        await self._native.aresize(cols, rows)

    async def aclose(self) -> None:
        """Same as `close()`, for `contextlib.aclosing` and friends."""
        self.close()

    async def __aenter__(self) -> AsyncSocket:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.close()
