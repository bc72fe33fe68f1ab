"""Countries and regions with the ids of Magento's directory_country_region install data.

US (1-65), CA (66-78) and DE (79-94) keep the ids a clean install gives them, so `region_id` values a
bridge sends (e.g. California = 12, Texas = 57) mean the same as on a real instance.
"""

from __future__ import annotations

from typing import Any

_US = [
    ("AL", "Alabama"), ("AK", "Alaska"), ("AS", "American Samoa"), ("AZ", "Arizona"), ("AR", "Arkansas"),
    ("AE", "Armed Forces Africa"), ("AA", "Armed Forces Americas"), ("AE", "Armed Forces Canada"),
    ("AE", "Armed Forces Europe"), ("AE", "Armed Forces Middle East"), ("AP", "Armed Forces Pacific"),
    ("CA", "California"), ("CO", "Colorado"), ("CT", "Connecticut"), ("DE", "Delaware"),
    ("DC", "District of Columbia"), ("FM", "Federated States Of Micronesia"), ("FL", "Florida"), ("GA", "Georgia"),
    ("GU", "Guam"), ("HI", "Hawaii"), ("ID", "Idaho"), ("IL", "Illinois"), ("IN", "Indiana"), ("IA", "Iowa"),
    ("KS", "Kansas"), ("KY", "Kentucky"), ("LA", "Louisiana"), ("ME", "Maine"), ("MH", "Marshall Islands"),
    ("MD", "Maryland"), ("MA", "Massachusetts"), ("MI", "Michigan"), ("MN", "Minnesota"), ("MS", "Mississippi"),
    ("MO", "Missouri"), ("MT", "Montana"), ("NE", "Nebraska"), ("NV", "Nevada"), ("NH", "New Hampshire"),
    ("NJ", "New Jersey"), ("NM", "New Mexico"), ("NY", "New York"), ("NC", "North Carolina"),
    ("ND", "North Dakota"), ("MP", "Northern Mariana Islands"), ("OH", "Ohio"), ("OK", "Oklahoma"),
    ("OR", "Oregon"), ("PW", "Palau"), ("PA", "Pennsylvania"), ("PR", "Puerto Rico"), ("RI", "Rhode Island"),
    ("SC", "South Carolina"), ("SD", "South Dakota"), ("TN", "Tennessee"), ("TX", "Texas"), ("UT", "Utah"),
    ("VT", "Vermont"), ("VI", "Virgin Islands"), ("VA", "Virginia"), ("WA", "Washington"),
    ("WV", "West Virginia"), ("WI", "Wisconsin"), ("WY", "Wyoming"),
]
_CA = [
    ("AB", "Alberta"), ("BC", "British Columbia"), ("MB", "Manitoba"), ("NL", "Newfoundland and Labrador"),
    ("NB", "New Brunswick"), ("NS", "Nova Scotia"), ("NT", "Northwest Territories"), ("NU", "Nunavut"),
    ("ON", "Ontario"), ("PE", "Prince Edward Island"), ("QC", "Quebec"), ("SK", "Saskatchewan"),
    ("YT", "Yukon Territory"),
]
_DE = [
    ("NDS", "Niedersachsen"), ("BAW", "Baden-Württemberg"), ("BAY", "Bayern"), ("BER", "Berlin"),
    ("BRG", "Brandenburg"), ("BRE", "Bremen"), ("HAM", "Hamburg"), ("HES", "Hessen"),
    ("MEC", "Mecklenburg-Vorpommern"), ("NRW", "Nordrhein-Westfalen"), ("RHE", "Rheinland-Pfalz"),
    ("SAR", "Saarland"), ("SAS", "Sachsen"), ("SAC", "Sachsen-Anhalt"), ("SCN", "Schleswig-Holstein"),
    ("THE", "Thüringen"),
]


def _regions(rows: list[tuple[str, str]], first_id: int) -> list[dict[str, Any]]:
    return [{"id": str(first_id + n), "code": code, "name": name} for n, (code, name) in enumerate(rows)]


COUNTRIES: dict[str, dict[str, Any]] = {
    "US": {"three": "USA", "name": "United States", "regions": _regions(_US, 1)},
    "CA": {"three": "CAN", "name": "Canada", "regions": _regions(_CA, 66)},
    "DE": {"three": "DEU", "name": "Germany", "regions": _regions(_DE, 79)},
    "GB": {"three": "GBR", "name": "United Kingdom", "regions": []},
    "JP": {"three": "JPN", "name": "Japan", "regions": []},
    "FR": {"three": "FRA", "name": "France", "regions": []},
    "IT": {"three": "ITA", "name": "Italy", "regions": []},
    "ES": {"three": "ESP", "name": "Spain", "regions": []},
    "MX": {"three": "MEX", "name": "Mexico", "regions": []},
    "AU": {"three": "AUS", "name": "Australia", "regions": []},
}


def country(country_id: str) -> dict[str, Any] | None:
    """directory/countries/{id} body (CountryInformationInterface); available_regions only when there are some."""
    c = COUNTRIES.get(country_id.upper())
    if c is None:
        return None
    out: dict[str, Any] = {
        "id": country_id.upper(),
        "two_letter_abbreviation": country_id.upper(),
        "three_letter_abbreviation": c["three"],
        "full_name_locale": c["name"],
        "full_name_english": c["name"],
    }
    if c["regions"]:
        out["available_regions"] = [dict(r) for r in c["regions"]]
    return out
