"""Demo data. ``bulk``: ``cnvisa demo seed``, deterministic volume for benchmarks (bulk inserts; each case with
the records its state implies, ``records``; names and makers in ``vocab``). ``cast``: the demo sign-ins and the
people of their story. ``story`` and ``setup``: ``cnvisa demo setup``, whose cases are played through the
workflow's own commands."""

from cnvisa.demo.bulk import seed
from cnvisa.demo.cast import DEMO, seed_web

__all__ = ["DEMO", "seed", "seed_web"]
