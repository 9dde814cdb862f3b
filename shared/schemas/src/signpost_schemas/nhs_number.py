"""NHS number validation (Modulus 11) through the maintained `nhs-number` package."""

from nhs_number.validate import is_valid


class InvalidNhsNumber(ValueError):
    """The value is not a valid 10-digit NHS number."""


def validate_nhs_number(value: str) -> str:
    """Return the NHS number as 10 digits, or raise `InvalidNhsNumber`.

    Spaces and hyphens used in the printed form (``943 476 5919``) are accepted and removed.
    """
    digits = value.replace(" ", "").replace("-", "")
    if len(digits) != 10 or not digits.isdigit():
        raise InvalidNhsNumber("an NHS number is 10 digits")
    if not is_valid(digits):
        raise InvalidNhsNumber("the NHS number fails the Modulus 11 check")
    return digits
