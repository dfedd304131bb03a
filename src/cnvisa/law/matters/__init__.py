"""One module per matter, following the Guide's and the Regulations' own sections; ``cnvisa.law.assess``
dispatches to them. ``record`` is the answer being built; ``steps`` the steps several matters share."""
