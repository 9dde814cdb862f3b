"""Where each referring organisation receives its messages: an HTTP endpoint per ODS code.

From the settings (`REFERRAL_GP_MESSAGE_ENDPOINTS`) and a CSV file
(`REFERRAL_GP_MESSAGE_ENDPOINTS_FILE`, columns `ods_code` and `endpoint`, read when the service
starts); the settings win where both name an organisation. An organisation with no endpoint
has its messages kept as undeliverable, never dropped.
"""

import csv
from pathlib import Path

from referral_api.config import ReferralSettings, endpoint_entry


class EndpointDirectory:
    """The message endpoint of each referring organisation."""

    def __init__(self, endpoints: dict[str, str]) -> None:
        self._endpoints = dict(endpoints)

    @classmethod
    def from_settings(cls, settings: ReferralSettings) -> "EndpointDirectory":
        endpoints: dict[str, str] = {}
        if settings.gp_message_endpoints_file:
            endpoints.update(read_file(Path(settings.gp_message_endpoints_file)))
        endpoints.update(settings.gp_message_endpoints)
        return cls(endpoints)

    def endpoint_for(self, ods_code: str) -> str | None:
        return self._endpoints.get(ods_code.upper())

    def __len__(self) -> int:
        return len(self._endpoints)


def read_file(path: Path) -> dict[str, str]:
    """The endpoints a CSV file lists (`ods_code`, `endpoint`); a bad row stops the start."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    endpoints: dict[str, str] = {}
    for line, row in enumerate(rows, start=2):
        try:
            code, url = endpoint_entry(row.get("ods_code", ""), row.get("endpoint", ""))
        except ValueError as error:
            raise ValueError(f"{path}, line {line}: {error}") from None
        endpoints[code] = url
    return endpoints
