"""The call type of the code running now: `with call_type("rag-answer"):` or `@call_type("rag-answer")`.

A context variable, so it follows threads started inside it only where the caller copies the context, and it is
right per task under asyncio.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_CURRENT: ContextVar[str | None] = ContextVar("inferplan_call_type", default=None)


def current() -> str | None:
    """The call type set by the innermost `call_type` block, or None."""
    return _CURRENT.get()


class call_type:  # noqa: N801 - used like a function: `with call_type("x"):` / `@call_type("x")`
    """Tag the Bedrock calls made inside a block or a function with a call type.

    Nested blocks: the innermost wins. A call's own `requestMetadata["call_type"]` wins over both. As a
    decorator it wraps functions and coroutine functions. A `with` object is for one thread at a time (write
    `with call_type("x"):` where it is used, or share the decorator, which is safe everywhere).
    """

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError("call_type needs a non-empty string, e.g. call_type('rag-answer')")
        self.name = name
        self._tokens: list[Token[str | None]] = []

    def __enter__(self) -> call_type:
        self._tokens.append(_CURRENT.set(self.name))
        return self

    def __exit__(self, *exc: object) -> None:
        _CURRENT.reset(self._tokens.pop())

    def __call__(self, fn: F) -> F:
        name = self.name
        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def awrapper(*args: Any, **kwargs: Any) -> Any:
                token = _CURRENT.set(name)
                try:
                    return await fn(*args, **kwargs)
                finally:
                    _CURRENT.reset(token)

            return awrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = _CURRENT.set(name)  # a fresh token per call: safe across threads and recursion
            try:
                return fn(*args, **kwargs)
            finally:
                _CURRENT.reset(token)

        return wrapper  # type: ignore[return-value]
