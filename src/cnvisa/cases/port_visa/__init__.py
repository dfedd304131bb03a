"""Port-visa requests (口岸签证, Law Art 20; issue 11 §1): the transition table (``flow``), the commands
(``service.PortVisaService``) and the port's desk; the reads are ``cnvisa.cases.queries.port_visa``."""
