"""The mailbox's reads: keyset pages in one query each, unread counts, the cursor, the
officials' lists, and a delivery's timeline with the check of every seal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from salter.authorities.models import Authority
from salter.cases.models import Case
from salter.identity.models import User
from salter.mailbox import queries
from salter.mailbox.models import DeliveryEvent, Mailbox, Message
from salter.mailbox.services import mailbox_of, send_letter

from .helpers import act, company_with_agent, deliver

pytestmark = pytest.mark.django_db


def fill(box: Mailbox, authority: Authority, n: int, *, read: bool = False) -> list[Message]:
    base = timezone.now() - timedelta(days=1)
    return Message.objects.bulk_create(
        Message(
            mailbox=box,
            authority=authority,
            direction=Message.Direction.INBOUND,
            subject=f"Порука {i}",
            created_at=base + timedelta(seconds=i // 3),  # three share each second
            read_at=base if read else None,
        )
        for i in range(n)
    )


def test_pages_walk_the_mailbox_newest_first_once_each_in_one_query(
    citizen: User, authority: Authority, django_assert_num_queries: Any
) -> None:
    box = mailbox_of(citizen)
    made = fill(box, authority, 47)
    other = User.objects.create_user("o@example.rs", "x" * 20, full_name="О")
    fill(mailbox_of(other), authority, 5)  # someone else's: never on these pages
    expected = sorted(made, key=lambda m: (m.created_at, m.pk), reverse=True)
    seen: list[Message] = []
    before = None
    while True:
        with django_assert_num_queries(1):
            found = queries.page(box, before)
            for message in found.rows:  # authority, delivery and entry come with the row
                assert message.authority.code
                assert queries.words(message.delivery) if hasattr(message, "delivery") else True
                assert message.document is None
        seen += found.rows
        if not found.next_cursor:
            break
        before = queries.decode_cursor(found.next_cursor)
        assert before is not None
    assert [m.pk for m in seen] == [m.pk for m in expected]
    assert len(seen) == 47


def test_a_page_has_its_delivery_and_registry_entry_without_more_queries(
    approved: Case, citizen: User, clerk: User, authority: Authority, django_assert_num_queries: Any
) -> None:
    deliver(approved, clerk)
    send_letter(act(citizen), mailbox_of(citizen), authority, subject="Писмо", body="Текст.")
    box = mailbox_of(citizen)
    with django_assert_num_queries(1):
        rows = queries.page(box).rows
        shown = [
            (m.subject, m.document.registry_number if m.document else "", m.authority.code)
            for m in rows
        ]
        states = [m.delivery.state for m in rows if m.direction == "inbound"]
    assert len(shown) == 2 and states == ["delivered"]


def test_the_cursor_is_opaque_and_refuses_anything_else() -> None:
    message = Message(pk=12, created_at=timezone.now())
    cursor = queries.encode_cursor(message)
    assert queries.decode_cursor(cursor) == (message.created_at, 12)
    for bad in ("", "zz!", "a" * 200, "MjAyNi0xMS0yMg", "bm90IGEgZGF0ZXwx", None):
        assert queries.decode_cursor(bad) is None
    naive = b"2026-11-22T10:00:00|5"
    import base64

    assert queries.decode_cursor(base64.urlsafe_b64encode(naive).decode()) is None


def test_unread_counts(citizen: User, authority: Authority, django_assert_num_queries: Any) -> None:
    box = mailbox_of(citizen)
    fill(box, authority, 4)
    fill(box, authority, 3, read=True)
    company_with_agent(citizen)
    from salter.mailbox.services import mailboxes_for

    boxes = mailboxes_for(citizen)
    assert len(boxes) == 2
    fill(boxes[1], authority, 2)
    with django_assert_num_queries(1):
        assert queries.unread_counts(boxes) == {boxes[0].pk: 4, boxes[1].pk: 2}
    with django_assert_num_queries(1):
        assert queries.unread_of_user(citizen) == 4  # the navigation: own mailbox only
    assert queries.unread_count(boxes[1]) == 2


def test_the_officials_lists_are_the_authority_s_only(
    approved: Case, citizen: User, clerk: User, authority: Authority, system: Any
) -> None:
    from salter.authorities import services as authorities

    other = authorities.create_authority(
        system, code="vranje", name="Град Врање", kind=Authority.Kind.LOCAL_GOVERNMENT
    )
    box = mailbox_of(citizen)
    send_letter(act(citizen), box, authority, subject="Овде", body="Т.")
    send_letter(act(citizen), box, other, subject="Тамо", body="Т.")
    send_letter(act(citizen), box, authority, subject="У предмету", body="Т.", case=approved)
    delivery = deliver(approved, clerk)
    assert [m.subject for m in queries.letters(authority).rows] == ["У предмету", "Овде"]
    assert [m.subject for m in queries.letters(authority, kind="new").rows] == ["Овде"]
    assert [m.subject for m in queries.letters(other).rows] == ["Тамо"]
    found = queries.authority_deliveries(authority).rows
    assert [m.delivery.pk for m in found] == [delivery.pk]
    assert queries.authority_deliveries(authority, state="postal").rows == []
    assert queries.authority_deliveries(authority, state="waiting").rows == found
    assert queries.authority_deliveries(other).rows == []
    assert queries.official_delivery([other.pk], delivery.pk) is None
    assert queries.official_delivery([authority.pk], delivery.pk) == delivery
    assert queries.official_authorities(clerk) == [authority]
    assert [d.pk for d, _words in queries.case_lines(approved)] == [delivery.pk]


def test_the_timeline_checks_every_seal_and_notices_a_changed_record(
    approved: Case, citizen: User, clerk: User
) -> None:
    delivery = deliver(approved, clerk)
    steps = queries.timeline(delivery)
    assert [s.event.state for s in steps] == ["submitted", "delivered"]
    assert all(s.check.valid and s.check.timestamped for s in steps)
    # A record changed in the database after it was sealed is caught (and not remembered).
    event = steps[1].event
    DeliveryEvent.objects.filter(pk=event.pk).update(
        record=event.record.replace('"delivered"', '"opened"')
    )
    changed = queries.timeline(delivery)
    assert changed[0].check.valid
    assert not changed[1].check.intact and not changed[1].check.sealed
