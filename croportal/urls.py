from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from dashboards import urls as dashboard_urls
from dashboards.views import healthz
from sites import urls as site_urls
from staffing import urls as staffing_urls
from trials import urls as trial_urls

# The composition root: each namespace gathers its app's routes and the composed pages
# (dashboards) that belong under it, so no app imports the read side.
trial_routes = [*trial_urls.urlpatterns, *dashboard_urls.trial_routes, *site_urls.trial_routes]
staff_routes = [*staffing_urls.urlpatterns, *dashboard_urls.staff_routes]

urlpatterns = [
    path("", include("dashboards.urls")),
    path("trials/import/", include("trials.ctgov.urls")),
    path("trials/", include((trial_routes, "trials"))),
    path("sites/", include("sites.urls")),
    path("safety/", include("safety.urls")),
    path("staff/", include((staff_routes, "staffing"))),
    path("", include("reminders.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True),
         name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(),
         name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(),
         name="password_change_done"),
    *staffing_urls.account_routes,
    path("healthz/", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("croportal.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as its own response (no inline
    # script under the Content-Security-Policy).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api_docs"),
]

admin.site.site_header = "CRO Portal administration"
