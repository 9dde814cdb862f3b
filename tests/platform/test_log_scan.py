"""The end-of-run log scan finds personal data, and only that."""

from tests.support.log_scan import personal_data_in


def test_scan_flags_nhs_numbers_and_postcodes_but_not_ids(tmp_path):
    log = tmp_path / "run.log"
    # 7275676125 and 8855348825 pass Modulus 11: inside a correlation id or a trace id they are
    # not NHS numbers.
    log.write_text(
        '{"message": "request", "path": "/fhir/ServiceRequest/2f1c6a0e", "duration_ms": 12.5}\n'
        '{"correlation_id": "4970d14e-45d9-4003-af5a-7b7275676125", "status": 404}\n'
        '{"trace_id": "e3e70682c209ab4c8855348825dddd10"}\n'
        '{"message": "ServiceRequest 4970d14e-45d9-4003-af5a-7b7275676125 for 9434765919"}\n'
        '{"message": "nhs=9434765919abcdef"}\n'
        '{"message": "ref 9434765919-2024-abcd-0000-000000000000"}\n'
        '{"message": "pc E151DA00-0000-0000-0000-000000000000"}\n'
        '{"message": "oops 9434765919 leaked"}\n'
        '{"message": "invalid 9434765918 is not an NHS number"}\n'
        '{"message": "lives at E15 1DA"}\n'
        '{"message": "ts 1763820191.123 and 1234567890123"}\n',
        encoding="utf-8",
    )

    offending = personal_data_in(log)

    assert offending == [
        '{"message": "ServiceRequest 4970d14e-45d9-4003-af5a-7b7275676125 for 9434765919"}',
        '{"message": "nhs=9434765919abcdef"}',
        '{"message": "ref 9434765919-2024-abcd-0000-000000000000"}',
        '{"message": "pc E151DA00-0000-0000-0000-000000000000"}',
        '{"message": "oops 9434765919 leaked"}',
        '{"message": "lives at E15 1DA"}',
    ]
