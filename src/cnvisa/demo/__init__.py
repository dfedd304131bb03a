"""Demo data: ``bulk`` (``cnvisa demo seed``, the volume for benchmarks) and ``cast`` (the demo sign-ins)."""

from cnvisa.demo.bulk import seed
from cnvisa.demo.cast import DEMO, seed_web

__all__ = ["DEMO", "seed", "seed_web"]
