"""Permission-matrix entries for the REST API of trials, sites, subjects (issue 4);
merged into MATRIX by test_permission_matrix.

Columns: admin  crm  cra  monitor  sponsor  outsider  anon (see test_permission_matrix).
"""

from tests.api.test_permission_matrix import Route, api, page, row  # noqa: F401

# fmt: off
ENTRIES: dict[str, Route] = {
}
# fmt: on
