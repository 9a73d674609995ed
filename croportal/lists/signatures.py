"""django-tables2 asks `inspect.signature` of a column's render method for every cell it
renders (django_tables2.utils.signature, through call_with_appropriate): a 50-row table of 13
columns builds 650 signatures a page, a sixth of the medical review queue's server time.
A method's signature does not change between cells, so it is computed once per function.
Installed when the list mechanism is imported; the answer is the library's own."""

import django_tables2.utils as tables_utils

_LIBRARY_SIGNATURE = tables_utils.signature
_KNOWN: dict[tuple, tuple] = {}
_MOST = 4096  # render methods and row-attribute callables of every table: a few hundred


def signature(fn):
    func = getattr(fn, "__func__", None)  # a bound method: the same for every instance
    key = (func, True) if func is not None else (fn, False)
    try:
        return _KNOWN[key]
    except KeyError:
        pass
    except TypeError:  # unhashable callable
        return _LIBRARY_SIGNATURE(fn)
    found = _LIBRARY_SIGNATURE(fn)
    if len(_KNOWN) < _MOST:
        _KNOWN[key] = found
    return found


def install() -> None:
    tables_utils.signature = signature
