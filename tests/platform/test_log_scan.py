"""The end-of-run log scan finds personal data, and only that."""

from tests.support.log_scan import personal_data_in


def test_scan_flags_nhs_numbers_and_postcodes_but_not_ids(tmp_path):
    log = tmp_path / "run.log"
    log.write_text(
        '{"message": "request", "path": "/fhir/ServiceRequest/2f1c6a0e", "duration_ms": 12.5}\n'
        '{"message": "oops 9434765919 leaked"}\n'
        '{"message": "invalid 9434765918 is not an NHS number"}\n'
        '{"message": "lives at E15 1DA"}\n'
        '{"message": "ts 1763820191.123 and 1234567890123"}\n',
        encoding="utf-8",
    )

    offending = personal_data_in(log)

    assert offending == ['{"message": "oops 9434765919 leaked"}', '{"message": "lives at E15 1DA"}']
