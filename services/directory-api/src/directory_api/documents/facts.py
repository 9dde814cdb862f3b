"""The filterable facts of a rendered service (see docs/directory.md for each rule)."""

import re
from datetime import date
from typing import Any

from directory_api.services.repository import ServiceFacts
from directory_api.services.schemas import byday_weekdays, clock_minutes

_GSS_CODE = re.compile(r"^[EWSN][0-9]{8}$")


def service_facts(document: dict[str, Any]) -> ServiceFacts:
    """What the filters search, read from the fully nested ORUK service."""
    schedules = list(document.get("schedules", []))
    location_types = []
    places = []
    for link in document.get("service_at_locations", []):
        schedules += link.get("schedules", [])
        location = link["location"]
        location_types.append(location["location_type"])
        if "latitude" in location and "longitude" in location:
            places.append((link["id"], location["id"], location["latitude"], location["longitude"]))
    attending = " ".join(s.get("attending_type", "") for s in schedules).lower()
    has_phone = bool(document.get("phones")) or any(
        contact.get("phones") for contact in document.get("contacts", [])
    )
    modes = []
    if "physical" in location_types or "in person" in attending or "in-person" in attending:
        modes.append("in_person")
    if has_phone or "phone" in attending:
        modes.append("phone")
    if "virtual" in location_types or "online" in attending or "virtual" in attending:
        modes.append("online")
    today = date.today().isoformat()
    openings = set()
    for schedule in schedules:
        if "byday" not in schedule or schedule.get("valid_to", "9999") < today:
            continue
        opens = clock_minutes(schedule["opens_at"]) if "opens_at" in schedule else 0
        closes = clock_minutes(schedule["closes_at"]) if "closes_at" in schedule else 24 * 60
        for weekday in byday_weekdays(schedule["byday"]):
            openings.add((weekday, opens, closes))
    area_codes = set()
    for area in document.get("service_areas", []):
        for part in re.split(r"[/#]", area.get("uri", "")):
            if _GSS_CODE.match(part):
                area_codes.add(part)
    words = (
        document.get("name"),
        document.get("alternate_name"),
        document.get("description"),
        document.get("organization", {}).get("name"),
    )
    return ServiceFacts(
        search_text=" ".join(w for w in words if w).lower(),
        free_of_charge=not any(c.get("amount", 0) > 0 for c in document.get("cost_options", [])),
        languages=sorted(
            {lang["code"] for lang in document.get("languages", []) if "code" in lang}
        ),
        delivery_modes=modes,
        openings=sorted(openings),
        area_codes=sorted(area_codes),
        places=sorted(set(places)),
    )
