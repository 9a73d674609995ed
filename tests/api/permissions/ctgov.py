"""Permission matrix of the ClinicalTrials.gov import pages. Columns and rules:
tests/api/permissions/matrix.py.

Only users who may create trials import (in the world only the admin holds trials.add_trial);
a job (target "ctgov_job") is seen by its uploader alone.
"""

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.api.permissions.matrix import Route, page, row


def malformed_file(w, target) -> dict:
    return {"file": SimpleUploadedFile("broken.json", b"{not json", "application/json")}


# fmt: off
# Columns:                                             admin crm  cra  mon  spon out  anon
ROUTES: dict[str, Route] = {
    "ctgov:upload": page(
        row("GET", None,                                 "200  403  403  403  403  403  L"),
        # A malformed file: the form is shown again with the error, nothing is created.
        row("POST", None, malformed_file,                "200  403  403  403  403  403  L"),
    ),
    # Past imports: the uploader's own (every one for an administrator).
    "ctgov:history": page(
        row("GET", None,                                 "200  403  403  403  403  403  L"),
        row("GET", None,                                 "200  403  403  403  403  403  L",
            query="export=csv", note="export"),
        row("GET", None,                                 "200  403  403  403  403  403  L",
            query="state=done&export=xlsx", note="export"),
        row("POST", None,                                "405  405  405  405  405  405  L"),
    ),
    "ctgov:preview": page(
        row("GET", "ctgov_job",                          "200  403  403  403  403  403  L"),
    ),
    # A job still in preview sends its uploader back to the preview.
    "ctgov:progress": page(
        row("GET", "ctgov_job",                          "302  403  403  403  403  403  L"),
    ),
    "ctgov:progress_bar": page(
        row("GET", "ctgov_job",                          "200  403  403  403  403  403  L"),
    ),
}
# fmt: on
