"""Amazon's free-text `stateOrRegion` → a region of the store's own directory.

Magento keeps regions per country (`GET /V1/directory/countries/{id}` → `available_regions[{id, code,
name}]`), and an order address with a `region_id` shows and reports like one typed at checkout. Amazon
sends "CA", "California", "calif", "São Paulo" or "SP" for the same thing, so matching is on the code or
the name, case-, accent-, space- and punctuation-insensitive, with US state names (and the usual postal
abbreviations) translated to their codes first. No match is not an error: the text is kept as `region`
and `region_id` stays empty, exactly as a checkout in a country without a region list.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from bridge.magento.errors import MagentoNotFound
from bridge.magento.models import Country, Region

US_STATES: dict[str, str] = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA",
    "colorado": "CO", "connecticut": "CT", "delaware": "DE", "district of columbia": "DC",
    "washington dc": "DC", "florida": "FL", "georgia": "GA", "hawaii": "HI", "idaho": "ID",
    "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS", "kentucky": "KY",
    "louisiana": "LA", "maine": "ME", "maryland": "MD", "massachusetts": "MA", "michigan": "MI",
    "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT", "nebraska": "NE",
    "nevada": "NV", "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM", "new york": "NY",
    "north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK", "oregon": "OR",
    "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC", "south dakota": "SD",
    "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA",
    "washington": "WA", "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY",
    "american samoa": "AS", "guam": "GU", "northern mariana islands": "MP", "puerto rico": "PR",
    "virgin islands": "VI", "us virgin islands": "VI", "united states virgin islands": "VI",
    "federated states of micronesia": "FM", "marshall islands": "MH", "palau": "PW",
    "armed forces americas": "AA", "armed forces europe": "AE", "armed forces africa": "AE",
    "armed forces middle east": "AE", "armed forces canada": "AE", "armed forces pacific": "AP",
    # Traditional abbreviations buyers still type.
    "ala": "AL", "ariz": "AZ", "ark": "AR", "calif": "CA", "cal": "CA", "colo": "CO", "conn": "CT",
    "del": "DE", "fla": "FL", "ga": "GA", "ill": "IL", "ind": "IN", "kan": "KS", "kans": "KS",
    "ky": "KY", "la": "LA", "md": "MD", "mass": "MA", "mich": "MI", "minn": "MN", "miss": "MS",
    "mo": "MO", "mont": "MT", "neb": "NE", "nebr": "NE", "nev": "NV", "nh": "NH", "nj": "NJ",
    "nm": "NM", "ny": "NY", "nc": "NC", "nd": "ND", "okla": "OK", "ore": "OR", "oreg": "OR",
    "pa": "PA", "penn": "PA", "penna": "PA", "ri": "RI", "sc": "SC", "sd": "SD", "tenn": "TN",
    "tex": "TX", "vt": "VT", "va": "VA", "wash": "WA", "wva": "WV", "wis": "WI", "wisc": "WI",
    "wyo": "WY", "dc": "DC", "d c": "DC",
}  # fmt: skip


def normalize(text: str) -> str:
    """Casefolded, accents stripped, punctuation to spaces, spaces collapsed: 'São-Paulo ' → 'sao paulo'."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    cleaned = re.sub(r"[^\w]+", " ", stripped.casefold().replace("_", " "))
    return " ".join(cleaned.split())


@dataclass(frozen=True, slots=True)
class ResolvedRegion:
    """What goes into a Magento order address: `region_id` may be None, `region` never is when given."""

    region: str
    region_code: str | None = None
    region_id: int | None = None


class RegionResolver:
    """Matches Amazon region text against the regions of the countries it was built with."""

    def __init__(self, countries: Iterable[Country] = ()):
        self._codes: dict[str, dict[str, Region]] = {}
        self._names: dict[str, dict[str, Region]] = {}
        for country in countries:
            self.add_country(country)

    @classmethod
    def from_json(cls, countries: Iterable[dict[str, Any]]) -> RegionResolver:
        """From the raw answers of `GET /V1/directory/countries[/{id}]`."""
        return cls(Country.from_json(c) for c in countries)

    def add_country(self, country: Country) -> None:
        codes: dict[str, Region] = {}
        names: dict[str, Region] = {}
        for region in country.regions:  # the first region with a code or name keeps it (US "AE" is shared)
            if region.code:
                codes.setdefault(normalize(region.code), region)
            if region.name:
                names.setdefault(normalize(region.name), region)
        self._codes[country.id.upper()] = codes
        self._names[country.id.upper()] = names

    def knows(self, country_code: str) -> bool:
        return country_code.upper() in self._codes

    def find(self, country_code: str | None, text: str | None) -> Region | None:
        if not country_code or not text:
            return None
        country = country_code.upper()
        codes, names = self._codes.get(country), self._names.get(country)
        if not codes and not names:
            return None
        codes, names = codes or {}, names or {}
        key = normalize(text)
        if not key:
            return None
        region = codes.get(key) or names.get(key)
        if region is None and country == "US" and key in US_STATES:
            region = codes.get(normalize(US_STATES[key]))
        if region is None and key.startswith("state of "):
            rest = key.removeprefix("state of ")
            region = codes.get(rest) or names.get(rest)
        return region

    def resolve(self, country_code: str | None, text: str | None) -> ResolvedRegion | None:
        """The address fields for `text`; None when there is no region text at all."""
        if not text or not text.strip():
            return None
        region = self.find(country_code, text)
        if region is None:
            return ResolvedRegion(region=text.strip())
        return ResolvedRegion(region=region.name, region_code=region.code or None, region_id=region.id)


class Directory(Protocol):
    """What region matching needs from `MagentoClient`: the store's directory (cached by the client)."""

    def country(self, country_id: str) -> Country: ...

    def countries(self) -> list[Country]: ...


def regions_for(magento: Directory, country_code: str | None = None) -> RegionResolver:
    """Regions of one country (one cached call), or of all countries when none is given."""
    if not country_code:
        return RegionResolver(magento.countries())
    try:
        return RegionResolver([magento.country(country_code)])
    except MagentoNotFound:
        return RegionResolver()  # a country the store does not allow: no region ids, the text stays
