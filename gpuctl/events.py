"""What a deploy reports while it works. The engine emits these; views subscribe (render,
the CLI, the GitHub integration). The engine itself never prints, prompts or reads a terminal.

They live beside the domain model, not inside the engine, so a view can understand them
without importing the engine that produces them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


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


@dataclass(frozen=True)
class Note:
    """Something a person should know that is not a step of the apply: a lease taken over, a
    plan that changed under the lease, a pre-warm skipped. `level` is "note" or "warning"
    (views prefix the message with it), or "plain" for a message that says what it is."""

    message: str
    level: str = "note"


@dataclass(frozen=True)
class PlanReady:
    """A plan was made. `stage` says which: "plan" (before confirmation) or "replanned" (made
    again under the account lease because the account changed meanwhile)."""

    plan: Any  # gpuctl.plan.model.Plan
    stage: str = "plan"


Event = Started | Finished | Failed | Waiting | Note | PlanReady
Emit = Callable[[Event], None]
