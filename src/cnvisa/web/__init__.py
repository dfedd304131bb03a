"""The platform on the web: server-rendered pages (this package) and the JSON API (``cnvisa.api``), both thin
layers over ``cnvisa.cases`` and ``cnvisa.law``."""
