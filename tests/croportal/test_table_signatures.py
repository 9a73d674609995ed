"""The memoised signature of django-tables2's render methods answers what the library's own
does, for methods, functions and lambdas, and is the one django-tables2 calls."""

import django_tables2.utils as tables_utils

import croportal.lists  # noqa: F401  (installs it)
from croportal.lists import signatures


class Column:
    def render(self, value, record):
        return value

    def render_all(self, **kwargs):
        return kwargs


def plain(record, *args, table=None):
    return record


def test_memoised_signatures_are_the_librarys():
    one, other = Column(), Column()
    for fn in (one.render, other.render, one.render_all, plain, lambda value: value):
        assert signatures.signature(fn) == signatures._LIBRARY_SIGNATURE(fn)
        assert signatures.signature(fn) == signatures._LIBRARY_SIGNATURE(fn)  # from memory
    assert signatures.signature(one.render) == (("value", "record"), None)
    assert signatures.signature(one.render_all) == ((), "kwargs")


def test_django_tables2_calls_the_memoised_one():
    assert tables_utils.signature is signatures.signature
    assert tables_utils.call_with_appropriate(Column().render, {"value": 3, "record": None,
                                                               "column": None}) == 3
