"""A site's subjects and documents as full lists (the site page shows their first rows)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404

from croportal.lists import list_page
from sites.lists import SITE_DOCUMENTS, SITE_SUBJECTS
from sites.selectors import sites_visible_to


@login_required
def site_subjects(request, pk: int):
    site = get_object_or_404(sites_visible_to(user=request.user).select_related("trial"), pk=pk)
    return list_page(request, SITE_SUBJECTS, template="sites/site_list.html",
                     context={"site": site, "heading": "Subjects"}, url_kwargs={"pk": pk})


@login_required
def site_documents(request, pk: int):
    site = get_object_or_404(sites_visible_to(user=request.user).select_related("trial"), pk=pk)
    return list_page(request, SITE_DOCUMENTS, template="sites/site_list.html",
                     context={"site": site, "heading": "Essential documents"},
                     url_kwargs={"pk": pk})
