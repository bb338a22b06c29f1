"""The observed account indexed by identity, built once per plan.

The planner matches every desired endpoint and volume against the account. Scanning the
account for each of them made planning quadratic (1,000 endpoints: a million comparisons), so
the account is grouped once by what matching looks up: endpoint names and ids, volume names,
template names. Each group keeps the account's order, so the plan is the one a scan gives.
Only string keys are indexed: a name or id of another type never equals gpu.jsonc's strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from gpuctl.model import Observed


def _grouped(items: Iterable[dict], key: str) -> dict[str, tuple[dict, ...]]:
    groups: dict[str, list[dict]] = {}
    for item in items:
        value = item.get(key)
        if isinstance(value, str):
            groups.setdefault(value, []).append(item)
    return {k: tuple(v) for k, v in groups.items()}


@dataclass(frozen=True)
class Account:
    """Lookups into one observed account; every method answers in constant time."""

    observed: Observed
    _endpoints_by_name: Mapping[str, tuple[dict, ...]]
    _endpoints_by_id: Mapping[str, tuple[dict, ...]]
    _volumes_by_name: Mapping[str, tuple[dict, ...]]
    _templates_by_name: Mapping[str, tuple[dict, ...]]

    def endpoints_named(self, name: str) -> tuple[dict, ...]:
        return self._endpoints_by_name.get(name, ())

    def endpoint(self, endpoint_id: str) -> dict | None:
        """The first endpoint with this id (ids are unique in a real account)."""
        found = self._endpoints_by_id.get(endpoint_id)
        return found[0] if found else None

    def volumes_named(self, name: str) -> tuple[dict, ...]:
        return self._volumes_by_name.get(name, ())

    def templates_named(self, name: str) -> tuple[dict, ...]:
        return self._templates_by_name.get(name, ())


def index(observed: Observed) -> Account:
    """One pass over each list of the account."""
    return Account(observed, _grouped(observed.endpoints, "name"), _grouped(observed.endpoints, "id"),
                   _grouped(observed.network_volumes, "name"), _grouped(observed.templates, "name"))
