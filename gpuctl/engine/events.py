"""What apply reports while it works. The engine emits these; views subscribe. The engine
itself never prints or prompts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Started:
    address: str
    action: str


@dataclass(frozen=True)
class Finished:
    address: str
    action: str
    id: str | None
    seconds: float
    note: str = ""


@dataclass(frozen=True)
class Failed:
    address: str
    action: str
    error: str


@dataclass(frozen=True)
class Waiting:
    """The engine is waiting on something outside it (a lock, an object becoming visible)."""

    message: str


Event = Started | Finished | Failed | Waiting
Emit = Callable[[Event], None]
