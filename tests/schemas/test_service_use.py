"""The service-use count: six calendar months around a referral date, and the periods it may
cover."""

from datetime import date

from signpost_schemas.fhir.service_use import CountedPeriod, period_of, six_months


def test_six_months_before_ends_the_day_before_the_referral():
    assert six_months(date(2026, 10, 1), "before") == CountedPeriod(
        date(2026, 4, 1), date(2026, 9, 30)
    )


def test_six_months_after_starts_on_the_referral_date_across_a_year_end():
    assert six_months(date(2026, 10, 1), "after") == CountedPeriod(
        date(2026, 10, 1), date(2027, 3, 31)
    )


def test_a_month_end_is_clamped_to_a_shorter_month():
    assert six_months(date(2026, 8, 31), "before").start == date(2026, 2, 28)
    assert six_months(date(2027, 8, 31), "after").end == date(2028, 2, 28)


def test_the_period_is_read_against_the_referral_date():
    referral = date(2026, 10, 1)

    assert period_of(CountedPeriod(date(2026, 4, 1), date(2026, 9, 30)), referral) == "before"
    assert period_of(CountedPeriod(date(2026, 10, 1), date(2027, 3, 31)), referral) == "after"
    assert period_of(CountedPeriod(date(2026, 9, 1), date(2026, 10, 1)), referral) is None
