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


def check_value_type(key: str, value: Any, default: Any) -> None:
    """Raise ``TypeError`` naming ``key`` when ``value`` does not have the type of its ``default``.

    ``default`` None or ``inspect.Parameter.empty`` accepts anything; an int is accepted for a float; a
    list is accepted for a tuple or list default. A ``config_io.Bare`` word (an override value that is
    not TOML) is accepted only where the default is a string.
    """
    untyped = default is None or default is inspect.Parameter.empty
    if getattr(value, "is_bare_word", False):
        ok = untyped or isinstance(default, str)
    elif untyped:
        ok = True
    elif isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif isinstance(default, (tuple, list)):
        ok = isinstance(value, (tuple, list))
    elif isinstance(default, (str, dict)):
        ok = isinstance(value, type(default))
    else:
        ok = True
    if not ok:
        hint = ""
        if getattr(value, "is_bare_word", False):
            hint = '; it is not a TOML value (write true/false, numbers, [lists] or "quoted text")'
        raise TypeError(
            f"{key} must be {type(default).__name__} (like its default {default!r}), "
            f"got {str(value) if isinstance(value, str) else value!r} "
            f"({'str' if isinstance(value, str) else type(value).__name__}){hint}"
        )


def check_params(
    factory: Callable[..., Any],
    params: Mapping[str, Any],
    owner: str,
    *,
    prefix: str,
    skip: Iterable[str] = (),
    extra: Iterable[str] = (),
) -> None:
    """The one check of keyword parameters against a signature, for every registry and config section.

    Args:
        factory: the class or function the parameters go to (**its signature is the schema**).
        params: the given keywords.
        owner: what takes them, for the message (e.g. ``"generator 'xor'"``, ``"[train]"``).
        prefix: their config path (e.g. ``"generator.params"``); messages name ``prefix.key``, so that the
            same typo reads the same from ``generators.make`` and from a config.
        skip: parameters the caller supplies itself (not settable).
        extra: further accepted keys that are not in the signature (checked by the caller).

    Raises:
        TypeError: ``params`` is not a mapping, or a value's type differs from its default's.
        ValueError: an unknown key, with a did-you-mean hint. A factory that takes ``**kwargs`` accepts
            any key (its own ``__init__`` must then validate).
    """
    if not isinstance(params, Mapping):
        raise TypeError(f"{prefix} must be a table (dict), got {params!r} ({type(params).__name__})")
    signature = inspect.signature(factory).parameters
    open_ended = any(p.kind == p.VAR_KEYWORD for p in signature.values())
    known = accepted_params(factory, skip)
    names = [*known, *extra]
    for key, value in params.items():
        if key in known:
            check_value_type(f"{prefix}.{key}", value, known[key].default)
        elif key not in extra and not open_ended:
            raise ValueError(
                f"unknown key '{prefix}.{key}'{suggest(key, names)}; accepted by {owner}: "
                f"{', '.join(names) or '(none)'}"
            )


def signature_defaults(factory: Callable[..., Any], skip: Iterable[str] = ()) -> dict[str, Any]:
    """The TOML-representable defaults of ``factory``'s keyword parameters (None defaults are left out)."""
    out: dict[str, Any] = {}
    for name, p in accepted_params(factory, skip).items():
        if p.default is not p.empty and is_toml_value(p.default):
            out[name] = list(p.default) if isinstance(p.default, tuple) else p.default
    return out


def is_toml_value(value: Any) -> bool:
    """Whether ``value`` can be written to TOML (bool, int, float, str, and lists / tables of them)."""
    if isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(is_toml_value(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_toml_value(v) for k, v in value.items())
    return False


def build(
    registry: Mapping[str, Callable[..., T]],
    name: str,
    kind: str,
    params: Mapping[str, Any],
    *,
    prefix: str | None = None,
    skip: Iterable[str] = (),
) -> T:
    """Look ``name`` up, check ``params`` with ``check_params`` and call the factory with them.

    ``prefix`` is the config path of the parameters (default ``"<kind>.params"``). A ``TypeError`` or
    ``ValueError`` of the factory itself is re-raised with ``"<prefix> ('<name>'): "`` in front.
    """
    factory = lookup(registry, name, kind)
    prefix = prefix or f"{kind}.params"
    check_params(factory, params, f"{kind} {name!r}", prefix=prefix, skip=skip)
    try:
        return factory(**params)
    except (TypeError, ValueError) as err:
        raise type(err)(f"{prefix} ({name!r}): {err}") from None
