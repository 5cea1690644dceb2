"""Dossier code grammar: Circular 04/2025/TT-VPCP, amending Art. 13(3) of Circular 03/2025."""

from __future__ import annotations

import datetime as dt

import pytest

from survey.services.dossiers.codes import (
    FORMAT_LEGACY,
    FORMAT_NATIONAL,
    InvalidDossierCode,
    mask_dossier_codes,
    parse_dossier_code,
)


def test_a_national_code_and_its_parts():
    code = parse_dossier_code(" h40.123.45-260126-010042 ")
    assert code.code == "H40.123.45-260126-010042"
    assert code.agency_code == "H40.123.45"
    assert code.received_on == dt.date(2026, 1, 26)
    assert (code.system, code.sequence, code.format) == ("01", "0042", FORMAT_NATIONAL)


@pytest.mark.parametrize(
    "text",
    [
        "G01.A1B.0C-260301-99123456",  # letters in the lower levels, a long sequence
        "H29.000.00-251231-000001",  # the national format before its start date is accepted
        "A99.ZZZ.ZZ-280229-120000",  # a leap day
    ],
)
def test_valid_national_codes(text):
    assert parse_dossier_code(text).format == FORMAT_NATIONAL


def test_the_former_format_is_accepted_for_dossiers_received_before_25_january_2026():
    code = parse_dossier_code("000.00.17.H26-250115-0007")
    assert code.format == FORMAT_LEGACY and code.system is None
    assert code.received_on == dt.date(2025, 1, 15) and code.agency_code == "000.00.17.H26"
    with pytest.raises(InvalidDossierCode) as refused:
        parse_dossier_code("000.00.17.H26-260125-0007")
    assert "25 January 2026" in refused.value.message_en
    assert "25/01/2026" in refused.value.message_vi


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "missing"),
        ("H40.123.45-260126", "three parts"),
        ("H40.123.45-260126-01-0042", "three parts"),
        ("40H.123.45-260126-010042", "agency part"),
        ("H4.123.45-260126-010042", "agency part"),
        ("H40.12.45-260126-010042", "agency part"),
        ("H40.123.4-260126-010042", "agency part"),
        ("H40.123.45-26012-010042", "date part"),
        ("H40.123.45-2601AB-010042", "date part"),
        ("H40.123.45-260230-010042", "not a real date"),
        ("H40.123.45-261301-010042", "not a real date"),
        ("H40.123.45-260126-01042", "at least 4"),
        ("H40.123.45-260126-AB0042", "at least 4"),
        ("H40.123.45-260126-0100421234567", "at least 4"),
        ("H40.123.45 -260126-010042", "not in the form"),
        ("H40.123.45-260126-０１００４２", "at least 4"),  # full-width digits
        ("H40.123.45-260126-010042;DROP", "at least 4"),
    ],
)
def test_malformed_codes_are_refused_with_a_reason(text, reason):
    with pytest.raises(InvalidDossierCode) as refused:
        parse_dossier_code(text)
    assert reason in refused.value.message_en
    assert refused.value.message_vi  # and in Vietnamese


def test_codes_in_a_comment_are_masked_in_either_format_and_any_case():
    text = (
        "Hồ sơ h40.123.45-260126-010042 và 000.00.17.H26-250115-0007 bị chậm; "
        "phí 150.000 đồng, ngày 26-01-2026, phòng 2.05."
    )
    assert mask_dossier_codes(text) == (
        "Hồ sơ [mã hồ sơ] và [mã hồ sơ] bị chậm; phí 150.000 đồng, ngày 26-01-2026, phòng 2.05."
    )
