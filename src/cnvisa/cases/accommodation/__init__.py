"""The accommodation register (住宿登记, Law Art 39; issue 11 §3): hotels report their foreign guests, people
register private stays, the police — a police station's desk for its area, an exit-entry office for its — see and
register the stays of their area.

- ``hotel``: hotels' batches (para 1), idempotent per stay, each MRZ checked; a hotel sees only its guests.
- ``private``: private stays (para 2) online within 24 hours, or at the police desk of the place of stay; moving out.
- ``area``: the police's day view, paged with its counts (late, possibly missing: Art 76 para 1(6) shown, nothing
  imposed), and the search by passport; every read audited.
- ``base``: the area a reader sees (``area_of``: a police station's division, or an office's area).
- ``checks`` and ``views``: one stay checked before anything is written; how a stay is shown.

A passport not on record is added from its MRZ with the person it names (the border's entry record is outside this
platform); one on record must name the same person (surname, birth date, nationality), else the stay is refused.
Every registration is audited. ``registered_from``/``registered_until`` (Beijing dates) are kept for the
shared-record lookups (``cnvisa.cases.evidence``)."""

from cnvisa.cases.accommodation.area import MAX_PER_PAGE, PER_PAGE, AreaViews
from cnvisa.cases.accommodation.base import PREFIX, Area
from cnvisa.cases.accommodation.checks import MAX_BATCH, Stay
from cnvisa.cases.accommodation.hotel import HotelReports
from cnvisa.cases.accommodation.private import PrivateStays


class AccommodationService(HotelReports, PrivateStays, AreaViews):
    """Hotels, private stays and the police's area over one ``AccommodationBase``."""


__all__ = ["MAX_BATCH", "MAX_PER_PAGE", "PER_PAGE", "PREFIX", "AccommodationService", "Area", "Stay"]
