"""MIOSA API client (sandboxes, computers, exec, files, desktops and the platform
around them), backed by the `miosa` Rust core.

    from miosa_native import Client
    client = Client("msk_live_...")
    sandbox = client.sandboxes.create(name="quick-exec")
"""

# `import miosa_native` loads nothing else: each name below comes from its
# module on first use (PEP 562), so a program pays only for what it touches.
# Type checkers treat any name `TYPE_CHECKING` as true and read the imports;
# `typing.TYPE_CHECKING` would cost the import of `typing` itself.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from . import webhooks
    from ._base import AsyncEventStream, AsyncPager, FileWrite, FileWriteBase64, Model
    from ._client import AsyncClient, Client, ClientSettings
    from ._handle_base import PendingHandle
    from ._handles import AsyncComputerHandle, AsyncSandboxHandle, ComputerHandle, SandboxHandle
    from ._native import NOT_GIVEN, NotGiven
    from . import _models
    from ._models import *  # noqa: F401,F403  (every typed model)
    from ._native import Event, EventStream, Page, Pager, __version__
    from ._observe import ProgressCallback, RawResponse
    from ._socket import AsyncSocket, Socket, SocketMessage
    from .errors import (
        APIConnectionError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        ConflictError,
        DecodeError,
        InsufficientCreditsError,
        InternalError,
        InvalidArgumentError,
        LimitExceededError,
        MiosaError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitError,
        RequestCancelledError,
        ServerError,
        UsageError,
        ValidationError,
        WebhookVerificationError,
    )

    __all__ = [
        "__version__",
        "Client",
        "AsyncClient",
        "ClientSettings",
        "SandboxHandle",
        "AsyncSandboxHandle",
        "ComputerHandle",
        "AsyncComputerHandle",
        "PendingHandle",
        "NOT_GIVEN",
        "NotGiven",
        "Event",
        "EventStream",
        "AsyncEventStream",
        "Socket",
        "AsyncSocket",
        "SocketMessage",
        "Page",
        "Pager",
        "AsyncPager",
        "Model",
        "FileWrite",
        "FileWriteBase64",
        "RawResponse",
        "ProgressCallback",
        "webhooks",
        "MiosaError",
        "AuthenticationError",
        "InsufficientCreditsError",
        "PermissionDeniedError",
        "NotFoundError",
        "ConflictError",
        "ValidationError",
        "RateLimitError",
        "ServerError",
        "APIStatusError",
        "APITimeoutError",
        "APIConnectionError",
        "DecodeError",
        "InvalidArgumentError",
        "LimitExceededError",
        "RequestCancelledError",
        "UsageError",
        "WebhookVerificationError",
        "LimitExceededError",
        "InternalError",
    ]
    __all__ += _models.__all__
else:
    # Public name -> the module that defines it, in the order of `__all__`
    # above; every model of `_models.__all__` follows them.
    _SOURCES = {
        "__version__": "_native",
        "Client": "_client",
        "AsyncClient": "_client",
        "ClientSettings": "_client",
        "SandboxHandle": "_handles",
        "AsyncSandboxHandle": "_handles",
        "ComputerHandle": "_handles",
        "AsyncComputerHandle": "_handles",
        "PendingHandle": "_handle_base",
        "NOT_GIVEN": "_native",
        "NotGiven": "_native",
        "Event": "_native",
        "EventStream": "_native",
        "AsyncEventStream": "_base",
        "Socket": "_socket",
        "AsyncSocket": "_socket",
        "SocketMessage": "_socket",
        "Page": "_native",
        "Pager": "_native",
        "AsyncPager": "_base",
        "Model": "_base",
        "FileWrite": "_base",
        "FileWriteBase64": "_base",
        "RawResponse": "_observe",
        "ProgressCallback": "_observe",
        "webhooks": None,
        "MiosaError": "errors",
        "AuthenticationError": "errors",
        "InsufficientCreditsError": "errors",
        "PermissionDeniedError": "errors",
        "NotFoundError": "errors",
        "ConflictError": "errors",
        "ValidationError": "errors",
        "RateLimitError": "errors",
        "ServerError": "errors",
        "APIStatusError": "errors",
        "APITimeoutError": "errors",
        "APIConnectionError": "errors",
        "DecodeError": "errors",
        "InvalidArgumentError": "errors",
        "LimitExceededError": "errors",
        "RequestCancelledError": "errors",
        "UsageError": "errors",
        "WebhookVerificationError": "errors",
        "InternalError": "errors",
    }

    def __getattr__(name: str) -> object:
        from importlib import import_module

        if name == "__all__":
            value: object = [*_SOURCES, *import_module("._models", __name__).__all__]
        elif name in _SOURCES:
            source = _SOURCES[name]
            if source is None:  # a public submodule
                value = import_module(f".{name}", __name__)
            else:
                value = getattr(import_module(f".{source}", __name__), name)
        elif name.startswith("__"):
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        elif name.startswith("_"):  # a private submodule, as the eager imports made them attributes
            try:
                value = import_module(f".{name}", __name__)
            except ModuleNotFoundError:
                raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
        else:
            models = import_module("._models", __name__)
            if name not in models.__all__:
                raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
            value = getattr(models, name)
        globals()[name] = value
        return value

    def __dir__() -> list:
        return sorted({*globals(), *__getattr__("__all__")})
