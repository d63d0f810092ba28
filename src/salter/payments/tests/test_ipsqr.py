"""NBS IPS QR payloads: built, checked, parsed back, and read from the image by a real reader."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from salter.core.accounts import make_account
from salter.payments import ipsqr
from salter.payments.ipsqr import IpsError, IpsPayment, parse, payload, qr_code, qr_png, qr_svg
from salter.payments.references import case_reference, model97

FEE = IpsPayment(
    account="840-742221843-57",
    payee="Буџет Републике Србије\nРепубличка административна такса",
    amount=Decimal("1500"),
    payment_code="253",
    payer="Petar Petrović\nKneza Miloša 12, Beograd",
    purpose="Републичка административна такса",
    reference=case_reference("103", 1041),
)
FEE_PAYLOAD = (
    "K:PR|V:01|C:1|R:840000074222184357"
    "|N:Буџет Републике Србије\r\nРепубличка административна такса"
    "|I:RSD1500,00"
    "|P:Petar Petrović\r\nKneza Miloša 12, Beograd"
    "|SF:253"
    "|S:Републичка административна такса"
    "|RO:97701030000001041"
)
# The sample payload of the NBS IPS QR specification, as it is widely reproduced (LF lines).
NBS_SAMPLE = (
    "K:PR|V:01|C:1|R:845000000040484987|N:JP EPS BEOGRAD\nBALKANSKA 13|I:RSD3596,13"
    "|P:MRĐO MAČKATOVIĆ\nŽUPSKA 13\nBEOGRAD 6|SF:189|S:UPLATA PO RAČUNU ZA EL. ENERGIJU"
    "|RO:97163220000111111111000"
)

LATIN = "abcčćdđefghijklmnoprsštuvzžABCČĆDĐEFGHIJKLMNOPRSŠTUVZŽqwxyQWXY"
CYRILLIC = "абвгдђежзијклљмнњопрстћуфхцчџшАБВГДЂЕЖЗИЈКЛЉМНЊОПРСТЋУФХЦЧЏШ"
OTHER = "0123456789 .,-/()\"'&:;+!?@#%*"
ALPHABET = LATIN + CYRILLIC + OTHER


def one_line(max_size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=ALPHABET, min_size=1, max_size=max_size).filter(
        lambda line: line == line.strip()
    )


names = (
    st.lists(one_line(30), min_size=1, max_size=3)
    .map("\n".join)
    .filter(lambda name: len(name.replace("\n", "\r\n")) <= ipsqr.MAX_NAME)
)


@st.composite
def payments(draw: st.DrawFn) -> IpsPayment:
    account = make_account(
        draw(st.from_regex(r"[0-9]{3}", fullmatch=True)),
        draw(st.from_regex(r"[0-9]{1,13}", fullmatch=True)),
    )
    reference = draw(
        st.one_of(
            st.just(""),
            st.from_regex(r"[0-9]{1,20}", fullmatch=True).map(model97),
        )
    )
    return IpsPayment(
        account=account,
        payee=draw(names),
        amount=draw(
            st.decimals(
                min_value=Decimal("0.01"),
                max_value=Decimal("999999999999.99"),
                places=2,
                allow_nan=False,
                allow_infinity=False,
            )
        ),
        payment_code=draw(st.from_regex(r"[12][0-9]{2}", fullmatch=True)),
        payer=draw(st.one_of(st.just(""), names)),
        purpose=draw(st.one_of(st.just(""), one_line(ipsqr.MAX_PURPOSE))),
        reference=reference,
    )


def test_a_fee_slip_payload_exactly() -> None:
    assert payload(FEE) == FEE_PAYLOAD
    assert parse(FEE_PAYLOAD) == dataclasses.replace(
        FEE, account="840000074222184357", reference="701030000001041"
    )


def test_optional_tags_without_a_value_are_left_out() -> None:
    bare = IpsPayment(account="840-742221843-57", payee="Opština Surdulica", amount=Decimal("1"))
    assert payload(bare) == (
        "K:PR|V:01|C:1|R:840000074222184357|N:Opština Surdulica|I:RSD1,00|SF:253"
    )


def test_the_nbs_sample_payload_is_read() -> None:
    p = parse(NBS_SAMPLE)
    assert p.account == "845000000040484987"
    assert p.payee == "JP EPS BEOGRAD\nBALKANSKA 13"
    assert p.amount == Decimal("3596.13")
    assert p.payer == "MRĐO MAČKATOVIĆ\nŽUPSKA 13\nBEOGRAD 6"
    assert (p.payment_code, p.model, p.reference) == ("189", "97", "163220000111111111000")
    assert payload(p) == NBS_SAMPLE.replace("\n", "\r\n")


@given(payments())
def test_build_and_parse_round_trip(p: IpsPayment) -> None:
    text = payload(p)
    assert parse(text) == p
    assert payload(parse(text)) == text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"account": "840-742221843-58"}, "R: the control digits"),
        ({"account": "840-742221843"}, "R: An account number has three parts"),
        ({"payee": ""}, "N: line 1 is empty"),
        ({"payee": "A\nB\nC\nD"}, "N: at most 3 lines"),
        ({"payee": "Š" * 71}, "N: at most 70 characters"),
        ({"payee": "Š" * 34 + "\n" + "Š" * 35}, "line breaks (CR LF) included; this has 71"),
        ({"payee": "Opština | Surdulica"}, "N: the character '|'"),
        ({"payee": "Opština\tSurdulica"}, "N: the character '\\t'"),
        ({"payee": " Opština"}, "N: line 1 starts or ends with a space"),
        ({"payer": "Ana\n\nBeograd"}, "P: line 2 is empty"),
        ({"payer": "Ana\u2028Beograd"}, "P: the character"),
        ({"amount": Decimal(0)}, "I: the amount must be more than zero"),
        ({"amount": Decimal("-5")}, "I: the amount must be more than zero"),
        ({"amount": Decimal("10.005")}, "more than two decimal places"),
        ({"amount": Decimal("NaN")}, "finite"),
        ({"amount": Decimal("1000000000000")}, "I: at most 18 characters"),
        ({"amount": Decimal("1E+40")}, "I: at most 18 characters"),
        ({"amount": 1500.0}, "finite Decimal"),
        ({"payment_code": "389"}, "SF: a payment code has 3 digits"),
        ({"payment_code": "25"}, "SF: a payment code has 3 digits"),
        ({"purpose": "x" * 36}, "S: at most 35 characters"),
        ({"purpose": "taksa\nza uverenje"}, "S: the character '\\n'"),
        ({"purpose": "taksa "}, "S: the purpose starts or ends with a space"),
        ({"reference": "71-103-0000001041"}, "not a model-97 reference"),
        ({"reference": "70/103"}, "RO: a reference has only digits"),
        ({"model": "9"}, "RO: a model has two digits"),
        ({"model": "00", "reference": "1" * 24}, "RO: model and reference have at most 25"),
    ],
)
def test_each_rule_is_named_when_broken(change: dict[str, object], message: str) -> None:
    with pytest.raises(IpsError) as refused:
        payload(dataclasses.replace(FEE, **change))  # type: ignore[arg-type]
    assert message in str(refused.value)


def test_other_models_are_not_checked_for_model_97() -> None:
    p = dataclasses.replace(FEE, model="00", reference="2024-15")
    assert payload(p).endswith("|RO:00202415")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        (" " + FEE_PAYLOAD, "Nothing may come before the first tag"),
        (FEE_PAYLOAD + "\n", "Nothing may come before the first tag"),
        (FEE_PAYLOAD + "|", "Nothing may come before the first tag"),
        (FEE_PAYLOAD.replace("|SF:253", "|SF:253|S:"), "tag S is empty"),
        (FEE_PAYLOAD.replace("|SF:253", "|SF253"), "has no ':' after its tag"),
        (FEE_PAYLOAD.replace("|SF:253", "|SF:253|SF:253"), "tag SF appears twice"),
        (FEE_PAYLOAD.replace("|SF:253", "|SF:253|M:5499"), "tag 'M' is not one"),
        (FEE_PAYLOAD.replace("|SF:253", ""), "Required tags are missing: SF"),
        (FEE_PAYLOAD.replace("K:PR|", "K:PT|"), "only payment slips (K:PR)"),
        (FEE_PAYLOAD.replace("K:PR|V:01|", "V:01|K:PR|"), "starts with K:PR|V:01|C:1"),
        (FEE_PAYLOAD.replace("|C:1|", "|C:2|"), "starts with K:PR|V:01|C:1"),
        (FEE_PAYLOAD.replace("RSD1500,00", "RSD1500.00"), "decimal comma"),
        (FEE_PAYLOAD.replace("RSD1500,00", "RSD1.500,00"), "decimal comma"),
        (FEE_PAYLOAD.replace("RSD1500,00", "EUR1500,00"), "must be in RSD"),
        (FEE_PAYLOAD.replace("RSD1500,00", "RSD0,00"), "more than zero"),
        (FEE_PAYLOAD.replace("RSD1500,00", "RSD1234567890123,00"), "at most 18 characters"),
        (FEE_PAYLOAD.replace("840000074222184357", "840-742221843-57"), "18 digits"),
        (FEE_PAYLOAD.replace("RO:97701030000001041", "RO:97"), "model without a reference"),
        (FEE_PAYLOAD.replace("RO:97701030000001041", "RO:97711030000001041"), "model-97"),
    ],
)
def test_parse_refuses_what_is_not_a_sound_payload(text: str, message: str) -> None:
    with pytest.raises(IpsError) as refused:
        parse(text)
    assert message in str(refused.value)


def test_amounts_with_fewer_decimals_are_read() -> None:
    assert parse(FEE_PAYLOAD.replace("RSD1500,00", "RSD1500,")).amount == Decimal("1500.00")
    assert parse(FEE_PAYLOAD.replace("RSD1500,00", "RSD1500,5")).amount == Decimal("1500.50")


def test_the_symbol_is_utf8_bytes_at_error_level_m() -> None:
    qr = qr_code(FEE_PAYLOAD)
    assert qr.error == "M"
    assert qr.mode == "byte"
    assert qr.designator == f"{qr.version}-M"


def test_svg_and_png() -> None:
    svg = qr_svg(FEE_PAYLOAD, title="NBS IPS QR")
    assert svg.startswith("<svg") and "<title>NBS IPS QR</title>" in svg
    assert qr_png(FEE_PAYLOAD).startswith(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(IpsError):
        qr_png(FEE_PAYLOAD + "|")


ZBARIMG = shutil.which("zbarimg")
needs_zbar = pytest.mark.needs_tools("zbarimg", package="Debian: zbar-tools")


def read_with_zbar(png: bytes) -> str:
    """The text a real QR reader finds in the image.

    ``-Sbinary`` makes zbar hand back the symbol's bytes as they are: without it zbar guesses
    the character set and may take short UTF-8 text for Shift JIS ("Čigra" → "ﾄ景gra").
    ``--nodbus`` keeps it from looking for a D-Bus that a container does not have.
    """
    assert ZBARIMG is not None
    with tempfile.TemporaryDirectory() as folder:
        image = Path(folder) / "slip.png"
        image.write_bytes(png)
        done = subprocess.run(
            [ZBARIMG, "--raw", "-q", "-Sbinary", "--nodbus", str(image)],
            capture_output=True,
            check=True,
            timeout=30,
        )
    return done.stdout.decode("utf-8").removesuffix("\n")


@needs_zbar
def test_zbar_reads_the_fee_slip() -> None:
    text = read_with_zbar(qr_png(FEE_PAYLOAD))
    assert text == FEE_PAYLOAD
    assert parse(text) == parse(FEE_PAYLOAD)


@needs_zbar
@settings(max_examples=25, deadline=None)
@given(payments())
@example(IpsPayment(account="840000074222184357", payee="Чигра", amount=Decimal("1.00")))
@example(IpsPayment(account="840000074222184357", payee="Čigra", amount=Decimal("1.00")))
def test_zbar_reads_back_every_payment(p: IpsPayment) -> None:
    text = payload(p)
    read = read_with_zbar(qr_png(text, scale=4))
    assert read == text
    assert parse(read) == p
