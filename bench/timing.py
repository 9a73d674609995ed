"""`Server-Timing: app;dur=<ms>, db;dur=<queries>`: the whole Django time of a request (every
middleware inside this one) and how many SQL statements it ran."""

import time

from django.db import connection


class ServerTiming:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        queries = 0

        def count(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connection.execute_wrapper(count):
            response = self.get_response(request)
        elapsed = (time.perf_counter() - started) * 1000
        response["Server-Timing"] = f"app;dur={elapsed:.2f}, db;dur={queries}"
        return response
