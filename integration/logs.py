"""One log format for web, worker and CLI: time, level, logger, message (key=value where structured)."""

from __future__ import annotations

import logging
import sys

_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger("okrbot")
    root.setLevel(level)
    if not any(getattr(h, "_okrbot", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler._okrbot = True
        root.addHandler(handler)
        root.propagate = True
