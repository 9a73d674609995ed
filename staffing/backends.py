"""The password backend, reading a signed-in person with their organisation (every page asks
whether they belong to a sponsor: one query fewer on each)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class PortalModelBackend(ModelBackend):
    def get_user(self, user_id):
        user = (get_user_model()._default_manager.select_related("organisation")
                .filter(pk=user_id).first())
        return user if user is not None and self.user_can_authenticate(user) else None
