"""camt.053 statements: the sample day is read, and hostile or broken files are refused."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from salter.payments import camt053
from salter.payments.camt053 import StatementEntry, StatementError, parse_statement
from salter.payments.references import parse_case_reference

DATA = Path(__file__).parent / "data"
SAMPLE = (DATA / "camt053_v02.xml").read_bytes()
ACCOUNT = "840000000123474338"
MARCH_3 = dt.date(2025, 3, 3)

V08 = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>M1</MsgId><CreDtTm>2025-03-04T06:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>S1</Id>
      <Acct><Id><IBAN>RS35840000000123474338</IBAN></Id></Acct>
      <Ntry>
        <Amt Ccy="RSD">2450.50</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><DtTm>2025-03-03T14:25:00+01:00</DtTm></BookgDt>
        <AcctSvcrRef>IPS-9912</AcctSvcrRef>
        <NtryDtls>
          <TxDtls>
            <Refs><EndToEndId>E2E-9912</EndToEndId></Refs>
            <Amt Ccy="RSD">2450.50</Amt>
            <CdtDbtInd>CRDT</CdtDbtInd>
            <RltdPties><Dbtr><Pty><Nm>Ана Анић</Nm></Pty></Dbtr></RltdPties>
            <RmtInf><Strd><CdtrRefInf><Ref>9761-103-0000001044</Ref></CdtrRefInf></Strd></RmtInf>
          </TxDtls>
        </NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="RSD">99.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        <Sts><Cd>INFO</Cd></Sts>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
"""


def statement(entry: str, namespace: str = "camt.053.001.02") -> bytes:
    """A one-entry statement around ``entry``."""
    return (
        f'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:{namespace}"><BkToCstmrStmt>'
        f"<Stmt><Id>T</Id><Acct><Id><Othr><Id>{ACCOUNT}</Id></Othr></Id></Acct>{entry}</Stmt>"
        "</BkToCstmrStmt></Document>"
    ).encode()


GOOD_ENTRY = (
    '<Ntry><Amt Ccy="RSD">10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
    "<BookgDt><Dt>2025-03-03</Dt></BookgDt></Ntry>"
)


def test_the_sample_day() -> None:
    entries = parse_statement(SAMPLE)
    assert entries[0] == StatementEntry(
        amount=Decimal("1500.00"),
        currency="RSD",
        booked_on=MARCH_3,
        credit=True,
        reference="70-103-0000001041",
        debtor_name="Петар Петровић",
        end_to_end_id="E2E-160-250303-0042",
        entry_ref="0001",
        account=ACCOUNT,
    )
    assert [(e.entry_ref, e.amount, e.credit, e.reversal) for e in entries] == [
        ("0001", Decimal("1500.00"), True, False),
        ("0002", Decimal("830.00"), True, False),
        ("0003", Decimal("1500.00"), True, False),  # a batch of two transactions …
        ("0003", Decimal("800.00"), True, False),  # … one entry each
        ("0004", Decimal("240.00"), False, False),  # the bank's fee, no details
        ("0005", Decimal("1500.00"), False, True),  # a reversal
    ]  # and the pending entry 0006 is left out
    assert {e.currency for e in entries} == {"RSD"}
    assert {e.booked_on for e in entries} == {MARCH_3}


def test_references_and_names_of_the_sample() -> None:
    entries = parse_statement(SAMPLE)
    assert [e.reference for e in entries] == [
        "70-103-0000001041",
        "Taksa za uverenje poziv na broj 67-103-0000001042",  # unstructured, as the payer wrote
        "64-103-0000001043",
        "6110300000010 44",
        "",
        "58-103-0000001045",
    ]
    assert [parse_case_reference(e.reference) for e in entries] == [
        1041, None, 1043, 1044, None, 1045
    ]  # fmt: skip
    assert entries[1].end_to_end_id == ""  # NOTPROVIDED
    assert entries[2].debtor_name == "Đorđe Šćepanović"
    assert entries[3].debtor_name == "ГРАЂЕВИНАР Д.О.О. НИШ"


def test_version_08_places() -> None:
    (entry,) = parse_statement(V08.encode())
    assert entry == StatementEntry(
        amount=Decimal("2450.50"),
        currency="RSD",
        booked_on=MARCH_3,
        credit=True,
        reference="9761-103-0000001044",
        debtor_name="Ана Анић",
        end_to_end_id="E2E-9912",
        entry_ref="IPS-9912",
        account="RS35840000000123474338",
    )


