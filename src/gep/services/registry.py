"""Find the service module of each catalogue item.

A service module lives in ``gep.services`` and exposes ``DECLARATION`` (a
:class:`~gep.services.base.ServiceDeclaration`) and ``compute(ctx)``. Modules are discovered, not
listed, so adding an item is adding one module.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from functools import cache
from types import ModuleType

import gep.services
from gep.services.base import ServiceDeclaration


@dataclass(frozen=True)
class Service:
    declaration: ServiceDeclaration
    module: ModuleType

    @property
    def item_id(self) -> str:
        return self.declaration.item_id

    def compute(self, ctx):
        return self.module.compute(ctx)


@cache
def services() -> dict[str, Service]:
    """item id -> Service for every service module in ``gep.services``."""
    found: dict[str, Service] = {}
    for info in pkgutil.iter_modules(gep.services.__path__):
        module = importlib.import_module(f"gep.services.{info.name}")
        declaration = getattr(module, "DECLARATION", None)
        if not isinstance(declaration, ServiceDeclaration):
            continue
        if declaration.item_id in found:
            raise RuntimeError(f"two service modules declare item {declaration.item_id!r}")
        found[declaration.item_id] = Service(declaration, module)
    return found


def service(item_id: str) -> Service | None:
    return services().get(item_id)
