"""Endpoints declared once, bound three ways.

An endpoint is a method of an endpoint group that checks its arguments and returns the
flow of the call (decorated with :func:`endpoint`) or the pages of a listing
(:func:`listing`). A group is generic over its *mode*, which says how a call is run:

========================  =======================  ================================
mode                      a call answers           a listing answers
========================  =======================  ================================
:class:`AsFlow`           its ``Flow[T]``          its ``Pages[T]``
:class:`Blocking`         ``T``                    an ``Iterator[T]``
:class:`Awaiting`         a coroutine of ``T``     an ``AsyncIterator[T]``
========================  =======================  ================================

The decorators make each declaration a descriptor whose ``__get__`` is overloaded on the
group's mode, so type checkers see the declared parameters and the mode's result type,
and ``help()`` and :func:`inspect.signature` show the declaration. The bound callable is
kept on the group, so repeat access is a plain attribute lookup.

A declaration taking ``**kwargs`` marks ``self`` positional-only (``self, /``), so the
keywords it collects cannot include ``self``.

Nothing here performs I/O: :class:`Blocking` and :class:`Awaiting` run flows with the
runner their creator hands them.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from typing import (
    TYPE_CHECKING,
    Any,
    Concatenate,
    Generic,
    ParamSpec,
    Protocol,
    Self,
    TypeVar,
    final,
    get_args,
    get_type_hints,
    overload,
)

from .api_envelopes import Pages
from .effects import Flow

if TYPE_CHECKING:
    from .api_flows import ApiFlows

__all__ = [
    "AsFlow",
    "AsyncFlowRunner",
    "Awaiting",
    "Blocking",
    "Endpoint",
    "EndpointGroup",
    "FlowRunner",
    "Listing",
    "endpoint",
    "listing",
]

P = ParamSpec("P")
T = TypeVar("T")
Declared = Callable[..., Any]


class FlowRunner(Protocol):
    """Runs a flow to its end in the calling thread."""

    def run(self, flow: Flow[T]) -> T:
        """The flow's value, after performing each effect it yields."""
        ...


class AsyncFlowRunner(Protocol):
    """Runs a flow to its end on the event loop."""

    def run(self, flow: Flow[T]) -> Awaitable[T]:
        """The flow's value, after performing each effect it yields."""
        ...


@final
class AsFlow:
    """Calls answer their flow and listings their pages, for a caller with its own runner."""

    __slots__ = ()

    def call(self, declared: Declared) -> Declared:
        """``declared`` as it is."""

        def flow(*args: Any, **kwargs: Any) -> Any:
            return declared(*args, **kwargs)

        return flow

    listing = call

    @staticmethod
    def answers(result: Any, listing: bool) -> Any:
        """The annotation a bound endpoint declares for ``result``."""
        return Pages[result] if listing else Flow[result]


@final
class Blocking:
    """Calls run in the calling thread; listings are iterators fetching page by page."""

    __slots__ = ("runner",)

    def __init__(self, runner: FlowRunner) -> None:
        self.runner = runner

    def call(self, declared: Declared) -> Declared:
        """``declared``, its flow run to the end."""
        run = self.runner.run

        def call(*args: Any, **kwargs: Any) -> Any:
            return run(declared(*args, **kwargs))

        return call

    def listing(self, declared: Declared) -> Declared:
        """``declared``, its pages walked lazily."""
        runner = self.runner

        def iterate(*args: Any, **kwargs: Any) -> Iterator[Any]:
            return _walk(runner, declared(*args, **kwargs))

        return iterate

    @staticmethod
    def answers(result: Any, listing: bool) -> Any:
        """The annotation a bound endpoint declares for ``result``."""
        return Iterator[result] if listing else result


