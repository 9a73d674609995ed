"""EXPLAIN with sequential scans and sorts priced out (inside the test's transaction): a plan
that still reads every row or sorts has no index to use instead."""

from django.db import connection


def plan_without_scans_or_sorts(queryset) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
    return queryset.explain()
