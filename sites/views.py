from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render

from croportal.exceptions import ApplicationError
from croportal.forms import form_error_from
from sites import services
from sites.forms import SiteForm
from sites.selectors import site_can_change, sites_visible_to, sites_with_counts


@login_required
def site_detail(request, pk: int):
    site = get_object_or_404(sites_with_counts(sites_visible_to(user=request.user)), pk=pk)
    subjects = site.subjects.order_by("number")
    return render(request, "sites/site_detail.html", {
        "site": site, "subjects": subjects,
        "can_change": site_can_change(user=request.user, site=site),
    })


@login_required
def site_edit(request, pk: int):
    site = get_object_or_404(sites_visible_to(user=request.user).select_related("trial"), pk=pk)
    if not site_can_change(user=request.user, site=site):
        raise PermissionDenied
    form = SiteForm(request.POST or None, instance=site)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("change_reason")
        try:
            services.site_update(site=site, by=request.user, reason=reason, **data)
        except ApplicationError as error:
            form_error_from(form, error)
        else:
            messages.success(request, "Site updated.")
            return redirect("sites:detail", pk=site.pk)
    return render(request, "sites/site_form.html", {"form": form, "site": site})
