from .audit import AuditAction, AuditEvent
from .ballots import Ballot, RoundKey
from .campaigns import Campaign, CampaignStatus
from .dialogue import Agreement, AgreementOwner, AgreementStatus, GuideFormat, MeetingGuide
from .imports import ChartUpload
from .jobs import ScheduledJob
from .limits import RateLimitHit
from .live import LiveParticipation
from .mail import InvitationMail, MailStatus, ReminderBatch, ReminderStatus, ReportNotice
from .organisation import Organisation, OrganisationAdmin, Person, Team, TeamMembership, User
from .rendered import Rendered, RenderGeneration
from .responses import Comment, RatingCounter
from .results import (
    ItemStatistic,
    ParticipationFloor,
    RollupParticipation,
    RollupStatistic,
    RollupTheme,
    RoundSummary,
    ThemeStatistic,
)
from .signin import SignInLink, SignInRequest
from .survey import AnswerToken, Instrument, Invitation, Item, Round

__all__ = [
    "Agreement",
    "AgreementOwner",
    "AgreementStatus",
    "AnswerToken",
    "AuditAction",
    "AuditEvent",
    "Ballot",
    "Campaign",
    "CampaignStatus",
    "ChartUpload",
    "Comment",
    "GuideFormat",
    "Instrument",
    "Invitation",
    "InvitationMail",
    "Item",
    "ItemStatistic",
    "LiveParticipation",
    "MailStatus",
    "MeetingGuide",
    "Organisation",
    "OrganisationAdmin",
    "ParticipationFloor",
    "Person",
    "RateLimitHit",
    "RatingCounter",
    "ReminderBatch",
    "ReminderStatus",
    "RenderGeneration",
    "Rendered",
    "ReportNotice",
    "RollupParticipation",
    "RollupStatistic",
    "RollupTheme",
    "Round",
    "RoundKey",
    "RoundSummary",
    "ScheduledJob",
    "SignInLink",
    "SignInRequest",
    "Team",
    "TeamMembership",
    "ThemeStatistic",
    "User",
]
