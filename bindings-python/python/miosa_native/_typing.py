"""Run-time stand-ins for the few `typing` names this package uses outside
annotations: `Generic` and `Protocol` bases, `TypedDict` classes, `TypeVar` and
`cast`. Importing `typing` (which imports `re`, `collections`, `contextlib`,
`functools`) was about half of `from miosa_native import Client`. Type checkers
never read this module: every module that uses it imports the real names under
`TYPE_CHECKING` instead."""


class Generic:
    """A base that can be subscripted (`AsyncPager[Sandbox]`), giving the class back."""

    __slots__ = ()

    def __class_getitem__(cls, params: object) -> type:
        return cls


Protocol = Generic


class TypedDict(dict):  # type: ignore[type-arg]
    """A `TypedDict` class is a `dict` at run time: calling it builds a plain `dict`."""

    def __new__(cls, *args: object, **kwargs: object) -> dict:  # type: ignore[misc, type-arg]
        return dict(*args, **kwargs)

    def __init_subclass__(cls, total: bool = True, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)


def TypeVar(name: str, *constraints: object, **options: object) -> str:  # noqa: N802 (typing's name)
    return name


def cast(typ: object, value: object) -> object:
    return value
