from .organisation import Organisation, Person, Team, TeamMembership, User
from .responses import Comment, RatingCounter
from .results import ItemStatistic, RoundSummary, ThemeStatistic
from .survey import Instrument, Invitation, Item, Round

__all__ = [
    "Comment",
    "Instrument",
    "Invitation",
    "Item",
    "ItemStatistic",
    "Organisation",
    "Person",
    "RatingCounter",
    "Round",
    "RoundSummary",
    "Team",
    "TeamMembership",
    "ThemeStatistic",
    "User",
]
