from django.urls import include, path
from rest_framework.routers import DefaultRouter

from dashboards.api import TrialEnrollmentView
from reminders.api import DeadlineViewSet, NotificationViewSet
from safety.api import AdverseEventViewSet, CtcaeTermViewSet, ReportingObligationViewSet
from sites.api import (
    ConsentRecordViewSet,
    EssentialDocumentViewSet,
    SiteConsentVersionViewSet,
    SiteViewSet,
    SubjectViewSet,
)
from staffing.api import (
    AssignmentViewSet,
    AuthTokenView,
    LogoutView,
    MeView,
    TrainingRecordViewSet,
)
from trials.api import (
    AmendmentViewSet,
    ConsentVersionViewSet,
    MilestoneViewSet,
    TrialViewSet,
)

router = DefaultRouter()
router.include_root_view = False
router.register("trials", TrialViewSet, basename="trial")
router.register("sites", SiteViewSet, basename="site")
router.register("subjects", SubjectViewSet, basename="subject")
router.register("milestones", MilestoneViewSet, basename="milestone")
router.register("amendments", AmendmentViewSet, basename="amendment")
router.register("consent-versions", ConsentVersionViewSet, basename="consent-version")
router.register("essential-documents", EssentialDocumentViewSet, basename="essential-document")
router.register("site-consent-versions", SiteConsentVersionViewSet,
                basename="site-consent-version")
router.register("consent-records", ConsentRecordViewSet, basename="consent-record")
router.register("assignments", AssignmentViewSet, basename="assignment")
router.register("adverse-events", AdverseEventViewSet, basename="adverse-event")
router.register("ctcae-terms", CtcaeTermViewSet, basename="ctcae-term")
router.register("reporting-obligations", ReportingObligationViewSet,
                basename="reporting-obligation")
router.register("training-records", TrainingRecordViewSet, basename="training-record")
router.register("deadlines", DeadlineViewSet, basename="deadline")
router.register("notifications", NotificationViewSet, basename="notification")

app_name = "api"
urlpatterns = [
    path("auth/token/", AuthTokenView.as_view(), name="auth_token"),
    path("auth/logout/", LogoutView.as_view(), name="auth_logout"),
    path("me/", MeView.as_view(), name="me"),
    path("trials/<int:pk>/enrollment/", TrialEnrollmentView.as_view(), name="trial-enrollment"),
    path("", include(router.urls)),
]
