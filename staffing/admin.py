from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils import timezone

from croportal.admin import AuditedAdmin, AuditedAdminForm, ReadOnlyAdmin
from croportal.exceptions import ApplicationError
from staffing import services, tokens
from staffing.models import (
    ApiToken,
    Assignment,
    Organisation,
    Signature,
    SignatureInvalidation,
    SigningAttempts,
    SigningLock,
    TrainingRecord,
    User,
)

UNLOCK_REASON = "Signing unlocked by an administrator in the admin"


def _unlock(request, locks) -> None:
    released = 0
    for lock in locks:
        services.signing_lock_release(lock=lock, by=request.user, reason=UNLOCK_REASON)
        released += 1
    messages.success(request, f"Signing unlocked for {released} account(s).")


def _revoke(request, api_tokens) -> None:
    revoked = sum(tokens.api_token_revoke(token=token, by=request.user) for token in api_tokens)
    messages.success(request, f"{revoked} API token(s) revoked.")


class ApiTokenInline(admin.TabularInline):
    """The account's API tokens (revoke them from the API token list)."""

    model = ApiToken
    fk_name = "user"
    fields = readonly_fields = ("key_prefix", "created_at", "last_used_at", "expires_at",
                                "revoked_at")
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *BaseUserAdmin.fieldsets,
        ("Organisation", {"fields": ("organisation", "timezone", "capacity")}),
    )
    list_display = ("username", "first_name", "last_name", "organisation", "is_active")
    list_select_related = ("organisation",)
    inlines = (ApiTokenInline,)
    actions = ("unlock_signing", "revoke_api_tokens")

    @admin.action(description="Unlock signing (after repeated wrong passwords)")
    def unlock_signing(self, request, queryset):
        _unlock(request, SigningLock.objects.filter(user__in=queryset, unlocked_at__isnull=True))

    @admin.action(description="Revoke every API token")
    def revoke_api_tokens(self, request, queryset):
        _revoke(request, ApiToken.objects.filter(user__in=queryset, revoked_at__isnull=True))


@admin.register(SigningLock)
class SigningLockAdmin(ReadOnlyAdmin):
    """Who was locked out of signing, when, at which record; who unlocked it (11.300(d))."""

    list_display = ("user", "locked_at", "failures", "record_label", "unlocked_at",
                    "unlocked_by")
    list_select_related = ("user", "unlocked_by")
    list_filter = (("unlocked_at", admin.EmptyFieldListFilter),)
    actions = ("unlock",)

    @admin.action(description="Unlock signing for the selected accounts")
    def unlock(self, request, queryset):
        _unlock(request, queryset.filter(unlocked_at__isnull=True))


@admin.register(SigningAttempts)
class SigningAttemptsAdmin(ReadOnlyAdmin):
    """Consecutive wrong passwords per account (reset by a signature or an unlock)."""

    list_display = ("user", "consecutive_failures", "last_failure_at")
    list_select_related = ("user",)


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Issued by `POST /api/v1/auth/token/` only; revoked here or by the API's log-out."""

    list_display = ("user", "key_prefix", "created_at", "last_used_at", "expires_at",
                    "revoked_at", "state")
    list_select_related = ("user",)
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("user__username",)
    exclude = ("key_hash", "auth_fingerprint")
    actions = ("revoke",)

    @admin.display(description="state")
    def state(self, token: ApiToken) -> str:
        return tokens.api_token_refusal(token, now=timezone.now()) or "live"

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        _revoke(request, queryset.filter(revoked_at__isnull=True))


@admin.register(SignatureInvalidation)
class SignatureInvalidationAdmin(ReadOnlyAdmin):
    list_display = ("signature", "invalidated_at", "changed_by", "change_reason")
    list_select_related = ("signature", "changed_by")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind")


@admin.register(Assignment)
class AssignmentAdmin(AuditedAdmin):
    """Assignments start and end only through the services, which grant and revoke access."""

    list_display = ("user", "trial", "site", "role", "start_date", "end_date")
    list_select_related = ("user", "trial", "site")
    list_filter = ("role",)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("user", "trial", "site", "role", "start_date", "allocation")

    def save_model(self, request, obj, form, change):
        if change:
            services.assignment_end(assignment=obj, end_date=obj.end_date, by=request.user,
                                    reason=form.cleaned_data["change_reason"])
            return
        services.assignment_start(
            user=obj.user, trial=obj.trial, site=obj.site, role=obj.role, by=request.user,
            start_date=obj.start_date, end_date=obj.end_date, allocation=obj.allocation,
        )


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = ("printed_name", "meaning", "signed_at", "content_type", "object_id")


EDITABLE = tuple(sorted(services.TRAINING_EDITABLE_FIELDS))


class TrainingRecordAdminForm(AuditedAdminForm):
    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        user = cleaned.get("user") or self.instance.user
        candidate = TrainingRecord(user=user, **{name: cleaned.get(name) for name in EDITABLE})
        if candidate.expires_on is None:
            candidate.expires_on = services.training_default_expiry(
                kind=candidate.kind, completed_on=candidate.completed_on)
        try:
            services.training_record_check(record=candidate)
        except ApplicationError as error:
            self.add_error(error.field if error.field in self.fields else None, error.message)
        return cleaned


@admin.register(TrainingRecord)
class TrainingRecordAdmin(AuditedAdmin):
    """Through the services, so that the expiry reminders follow every change."""

    form = TrainingRecordAdminForm
    list_display = ("user", "kind", "title", "completed_on", "expires_on")
    list_select_related = ("user",)
    list_filter = ("kind",)

    def get_readonly_fields(self, request, obj=None):
        return ("user",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in EDITABLE}
        if change:
            # The form has already copied its values onto obj: update the stored row.
            record = TrainingRecord.objects.get(pk=obj.pk)
            services.training_record_update(record=record, by=request.user,
                                            reason=form.cleaned_data["change_reason"], **fields)
            return
        saved = services.training_record_create(user=obj.user, by=request.user, **fields)
        obj.pk = saved.pk
