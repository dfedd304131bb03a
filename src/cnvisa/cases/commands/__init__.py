"""The case commands, one module per workflow stage; each a mixin over ``cnvisa.cases.runner.Runner`` that
``cnvisa.cases.service.CaseService`` composes. A new workflow (joint applications, port visas) is a new module
here with its own class, added to ``CaseService``'s bases."""
