"""structlog configuration: every event (ours and stdlib's) is redacted, then rendered and published."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from app.core.redaction import Redactor
from app.services.logs import LogHub

# `exception` (a rendered traceback) goes to stderr only: the public stream names the error, never its source.
_SKIP_FIELDS = {"event", "level", "timestamp", "_record", "_from_structlog", "logger", "request_id", "color_message",
                "exception"}


class _Publish:
    def __init__(self, hub: LogHub) -> None:
        self.hub = hub

    def __call__(self, _logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        fields = {k: v for k, v in event_dict.items() if k not in _SKIP_FIELDS}
        self.hub.publish(
            level=str(event_dict.get("level", "info")),
            event=str(event_dict.get("event", "")),
            fields=fields,
            timestamp=str(event_dict.get("timestamp", "")),
        )
        return event_dict


class _Redact:
    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor

    def __call__(self, _logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        event_dict.pop("color_message", None)  # uvicorn's ANSI duplicate of the message
        return self.redactor.event(event_dict)


class _SafeStderrHandler(logging.StreamHandler):
    """Writes to the current sys.stderr. On a write failure it must not do what the stdlib does
    (print the record's raw traceback, unredacted): it prints one fixed line instead."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: ARG002, N802 (stdlib signature)
        if sys.__stderr__ is not None:
            try:
                sys.__stderr__.write("zka: a log line could not be written\n")
            except Exception:  # nothing else is safe to do here
                pass


def configure_logging(*, hub: LogHub, redactor: Redactor, json_output: bool, level: int = logging.INFO) -> None:
    """Route structlog and stdlib logging through one chain: context → exc text → redact → publish → render."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _Redact(redactor),
        _Publish(hub),
    ]
    renderer: Any = structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[*shared[:1], structlog.stdlib.filter_by_level, *shared[1:],
                    structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), *shared],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = _SafeStderrHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers = []
        lg.propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # Alembic announces each of its plugins on every migration run (7 lines on a first start); its
    # "Running upgrade ..." lines stay.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    # aiosqlite logs every statement at DEBUG from its own thread: when a test (caplog) lowers the root
    # level, those lines reach stderr outside any capture ("[debug] operation functools.partial(...)").
    logging.getLogger("aiosqlite").setLevel(logging.INFO)


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
