"""Name lookup and keyword checking shared by every registry of the toolkit.

Each kind of thing (generators, objectives, estimators, ...) keeps one plain ``dict`` from name to class.
These helpers turn a name and a dict of parameters into an instance, and reject an unknown name or an
unknown parameter with a ``ValueError`` that names it and suggests the closest valid spelling. **The class
signature is the schema**: there is no second list of accepted keys to keep in sync.

Imports nothing from the project.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

T = TypeVar("T")


def suggest(name: str, choices: Iterable[str]) -> str:
    """A `` (did you mean 'x'?)`` hint for ``name`` among ``choices``, or ``""``."""
    close = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def lookup(registry: Mapping[str, T], name: str, kind: str) -> T:
    """``registry[name]``, or a ``ValueError`` that lists the valid names.

    A name of the form ``"package.module:Attr"`` is imported instead, so that a user's own class can be
    named in a config without editing the toolkit.
    """
    if not isinstance(name, str):
        raise TypeError(f"{kind} name must be a string, got {name!r}")
    if name in registry:
        return registry[name]
    if ":" in name:
        return import_object(name, kind)
    raise ValueError(
        f"unknown {kind} {name!r}{suggest(name, registry)}; known: {', '.join(sorted(registry))}"
    )


def import_object(path: str, kind: str) -> Any:
    """Import ``"package.module:Attr"`` (a user's class named in a config)."""
    module_name, _, attr = path.partition(":")
    if not module_name or not attr:
        raise ValueError(f"{kind} {path!r} must look like 'package.module:Class'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ValueError(f"cannot import module {module_name!r} for {kind} {path!r}: {err}") from err
    try:
        return getattr(module, attr)
    except AttributeError:
        names = [n for n in dir(module) if not n.startswith("_")]
        raise ValueError(
            f"module {module_name!r} has no attribute {attr!r}{suggest(attr, names)} ({kind} {path!r})"
        ) from None


def accepted_params(factory: Callable[..., Any], skip: Iterable[str] = ()) -> dict[str, inspect.Parameter]:
    """The keyword parameters ``factory`` accepts, minus ``skip`` (e.g. positional inputs like ``dims``)."""
    skipped = set(skip) | {"self"}
    params = inspect.signature(factory).parameters
    return {
        n: p
        for n, p in params.items()
        if n not in skipped and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    }


def check_params(
    factory: Callable[..., Any], params: Mapping[str, Any], kind: str, skip: Iterable[str] = ()
) -> None:
    """Raise ``ValueError`` naming every key of ``params`` that ``factory`` does not accept.

    A factory that takes ``**kwargs`` accepts anything (its own ``__init__`` must then validate).
    """
    signature = inspect.signature(factory).parameters
    if any(p.kind == p.VAR_KEYWORD for p in signature.values()):
        return
    known = accepted_params(factory, skip)
    for key in params:
        if key not in known:
            raise ValueError(
                f"unknown parameter {key!r} for {kind}{suggest(key, known)}; "
                f"accepted: {', '.join(known) or '(none)'}"
            )


def build(registry: Mapping[str, Callable[..., T]], name: str, kind: str, params: Mapping[str, Any]) -> T:
    """Look ``name`` up, check ``params`` against its signature and call it with them."""
    factory = lookup(registry, name, kind)
    check_params(factory, params, f"{kind} {name!r}")
    return factory(**params)
