# SPDX-License-Identifier: Apache-2.0
"""Loaded by schemathesis (schemathesis.toml: hooks = ...) before it generates anything.

Works around a CPython 3.11 bug: hypothesis describes the lambdas it filters with by parsing
their source file with ast.parse, and on 3.11 (Debian 12's 3.11.2 included) parsing
schemathesis' large coverage module from deep in a call stack raises
"SystemError: AST constructor recursion depth mismatch", which schemathesis reports as a runtime
error of the operation under test. The description is only a repr, so a failed parse falls back
to hypothesis' own "<unknown>" description instead of failing the run.
"""
import sys

if sys.version_info < (3, 12):
    from hypothesis.internal import lambda_sources

    _describe = lambda_sources.lambda_description

    def _lambda_description(f):
        try:
            return _describe(f)
        except SystemError:
            return "lambda: <unknown>"

    lambda_sources.lambda_description = _lambda_description

import schemathesis

# A deadline the client chose to be a few milliseconds rightly answers 504, which schemathesis
# counts as a server error. A valid Phenix-Timeout-Ms under a second is raised to a minute before
# the request goes out (so the request stays valid); invalid values (0, text, too large) are
# sent as generated. The deadline itself is tested in phenixd_test.py.
MIN_TIMEOUT_MS = 1000


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers or {}
    for name in list(headers):
        if name.lower() != "phenix-timeout-ms":
            continue
        value = headers[name]
        text = str(value)
        if text.isdigit() and 0 < int(text) < MIN_TIMEOUT_MS:
            headers[name] = "60000"


# Committing or rolling back a transaction ends it, so in a stateful scenario a commit after a
# rollback (or the reverse) of one transaction rightly answers 404. ensure_resource_availability
# (ST302) knows only DELETE, or the same request repeated, as the end of a resource and reads that
# 404 as "a resource just created is missing"; such reports are dropped. Begin -> commit and
# begin -> rollback on their own are checked by phenixd_test.py.
TRANSACTION_ENDS = {"POST /v1/transactions/{id}/commit", "POST /v1/transactions/{id}/rollback"}


@schemathesis.hook
def filter_failure(context, failure, case, response):
    return not (getattr(failure, "created_with", None) == "POST /v1/transactions"
                and getattr(failure, "not_available_with", None) in TRANSACTION_ENDS)


# POST /v1/collections/{name}/import takes NDJSON (one JSON entity per line), which schemathesis
# has no serializer for: a generated body (a string) goes out as its UTF-8 bytes. Random text is a
# bad line (422 with on_error=abort, a skipped line with skip), so the route's errors get exercised.
@schemathesis.serializer("application/x-ndjson")
def ndjson_serializer(ctx, value):
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    return str(value).encode()
