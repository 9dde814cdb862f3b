"""The query parameters of the organisation reads (one definition serves the parser and the
OpenAPI document)."""

from directory_api.oruk.params import FULL, FULL_SERVICE
from directory_api.oruk.params import LIST_PARAMETERS as ORUK_LIST_PARAMETERS

LIST_PARAMETERS = (*ORUK_LIST_PARAMETERS, FULL, FULL_SERVICE)
READ_PARAMETERS = (FULL_SERVICE,)