def test_other_encodings_are_read() -> None:
    latin2 = V08.replace("UTF-8", "ISO-8859-2").replace("Ана Анић", "Šćepan Đurić")
    (entry,) = parse_statement(latin2.encode("iso-8859-2"))
    assert entry.debtor_name == "Šćepan Đurić"
    (entry,) = parse_statement(V08.replace("UTF-8", "UTF-16").encode("utf-16"))
    assert entry.debtor_name == "Ана Анић"


def test_malformed_xml_is_refused_with_its_place() -> None:
    with pytest.raises(StatementError, match=r"not well-formed XML: .*line \d+"):
        parse_statement(SAMPLE[: len(SAMPLE) // 2])
    with pytest.raises(StatementError, match="not well-formed XML"):
        parse_statement(b"")
    with pytest.raises(StatementError, match="not well-formed XML"):
        parse_statement(b"Datum;Iznos;Poziv na broj\n2025-03-03;1500,00;70-103-0000001041\n")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE Document [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt>
<Id>&lol9;</Id></Stmt></BkToCstmrStmt></Document>
"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt>
<Id>&secret;</Id></Stmt></BkToCstmrStmt></Document>
"""
EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE Document SYSTEM "http://127.0.0.1:9/camt.dtd">
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"/>
"""


@pytest.mark.parametrize(
    "hostile",
    [
        BILLION_LAUGHS,
        EXTERNAL_ENTITY,
        EXTERNAL_DTD,
        BILLION_LAUGHS.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="UTF-16"?>')
        .decode()
        .encode("utf-16"),  # a byte scan for "<!DOCTYPE" would miss this one
    ],
    ids=["billion-laughs", "external-entity", "external-dtd", "billion-laughs-utf16"],
)
def test_a_document_type_declaration_is_refused(hostile: bytes) -> None:
    with pytest.raises(StatementError, match="declares a document type"):
        parse_statement(hostile)


def test_an_oversized_file_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(camt053, "MAX_BYTES", 1024)
    with pytest.raises(StatementError, match="larger than"):
        parse_statement(SAMPLE)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (statement(GOOD_ENTRY, "camt.054.001.02"), "not a camt.053 statement"),
        (b"<Statement/>", "not a camt.053 statement"),
        (b"<Document><Other/></Document>", "BkToCstmrStmt is missing"),
        (statement(GOOD_ENTRY.replace("10.00", "1.500,00")), "entry 1: '1.500,00' is not an"),
        (statement(GOOD_ENTRY.replace("10.00", "-10.00")), "is not an amount"),
        (statement(GOOD_ENTRY.replace(' Ccy="RSD"', "")), "no currency code"),
        (statement(GOOD_ENTRY.replace("CRDT", "CR")), "CdtDbtInd is 'CR'"),
        (statement(GOOD_ENTRY.replace("<Sts>BOOK</Sts>", "")), "the status (Sts) is missing"),
        (statement(GOOD_ENTRY.replace("2025-03-03", "03.03.2025")), "booking date (BookgDt)"),
        (statement(GOOD_ENTRY.replace("2025-03-03", "2025-02-30")), "2025-02-30 is not a date"),
        (statement(GOOD_ENTRY.replace('<Amt Ccy="RSD">10.00</Amt>', "")), "amount is missing"),
        (
            statement(
                GOOD_ENTRY.replace("</Ntry>", "<NtryDtls><TxDtls/><TxDtls/></NtryDtls></Ntry>")
            ),
            "transaction 1: a batched transaction has no amount",
        ),
    ],
)
def test_unsound_statements_say_where(data: bytes, message: str) -> None:
    with pytest.raises(StatementError) as refused:
        parse_statement(data)
    assert message in str(refused.value)


def test_a_lone_transaction_takes_the_entry_amount() -> None:
    data = statement(GOOD_ENTRY.replace("</Ntry>", "<NtryDtls><TxDtls/></NtryDtls></Ntry>"))
    (entry,) = parse_statement(data)
    assert (entry.amount, entry.reference, entry.debtor_name) == (Decimal("10.00"), "", "")
