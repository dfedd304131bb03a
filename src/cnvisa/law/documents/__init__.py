"""Identity documents and their check characters (moved to a package; split follows)."""

from cnvisa.law.documents.mrz import *  # noqa: F403
from cnvisa.law.documents.mrz import __all__ as __all__
