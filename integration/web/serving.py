"""The request log of `okrbot serve` (Werkzeug's server), without query strings.

A sign-in callback's query string carries GitHub's one-time code and state: no secret goes to a log.
"""

from __future__ import annotations

from werkzeug.serving import WSGIRequestHandler


class RequestLog(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        method, _, rest = self.requestline.partition(" ")
        target, _, version = rest.partition(" ")
        self.log("info", '"%s %s %s" %s %s', method, target.split("?", 1)[0], version, code, size)
