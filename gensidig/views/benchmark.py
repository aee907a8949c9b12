"""A baseline for benchmarks/: one row inserted in one transaction, served like every other view.

Only routed when GENSIDIG_BENCHMARK_VIEWS is on. The table is made on first use, so production
schemas never carry it.
"""

import contextlib

from django.db import DatabaseError, connection, transaction
from django.http import HttpResponse
from django.views.decorators.http import require_http_methods

_table_ready = False


@require_http_methods(["GET", "POST"])
def one_row_insert(request):
    global _table_ready
    if request.method == "GET":
        return HttpResponse("ready", content_type="text/plain")
    with connection.cursor() as cursor:
        if not _table_ready:
            # Another worker may create it at the same moment; PostgreSQL reports that race as an error.
            with contextlib.suppress(DatabaseError):
                cursor.execute("CREATE TABLE IF NOT EXISTS gensidig_benchmark_row (id INTEGER, payload VARCHAR(40))")
            _table_ready = True
        with transaction.atomic():
            cursor.execute("INSERT INTO gensidig_benchmark_row (id, payload) VALUES (%s, %s)", [1, "x" * 40])
    return HttpResponse("ok", content_type="text/plain")
