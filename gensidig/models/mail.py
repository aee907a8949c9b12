"""The outbox: invitations and reminders, sent so that a crash never sends anyone two copies.

A message is marked as being sent, and that mark committed, before it is handed to the mail
server. After a crash the few messages caught in between are reported as uncertain rather than
sent again: at most once, never twice.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .survey import Invitation, Round


class MailStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Interrupted while being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Could not be delivered")


class InvitationMail(models.Model):
    """The invitation e-mail of one invitation. Everybody gets one, so it tells nothing about answers."""

    invitation = models.OneToOneField(Invitation, on_delete=models.CASCADE, related_name="mail")
    # The invitation's round, kept here too (it never changes): the campaign page counts a
    # campaign's e-mails by status from the (round, status) index alone, without joining tens of
    # thousands of invitations. It says nothing the invitation does not (everybody gets one).
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="+", db_index=False)  # the index below
    status = models.CharField(max_length=10, choices=MailStatus, default=MailStatus.PENDING)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status"]),
            models.Index(fields=["round", "status"], name="invitation_mail_round_status"),
        ]


class ReminderStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    DONE = "done", _("Sent")


class ReminderBatch(models.Model):
    """One reminder of one round, to everyone who had not answered when it was sent.

    It holds counts only. Who was reminded is known only in the memory of the sender while it
    sends, and is never written anywhere: not as a list, not as a mark on an invitation, so
    neither the tables nor their old row versions tell who had not answered by when
    (DESIGN.md 2.1 and 2.5).
    """

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="reminder_batches")
    number = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=ReminderStatus, default=ReminderStatus.PENDING)
    sent = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # A sender stopped while sending this batch (a crash, or the mail server went away): the
    # rest of it is not sent again, because nobody knows who had it already (at most once).
    interrupted = models.BooleanField(default=False)
    # Sent by hand ("send a reminder now"), numbered from 101 apart from the scheduled ones, which
    # go out as planned whatever was sent by hand.
    manual = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint("round", "number", name="reminder_batch_unique")]

    @property
    def done(self) -> bool:
        return self.status == ReminderStatus.DONE


class ReportNotice(models.Model):
    """The e-mail telling one leader that their chief has shared a round's report: one each, ever.

    Queued when the chief shares the report and sent by the sender (`gensidig send-mail`), so a
    mail server that is down never stands in the way of sharing. Stopping the sharing before it
    goes takes it out of the queue; sharing again never queues a second one, as the row stays.
    Every leader invited to the round gets one, answered or not, so the rows tell nothing about
    answers. Its sign-in link is made when it is sent; the token lives only in the message.
    """

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="report_notices")
    person = models.ForeignKey("gensidig.Person", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=MailStatus, default=MailStatus.PENDING)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint("round", "person", name="report_notice_unique")]
        indexes = [models.Index(fields=["status"])]


class CampaignMailCount(models.Model):
    """How many of a campaign's invitation e-mails are in one status: a share of the count.

    Kept by the database itself (triggers, migration 0028) in the statement that changes an
    e-mail, whoever changes it: queueing, a sender's claim and marks, re-queueing, the demo's bulk
    updates, and the cascades that delete a round, a team or a whole campaign. So the campaign
    page reads a few rows instead of one index entry per e-mail. Counts only, like the e-mails
    themselves: everybody invited gets one, so they tell nothing about answers.
    """

    # No foreign key constraint: the rows go with their campaign by a trigger when it is deleted,
    # after its e-mails, whatever order the deletion takes (a constraint would get in its way).
    campaign = models.ForeignKey(
        "gensidig.Campaign", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", db_index=False
    )
    status = models.CharField(max_length=10, choices=MailStatus)
    # A share of the count: on PostgreSQL each connection adds to its own (see 0028), so eight
    # senders marking batches at once seldom wait for one another; the shares are summed when read.
    slot = models.PositiveSmallIntegerField(default=0)
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [
            # Plain columns: the triggers add to a row with INSERT ... ON CONFLICT on exactly these.
            models.UniqueConstraint(fields=["campaign", "status", "slot"], name="campaign_mail_count_unique"),
        ]
