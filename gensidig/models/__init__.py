from .campaigns import Campaign, CampaignStatus
from .mail import InvitationMail, MailStatus, ReminderBatch
from .organisation import Organisation, OrganisationAdmin, Person, Team, TeamMembership, User
from .responses import Comment, RatingCounter
from .results import ItemStatistic, RoundSummary, ThemeStatistic
from .survey import Instrument, Invitation, Item, Round

__all__ = [
    "Campaign",
    "CampaignStatus",
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
    "Round",
    "RoundSummary",
    "Team",
    "TeamMembership",
    "ThemeStatistic",
    "User",
]
