"""A JSON parser for the API that refuses hostile bodies as a 400 before any code sees them.

DRF's own JSONParser lets through what later turns into a server error: nesting deep enough
to exhaust the recursion limit (in the decoder or in any code walking the data), NUL
characters (PostgreSQL text cannot hold them), lone surrogates (not encodable as UTF-8, so
the database driver fails), NaN / Infinity (not JSON at all) and 1e400 (read as infinity).
Integers beyond Python's 4300-digit conversion limit raise ValueError in the decoder and are
refused here too, with a message that says so.
"""

import codecs
import json
import math
import re
import sys

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32  # the deepest legitimate body (an AE follow-up's changes) is 3 levels deep
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def text_refusal(text: str) -> str | None:
    """Why a string (a value or a key) cannot be stored, or None when it can."""
    if "\x00" in text:
        return "Text must not contain NUL characters (U+0000)."
    if LONE_SURROGATE.search(text):
        return ("Text must not contain unpaired surrogates (U+D800 to U+DFFF): it is not "
                "valid Unicode.")
    return None


def check_json_document(document: object, *, max_depth: int = MAX_DEPTH) -> str | None:
    """Why a decoded JSON document is refused (too deep, NUL, lone surrogate), or None.
    Walks the document with an explicit stack, so that no depth can exhaust the recursion."""
    stack: list[tuple[object, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if reason := text_refusal(value):
                return reason
        elif isinstance(value, dict | list):
            if depth > max_depth:
                return f"JSON nested deeper than {max_depth} levels is not accepted."
            if isinstance(value, dict):
                for key, item in value.items():
                    if reason := text_refusal(key):
                        return reason
                    stack.append((item, depth + 1))
            else:
                stack.extend((item, depth + 1) for item in value)
    return None


def json_loads_checked(text: str, *, max_depth: int = MAX_DEPTH) -> object:
    """Decode JSON text, raising ValueError with a message fit for the sender when it is
    malformed, nested too deep, or carries text or numbers the portal cannot store."""
    try:
        document = json.loads(text, parse_constant=_constant_refused, parse_float=_finite)
    except RecursionError:
        raise ValueError(f"JSON nested deeper than {max_depth} levels is not accepted.") from None
    except json.JSONDecodeError:
        raise
    except ValueError as error:  # Python's int-from-string limit (CVE-2020-10735)
        if "integer string conversion" not in str(error):
            raise
        raise ValueError(
            f"Numbers of more than {sys.get_int_max_str_digits()} digits are not accepted."
        ) from None
    if reason := check_json_document(document, max_depth=max_depth):
        raise ValueError(reason)
    return document


def _constant_refused(name: str):
    raise ValueError(f"{name} is not a JSON number.")


def _finite(literal: str) -> float:
    value = float(literal)
    if math.isinf(value):  # 1e400: no database column holds it
        raise ValueError(f"The number {literal[:20]} is too large.")
    return value


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, refusing (400) what json_loads_checked refuses."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
        except UnicodeDecodeError:
            raise ParseError(f"JSON parse error - the body is not {encoding} text.") from None
        try:
            return json_loads_checked(text)
        except ValueError as error:  # JSONDecodeError, too many digits, and the checks above
            raise ParseError(f"JSON parse error - {error}") from None
