from .campaigns import Campaign, CampaignStatus
from .imports import ChartUpload
from .mail import InvitationMail, MailStatus, ReminderBatch
from .organisation import Organisation, OrganisationAdmin, Person, Team, TeamMembership, User
from .responses import Comment, RatingCounter
from .results import ItemStatistic, RollupParticipation, RollupStatistic, RollupTheme, RoundSummary, ThemeStatistic
from .signin import SignInLink
from .survey import Instrument, Invitation, Item, Round

__all__ = [
    "Campaign",
    "CampaignStatus",
    "ChartUpload",
    "Comment",
    "Instrument",
    "Invitation",
    "InvitationMail",
    "Item",
    "ItemStatistic",
    "MailStatus",
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
