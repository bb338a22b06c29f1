"""The local provider's state: every SQL statement (`db`, `jobs`, `offline`), its ids, and
the reference data it reads from `state/` (`reference`). Nothing here knows HTTP."""
