from .campaigns import Campaign, CampaignStatus
from .dialogue import Agreement, AgreementOwner, AgreementStatus, GuideFormat, MeetingGuide
from .imports import ChartUpload
from .mail import InvitationMail, MailStatus, ReminderBatch
from .organisation import Organisation, OrganisationAdmin, Person, Team, TeamMembership, User
from .responses import Comment, RatingCounter
from .results import ItemStatistic, RollupParticipation, RollupStatistic, RollupTheme, RoundSummary, ThemeStatistic
from .signin import SignInLink
from .survey import Instrument, Invitation, Item, Round

__all__ = [
    "Agreement",
    "AgreementOwner",
    "AgreementStatus",
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
    "MailStatus",
    "MeetingGuide",
    "Organisation",
    "OrganisationAdmin",
    "Person",
    "RatingCounter",
    "ReminderBatch",
    "RollupParticipation",
    "RollupStatistic",
    "RollupTheme",
    "Round",
    "RoundSummary",
    "SignInLink",
    "Team",
    "TeamMembership",
    "ThemeStatistic",
    "User",
]
