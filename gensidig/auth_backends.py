"""Django's model backend, with the signed-in user read by a prepared query.

Every signed-in request reads its user by id; building that query's SQL cost Django more than the
database took to answer it, so it is compiled once per process (gensidig/db/prepared.py). Signing
in, permissions and `user_can_authenticate` (inactive accounts are refused) are Django's own.
"""

from django.contrib.auth.backends import ModelBackend as DjangoModelBackend
from django.core.exceptions import ValidationError

from gensidig.db.prepared import Prepared
from gensidig.models import User

_user_by_id = Prepared(User, lambda user_id: User._default_manager.filter(pk=user_id), user_id=int)


class ModelBackend(DjangoModelBackend):
    def get_user(self, user_id):
        try:
            user_id = User._meta.pk.to_python(user_id)
        except ValidationError:
            return None
        user = _user_by_id.first(user_id=user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
