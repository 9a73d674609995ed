"""Permission-matrix entries for the ClinicalTrials.gov import pages;
merged into MATRIX by test_permission_matrix.

Columns: admin  crm  cra  monitor  sponsor  outsider  anon (see test_permission_matrix).
Only users who may create trials import (in the world only the admin holds trials.add_trial);
a job is seen by its uploader alone.
"""

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.api.test_permission_matrix import Route, page, row


def malformed_file(w, target) -> dict:
    return {"file": SimpleUploadedFile("broken.json", b"{not json", "application/json")}


# fmt: off
ENTRIES: dict[str, Route] = {
    "ctgov:upload": page(
        row("GET", None,                                 "200  403  403  403  403  403  L"),
        # A malformed file: the form is shown again with the error, nothing is created.
        row("POST", None, malformed_file,                "200  403  403  403  403  403  L"),
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
