"""The planner: desired + observed -> a typed, frozen plan."""

from gpuctl.plan.model import Action, FieldChange, Kind, Plan, ResourceChange, Unknown
from gpuctl.plan.planner import plan

__all__ = ["Action", "FieldChange", "Kind", "Plan", "ResourceChange", "Unknown", "plan"]