@final
class Awaiting:
    """Calls are coroutines; listings are async iterators fetching page by page."""

    __slots__ = ("runner",)

    def __init__(self, runner: AsyncFlowRunner) -> None:
        self.runner = runner

    def call(self, declared: Declared) -> Declared:
        """``declared`` as a coroutine function; a bad argument is raised when awaited."""
        run = self.runner.run

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await run(declared(*args, **kwargs))

        return call

    def listing(self, declared: Declared) -> Declared:
        """``declared``, its pages walked lazily with ``async for``."""
        runner = self.runner

        def iterate(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            return _awalk(runner, declared(*args, **kwargs))

        return iterate

    @staticmethod
    def answers(result: Any, listing: bool) -> Any:
        """The annotation a bound endpoint declares for ``result`` (awaited, for calls)."""
        return AsyncIterator[result] if listing else result


Mode = AsFlow | Blocking | Awaiting
M = TypeVar("M", bound=Mode)


def _walk(runner: FlowRunner, pages: Pages[T]) -> Iterator[T]:
    number: int | None = 1
    while number is not None:
        page = runner.run(pages.page(number))
        yield from page.items
        number = page.next_number


async def _awalk(runner: AsyncFlowRunner, pages: Pages[T]) -> AsyncIterator[T]:
    number: int | None = 1
    while number is not None:
        page = await runner.run(pages.page(number))
        for item in page.items:
            yield item
        number = page.next_number


class EndpointGroup(Generic[M]):
    """Endpoints of one part of the API, sent over ``api`` and run as ``mode`` says."""

    def __init__(self, api: ApiFlows, mode: M) -> None:
        self._api = api
        self._mode = mode

    def __repr__(self) -> str:
        return f"<{type(self).__name__}[{type(self._mode).__name__}] {self._api.base_url}>"


class _Declaration:
    """What :class:`Endpoint` and :class:`Listing` share: binding, caching, signatures."""

    listing = False

    def __init__(self, declared: Declared) -> None:
        self.declared = declared
        self.name = declared.__name__
        self._signatures: dict[type[Any], inspect.Signature] = {}
        wrapper: Any = self  # help(Group.name) shows the declaration
        functools.update_wrapper(wrapper, declared)

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.name = name

    def __call__(self, group: EndpointGroup[Any], /, *args: Any, **kwargs: Any) -> Any:
        """The declaration itself, whatever the group's mode: its flow or its pages."""
        return self.declared(group, *args, **kwargs)

    def __repr__(self) -> str:
        return f"<endpoint {self.declared.__qualname__}>"

    def _bind(self, group: EndpointGroup[Any]) -> Any:
        mode = group._mode
        declared = self.declared.__get__(group)
        bound = mode.listing(declared) if self.listing else mode.call(declared)
        functools.update_wrapper(bound, self.declared)
        bound.__signature__ = self._signature(mode)
        # Non-data descriptor: the instance attribute now shadows it, so the next access
        # is a dictionary lookup.
        group.__dict__[self.name] = bound
        return bound

    def _signature(self, mode: Mode) -> inspect.Signature:
        kind = type(mode)
        if kind not in self._signatures:
            hints = get_type_hints(self.declared)
            declared = inspect.signature(self.declared)
            parameters = [
                parameter.replace(annotation=hints.get(parameter.name, parameter.annotation))
                for parameter in list(declared.parameters.values())[1:]
            ]
            result = get_args(hints["return"])[-1]
            self._signatures[kind] = declared.replace(
                parameters=parameters, return_annotation=mode.answers(result, self.listing)
            )
        return self._signatures[kind]


class Endpoint(_Declaration, Generic[P, T]):
    """A declared call. Read from a group it is that call, run in the group's mode."""

    @overload
    def __get__(self, group: None, owner: type[Any] | None = None) -> Self: ...
    @overload
    def __get__(
        self, group: EndpointGroup[AsFlow], owner: type[Any] | None = None
    ) -> Callable[P, Flow[T]]: ...
    @overload
    def __get__(
        self, group: EndpointGroup[Blocking], owner: type[Any] | None = None
    ) -> Callable[P, T]: ...
    @overload
    def __get__(
        self, group: EndpointGroup[Awaiting], owner: type[Any] | None = None
    ) -> Callable[P, Coroutine[Any, Any, T]]: ...
    def __get__(self, group: EndpointGroup[Any] | None, owner: type[Any] | None = None) -> Any:
        return self if group is None else self._bind(group)


class Listing(_Declaration, Generic[P, T]):
    """A declared listing. Read from a group it is that listing, walked in the group's mode."""

    listing = True

    @overload
    def __get__(self, group: None, owner: type[Any] | None = None) -> Self: ...
    @overload
    def __get__(
        self, group: EndpointGroup[AsFlow], owner: type[Any] | None = None
    ) -> Callable[P, Pages[T]]: ...
    @overload
    def __get__(
        self, group: EndpointGroup[Blocking], owner: type[Any] | None = None
    ) -> Callable[P, Iterator[T]]: ...
    @overload
    def __get__(
        self, group: EndpointGroup[Awaiting], owner: type[Any] | None = None
    ) -> Callable[P, AsyncIterator[T]]: ...
    def __get__(self, group: EndpointGroup[Any] | None, owner: type[Any] | None = None) -> Any:
        return self if group is None else self._bind(group)


def endpoint(declared: Callable[Concatenate[Any, P], Flow[T]]) -> Endpoint[P, T]:
    """Declare a call: the method checks its arguments and returns the call's flow."""
    return Endpoint(declared)


def listing(declared: Callable[Concatenate[Any, P], Pages[T]]) -> Listing[P, T]:
    """Declare a listing: the method checks its arguments and returns the pages."""
    return Listing(declared)
