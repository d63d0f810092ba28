"""The e-mailbox (eSanduče), delivery with evidence, consents and the notification outbox.

* :class:`Mailbox` — one per citizen and one per business; a business's mailbox is read by the
  people holding a mandate for it.
* :class:`Message` — a letter in a mailbox: from an authority (a decision delivered from a case,
  a notice) or from the mailbox's owner to an authority (a supplement, an appeal, a new letter),
  registered in the authority's registry book.
* :class:`Delivery` — the legal delivery of an authority's document, a state machine
  (submitted → delivered to the mailbox → notified → opened → accepted or refused; deemed
  delivered when left unopened for the legal period) with one :class:`DeliveryEvent` per step,
  each hash-chained to the one before and sealed by the platform.
* :class:`Consent` — consent to electronic communication (ZUP art. 57), given and revoked.
* :class:`Notification` — the outbox: written in the same transaction as the change that causes
  it, sent by ``salter notify_worker`` with retries and backoff.
* :class:`NotificationPreference` — what a user chose to receive, per kind and channel.
* :class:`StoredMessage` — what the development SMS and push adapters "sent".
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from salter.authorities.models import Authority


class Mailbox(models.Model):
    class Kind(models.TextChoices):
        PERSON = "person", _("Citizen")
        BUSINESS = "business", _("Business")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="mailbox",
    )
    company = models.OneToOneField(
        "identity.Company", null=True, blank=True, on_delete=models.PROTECT, related_name="mailbox"
    )
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = _("e-mailbox")
        verbose_name_plural = _("e-mailboxes")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="person", user__isnull=False, company__isnull=True)
                    | Q(kind="business", user__isnull=True, company__isnull=False)
                ),
                name="mailbox_one_owner",
            )
        ]

    def __str__(self) -> str:
        return f"mailbox {self.pk}"


class Consent(models.Model):
    """Consent to receive an authority's documents electronically (ZUP art. 57). An ``authority``
    of null is consent for every authority. Revoking keeps the row: the record says when."""

    mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="consents")
    authority = models.ForeignKey(
        Authority, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    given_at = models.DateTimeField(_("given at"))
    given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("consent to electronic communication")
        indexes = [models.Index(fields=["mailbox", "revoked_at"], name="consent_mailbox_idx")]

    def __str__(self) -> str:
        return f"consent {self.pk}"


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Received")  # from an authority into the mailbox
        OUTBOUND = "outbound", _("Sent")  # from the mailbox's owner to an authority

    mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, related_name="messages")
    authority = models.ForeignKey(Authority, on_delete=models.PROTECT, related_name="messages")
    direction = models.CharField(max_length=10, choices=Direction.choices)
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="messages"
    )
    # The registry entry: the act delivered, or the letter as registered by the authority (its
    # versions are the files the sender attached).
    document = models.ForeignKey(
        "documents.Document", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("text"), blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)  # first opened in the mailbox
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        indexes = [
            # The mailbox page: newest first, keyset-paginated on (created_at, id).
            models.Index(fields=["mailbox", "-created_at", "-id"], name="message_mailbox_idx"),
            # The unread count of the navigation and the list: only the unread are indexed, so
            # counting them reads the index alone, however long the mailbox's history.
            models.Index(
                fields=["mailbox"], condition=Q(read_at__isnull=True), name="message_unread_idx"
            ),
            models.Index(fields=["authority", "direction", "-created_at"], name="message_auth_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["mailbox", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="message_idempotency_key",
            )
        ]

    def __str__(self) -> str:
        return self.subject


class Delivery(models.Model):
    class State(models.TextChoices):
        SUBMITTED = "submitted", _("Submitted for delivery")
        DELIVERED = "delivered", _("Delivered to the e-mailbox")
        NOTIFIED = "notified", _("Recipient notified")
        OPENED = "opened", _("Opened")
        ACCEPTED = "accepted", _("Accepted")
        REFUSED = "refused", _("Refused")
        DEEMED = "deemed", _("Deemed delivered")
        POSTAL = "postal", _("To be delivered by post")
        POSTAL_DELIVERED = "postal_delivered", _("Delivered by post")

    class Channel(models.TextChoices):
        ELECTRONIC = "electronic", _("E-mailbox")
        POSTAL = "postal", _("Post")

    message = models.OneToOneField(Message, on_delete=models.PROTECT, related_name="delivery")
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="deliveries"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # Why electronic delivery was allowed: "consent" (with the consent's id) or the law named by
    # the service's definition; empty for postal delivery.
    ground = models.CharField(max_length=300, blank=True)
    state = models.CharField(max_length=20, choices=State.choices)
    submitted_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)  # accepted or refused
    # When delivery took legal effect: opened, accepted, refused, deemed, or delivered by post.
    effective_at = models.DateTimeField(null=True, blank=True)
    deemed_on = models.DateField(null=True, blank=True)  # deemed delivered on this day if unopened
    last_seq = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [
            models.Index(
                fields=["deemed_on"],
                condition=Q(effective_at__isnull=True, channel="electronic"),
                name="delivery_deemed_due_idx",
            ),
            # The officials' lists of deliveries not yet in effect ("waiting for the post").
            models.Index(
                fields=["state"],
                condition=Q(effective_at__isnull=True),
                name="delivery_pending_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"delivery {self.pk}"

    @property
    def ground_text(self) -> str:
        """The ground of electronic delivery in words (``ground`` is stored as ``consent:<id>``
        or ``law:<the law>``)."""
        kind, _sep, value = self.ground.partition(":")
        if kind == "consent":
            return str(_("The recipient's consent to electronic communication (ZUP art. 57)"))
        if kind == "law":
            return str(_("The law: %(law)s")) % {"law": value}
        return str(_("none: no consent and no law allowing electronic delivery"))


class DeliveryEvent(models.Model):
    """One step of a delivery, as evidence: the record (``record``, canonical JSON), its SHA-256
    chained to the previous step's, and a detached CMS signature by the platform's e-seal."""

    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField()
    state = models.CharField(max_length=20, choices=Delivery.State.choices)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    record = models.TextField()
    digest = models.CharField(max_length=64)
    signature = models.BinaryField()

    class Meta:
        ordering = ["delivery", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "seq"], name="delivery_event_seq")
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id}/{self.seq} {self.state}"


class Notification(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        SMS = "sms", _("SMS")
        PUSH = "push", _("Push notification")

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Gave up")
        SKIPPED = "skipped", _("Not sent (turned off)")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notifications"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    kind = models.CharField(max_length=40)
    address = models.CharField(max_length=300)  # e-mail address, phone number or device token
    language = models.CharField(max_length=10)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.PROTECT, related_name="notifications"
    )
    # Enqueuing the same thing twice (a retried request, a job run twice) adds nothing.
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    created_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # A worker claims a row by writing its token and a lease; a killed worker's lease runs out
    # and another worker takes the row over.
    claim = models.CharField(max_length=40, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="pending"),
                name="notification_due_idx",
            ),
            models.Index(fields=["recipient", "-created_at"], name="notification_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.address}: {self.subject}"

    @property
    def message_id(self) -> str:
        """The e-mail Message-ID: the same for every attempt, so a receiver can drop a repeat."""
        return f"<notification-{self.pk}@{settings.SALTER_MAIL_DOMAIN}>"


class NotificationPreference(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=40)
    channel = models.CharField(max_length=10, choices=Notification.Channel.choices)
    enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "channel"], name="notification_preference_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}/{self.channel}={self.enabled}"


class StoredMessage(models.Model):
    """What the development SMS and push adapters were asked to send."""

    channel = models.CharField(max_length=10, choices=Notification.Channel.choices)
    address = models.CharField(max_length=300)
    text = models.TextField()
    notification = models.OneToOneField(
        Notification, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.channel} to {self.address}"
