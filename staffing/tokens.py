"""API tokens that end: idle and absolute expiry, revocation, and the end of every
token of an account whose password changes or which is deactivated. Only a SHA-256 of the key
is stored, so a copy of the database holds no usable token."""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from staffing.models import ApiToken, User

# Last use is written at most this often: not a write on every request.
LAST_USE_RESOLUTION = timedelta(minutes=1)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_issue(*, user: User) -> str:
    """A new token for the account; returns the key, which is shown once and never stored."""
    key = secrets.token_urlsafe(32)
    now = timezone.now()
    ApiToken.objects.create(
        user=user, key_hash=_digest(key), key_prefix=key[:8],
        auth_fingerprint=user.get_session_auth_hash(), created_at=now, last_used_at=now,
        expires_at=now + timedelta(seconds=settings.API_TOKEN_MAX_AGE_SECONDS),
    )
    return key


def api_token_revoke(*, token: ApiToken, by: User) -> bool:
    """End a token now (log-out, the admin); False when it had already been revoked."""
    return bool(ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=by))


def api_token_refusal(token: ApiToken, *, now) -> str | None:
    """Why the token no longer authenticates, or None while it does."""
    user = token.user
    if token.revoked_at is not None:
        return "The token has been revoked."
    if token.expires_at <= now:
        return "The token has expired; request a new one."
    if token.last_used_at + timedelta(seconds=settings.API_TOKEN_IDLE_SECONDS) <= now:
        return "The token has expired after inactivity; request a new one."
    if not user.is_active:
        return "The account is deactivated."
    # The session auth hash follows the password hash: any password change, through any door
    # (page, admin, `changepassword`, set_password + save), ends the account's tokens.
    if not secrets.compare_digest(token.auth_fingerprint, user.get_session_auth_hash()):
        return "The account's password has changed since the token was issued."
    return None


def api_token_authenticate(*, key: str) -> ApiToken:
    """The live token with this key (its last use noted), or AuthenticationFailed."""
    token = ApiToken.objects.select_related("user").filter(key_hash=_digest(key)).first()
    if token is None:
        raise AuthenticationFailed("Invalid token.")
    now = timezone.now()
    refusal = api_token_refusal(token, now=now)
    if refusal:
        raise AuthenticationFailed(refusal)
    if now - token.last_used_at >= LAST_USE_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk, last_used_at=token.last_used_at).update(
            last_used_at=now)
        token.last_used_at = now
    return token


class ExpiringTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>` against ApiToken (API.md); `request.auth` is the token."""

    def authenticate_credentials(self, key):
        token = api_token_authenticate(key=key)
        return token.user, token
