"""The portal's settings, plus the bench's Server-Timing middleware (outermost): the server time
and the query count of each answer, read by bench/pages_bench.py. Never used in production."""

from croportal.settings import *  # noqa: F403
from croportal.settings import MIDDLEWARE

MIDDLEWARE = ["bench.timing.ServerTiming", *MIDDLEWARE]
