"""Named plugins: one registry per kind (domains, meta-agents, sandbox backends, task-model backends).

    DOMAINS = Registry("domain", group="mac.domains", builtins=load_builtin_domains)

    @DOMAINS.register                      # a class with a `name` attribute registers under that name
    class Aime(Domain): name = "aime"

    SANDBOXES.add("bwrap", "mac.sandbox.bwrap:BwrapBackend")    # lazy: imported on first use
    DOMAINS.get("aime")                    # the registered object; ConfigError listing the known names
    DOMAINS.names()

Other packages plug in through entry points, declared in their pyproject.toml:

    [project.entry-points."mac.domains"]
    toy = "mac_toy:ToyDomain"          # name = "module:object", or "module" when the module registers itself

Groups: `mac.domains`, `mac.metaagents`, `mac.sandboxes`, `mac.gateways`, `mac.environments`. Entry points are
listed on the first lookup and imported only when their name is asked for, so a plugin costs nothing until it is
used. A built-in name wins over a plugin of the same name. Nothing here runs on import.
"""

from __future__ import annotations

import importlib
import types
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Generic, TypeVar, overload
from collections.abc import Callable

from mac.errors import ConfigError

T = TypeVar("T")
R = TypeVar("R")


class Registry(Generic[T]):
    """The plugins of one kind, by name. `builtins` imports the built-in modules (which register themselves)."""

    def __init__(self, kind: str, *, group: str | None = None, builtins: Callable[[], None] | None = None,
                 base: type | None = None):
        self.kind = kind
        self.group = group
        self._builtins = builtins
        self._base = base
        """What a plugin's object must be a subclass of (None: any object, e.g. a factory function)."""
        self._items: dict[str, T] = {}
        self._lazy: dict[str, str] = {}
        self._plugins: dict[str, EntryPoint] = {}
        self._from_plugins: set[str] = set()
        self._ready = False

    @overload
    def register(self, obj: R, *, name: str | None = None) -> R: ...

    @overload
    def register(self, obj: None = None, *, name: str | None = None) -> Callable[[R], R]: ...

    def register(self, obj: Any = None, *, name: str | None = None) -> Any:
        """Decorator: `@registry.register` (the object's `name`) or `@registry.register(name="x")`."""
        def add(target: Any) -> Any:
            key = name or getattr(target, "name", None)
            if not isinstance(key, str) or not key:
                raise ConfigError(f"cannot register {target!r} as a {self.kind}: give it a `name`")
            self._items[key] = target
            return target

        return add if obj is None else add(obj)

    def add(self, name: str, target: str) -> None:
        """Register `name` lazily as "module:attribute", imported on its first lookup."""
        self._lazy[name] = target

    def names(self) -> list[str]:
        self._prepare()
        return sorted({*self._items, *self._lazy, *self._plugins})

    def get(self, name: str) -> T:
        """The object registered as `name`. Raises ConfigError listing the known names."""
        self._prepare()
        if name in self._items:
            return self._items[name]
        if name in self._lazy:
            module, _, attribute = self._lazy[name].partition(":")
            self._items[name] = getattr(importlib.import_module(module), attribute)
            return self._items[name]
        if name in self._plugins:
            return self._load_plugin(name, self._plugins[name])
        raise ConfigError(f"unknown {self.kind} {name!r}; known: {', '.join(self.names()) or 'none'}")

    def origin(self, name: str) -> str:
        """Where `name` comes from: "built-in" or the distribution of its entry point."""
        self._prepare()
        plugin = self._plugins.get(name)
        if plugin is None or (name not in self._from_plugins and (name in self._items or name in self._lazy)):
            return "built-in"
        return f"plugin {plugin.dist.name}" if plugin.dist is not None else f"plugin {plugin.value}"

    def _prepare(self) -> None:
        if self._ready:
            return
        self._ready = True
        if self._builtins is not None:
            self._builtins()
        if self.group is not None:
            for point in entry_points(group=self.group):
                self._plugins.setdefault(point.name, point)

    def _load_plugin(self, name: str, point: EntryPoint) -> T:
        source = point.dist.name if point.dist is not None else point.value
        try:
            loaded = point.load()
        except Exception as exc:  # noqa: BLE001 - a broken third-party package: say which, do not crash
            raise ConfigError(f"{self.kind} plugin {name!r} (package {source}, {point.value}) failed to load: "
                              f"{type(exc).__name__}: {exc}; fix or uninstall that package") from exc
        if not isinstance(loaded, types.ModuleType):
            if self._base is not None and not (isinstance(loaded, type) and issubclass(loaded, self._base)):
                raise ConfigError(f"{self.kind} plugin {name!r} (package {source}) is {loaded!r}, not a subclass of "
                                  f"{self._base.__module__}.{self._base.__name__}")
            declared = getattr(loaded, "name", name)
            if declared != name:
                raise ConfigError(f"{self.kind} plugin {name!r} (package {source}) names itself {declared!r}: the "
                                  "entry point's name and the object's `name` must agree")
            self._items[name] = loaded
        if name not in self._items:
            raise ConfigError(f"{self.kind} plugin {name!r} (package {source}) registered nothing under that name: "
                              f"point the entry point at the object (\"module:Class\")")
        self._from_plugins.add(name)
        return self._items[name]
