"""Which specification a document claims to follow, from its specification identifier (BT-24).

The table is data: each known identifier (or its family) maps to a profile. ZUGFeRD 2.0
wrote ``urn:zugferd.de:2p0:…``; Factur-X and ZUGFeRD 2.1+ write ``urn:factur-x.eu:1p0:…``.
"""

from __future__ import annotations

import re
from enum import StrEnum

__all__ = ["Profile", "profile_of"]


class Profile(StrEnum):
    MINIMUM = "MINIMUM"
    BASIC_WL = "BASIC WL"
    BASIC = "BASIC"
    EN16931 = "EN16931"
    EXTENDED = "EXTENDED"
    XRECHNUNG = "XRECHNUNG"
    XRECHNUNG_EXTENSION = "XRECHNUNG EXTENSION"
    XRECHNUNG_CVD = "XRECHNUNG CVD"
    PEPPOL_BIS = "PEPPOL BIS BILLING 3.0"
    UNKNOWN = "UNKNOWN"

    @property
    def is_german_vat_invoice(self) -> bool:
        """MINIMUM and BASIC WL lack the line items §14 UStG requires since 2025."""
        return self not in (Profile.MINIMUM, Profile.BASIC_WL)


_CEN = "urn:cen.eu:en16931:2017"
_EXACT: dict[str, Profile] = {
    _CEN: Profile.EN16931,
    "urn:factur-x.eu:1p0:minimum": Profile.MINIMUM,
    "urn:zugferd.de:2p0:minimum": Profile.MINIMUM,
    "urn:factur-x.eu:1p0:basicwl": Profile.BASIC_WL,
    "urn:zugferd.de:2p0:basicwl": Profile.BASIC_WL,
    f"{_CEN}#compliant#urn:factur-x.eu:1p0:basic": Profile.BASIC,
    f"{_CEN}#compliant#urn:zugferd.de:2p0:basic": Profile.BASIC,
    f"{_CEN}#conformant#urn:factur-x.eu:1p0:extended": Profile.EXTENDED,
    f"{_CEN}#conformant#urn:zugferd.de:2p0:extended": Profile.EXTENDED,
    f"{_CEN}#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0": Profile.XRECHNUNG,
    f"{_CEN}#conformant#urn:xeinkauf.de:kosit:extension:xrechnung_3.0": Profile.XRECHNUNG_EXTENSION,
    f"{_CEN}#compliant#urn:xeinkauf.de:kosit:xrechnung:cvd_0.9": Profile.XRECHNUNG_CVD,
    f"{_CEN}#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0": Profile.PEPPOL_BIS,
}
_OLD_XRECHNUNG = re.compile(
    re.escape(_CEN) + r"#(compliant|conformant)#urn:xoev-de:kosit:(standard|extension):xrechnung_\d"
)
_LEVEL_WORDS = {
    "minimum": Profile.MINIMUM,
    "basicwl": Profile.BASIC_WL,
    "basic": Profile.BASIC,
    "en16931": Profile.EN16931,
    "comfort": Profile.EN16931,
    "extended": Profile.EXTENDED,
}


def profile_of(specification_identifier: str | None) -> Profile:
    """The profile an identifier names; non-canonical ids fall back on their last word."""
    spec = (specification_identifier or "").strip()
    if not spec:
        return Profile.UNKNOWN
    if spec in _EXACT:
        return _EXACT[spec]
    if _OLD_XRECHNUNG.match(spec):
        return Profile.XRECHNUNG
    # Tools in the wild write variants such as "urn:cen.eu:en16931:2017:compliant:factur-x.eu:1p0:en16931";
    # like the factur-x package, read the level from the last ':' token.
    last = spec.rsplit(":", 1)[-1].lower()
    return _LEVEL_WORDS.get(last, Profile.UNKNOWN)
