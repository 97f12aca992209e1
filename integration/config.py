"""Configuration from the environment (prefix OKRBOT_), validated once at start.

Flask's `from_prefixed_env` would turn a secret such as "123" into an int and accepts anything, so
settings are read here instead, into one frozen object that the app, the CLI and the tasks share.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlsplit

from mappings.progress import Thresholds
from mappings.scope import Scope
from webhooks.github import GithubOptions
from webhooks.jira import JiraOptions, site_host

from .retry import RetryPolicy

PREFIX = "OKRBOT_"
# Variables with the prefix that are read by the test suite, not by okrbot: no warning for them.
NOT_SETTINGS = ("OKRBOT_TEST_", "OKRBOT_UPDATE_GOLDEN", "OKRBOT_SHARED")
log = logging.getLogger("okrbot.config")
MAX_BODY_BYTES = 25 * 1024 * 1024  # GitHub's own cap on webhook payloads


class ConfigError(Exception):
    """Bad configuration: the message names the variable and the problem, on one line."""


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///okrbot.db"
    queue_url: str = ""  # default: a SQLite queue file beside the database (see `effective_queue_url`)
    github_webhook_secrets: tuple[str, ...] = field(default=(), repr=False)
    jira_webhook_secrets: tuple[str, ...] = field(default=(), repr=False)
    insecure_accept_unsigned: bool = False
    # whose deliveries count (mappings.scope): GitHub owners or owner/repo globs, lower case; () = any
    github_allowed: tuple[str, ...] = ()
    jira_allowed_sites: tuple[str, ...] = ()  # Jira sites as `host` or `host:port`, normalised; () = any
    api_token: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)  # signs sign-in sessions and CSRF tokens
    github_client_id: str | None = None  # GitHub sign-in: an OAuth app's, or a GitHub App's user-authorisation
    github_client_secret: str | None = field(default=None, repr=False)
    github_url: str = "https://github.com"  # where GitHub's sign-in pages are (GitHub Enterprise: https://HOST)
    allowed_orgs: tuple[str, ...] = ()  # GitHub sign-in admits the members of these organisations ...
    allowed_users: tuple[str, ...] = ()  # ... and these logins
    trust_proxy: bool = False  # honour X-Forwarded-Proto/-Host/-For from one reverse proxy in front
    session_hours: int = 12  # a sign-in lasts this long, then the visitor signs in again
    max_attempts: int = 8  # tries of a delivery, and of a write, before it is failed for good
    retry_base_seconds: float = 2.0  # the first retry's wait; each next one waits twice as long
    sweep_after_seconds: int = 60
    apply_batch_size: int = 50  # deliveries a worker claims and applies in one transaction
    doorbell_window_ms: float = 50.0  # the doorbell gathers deliveries committed this close together
    max_body_bytes: int = MAX_BODY_BYTES
    jira_dropped_resolutions: tuple[str, ...] = ("Won't Do", "Won't Fix", "Duplicate", "Cannot Reproduce", "Declined")
    jira_epic_link_field: str | None = None
    jira_story_points_fields: tuple[str, ...] = ()
    github_points_label_pattern: str = r"^(?:points|size):\s*(\d+(?:\.\d+)?)$"
    log_level: str = "INFO"
    mappings: str | None = None  # path of okrs.yml; default ./okrs.yml when present
    kr_label: str = "key-result"
    objective_label: str = "objective"
    kr_type: str = "Key Result"
    objective_type: str = "Objective"
    health_at_risk: float = 10.0  # points below the expected progress still on track
    health_off_track: float = 25.0  # points below it that are off track
    write_delay: float = 60.0  # quiet period before a key result's comment is written
    sync_interval_minutes: int = 60  # reconcile every key result with the tracker this often
    redeliver_days: int = 3  # GitHub App: failed deliveries this recent are redelivered
    stale_days: int = 14  # a key result unchanged this long is listed under "No movement"
    dry_run: bool = False
    github_token: str | None = field(default=None, repr=False)
    github_app_id: str | None = None
    github_private_key: str | None = field(default=None, repr=False)
    github_api_url: str = "https://api.github.com"
    tracker_timeout_seconds: float = 10.0  # each tracker API request; the libraries' own default is to wait forever
    jira_url: str | None = None
    jira_email: str | None = None
    jira_api_token: str | None = field(default=None, repr=False)
    jira_pat: str | None = field(default=None, repr=False)
    smtp_url: str | None = field(default=None, repr=False)  # smtp:// or smtps://, may carry credentials
    smtp_from: str = "okrbot <okrbot@localhost>"  # From: of e-mail summaries; set one your server may send as
    unknown_variables: tuple[str, ...] = ()  # OKRBOT_* names that are no setting (names only: values may be secrets)

    @property
    def effective_queue_url(self) -> str:
        if self.queue_url:
            return self.queue_url
        db = urlsplit(self.database_url)
        if db.scheme.startswith("sqlite") and db.path not in ("", "/", "/:memory:"):
            path = Path(db.path[1:])  # sqlite:///relative.db → "relative.db"; sqlite:////abs → "/abs"
            return f"sqlite:///{path.with_name(path.stem + '-queue.db')}"
        return "sqlite:///okrbot-queue.db"

    @property
    def retry(self) -> RetryPolicy:
        return RetryPolicy(self.max_attempts, self.retry_base_seconds)

    # The pure parsers and the domain have no defaults of their own: they are told these.
    @property
    def github_options(self) -> GithubOptions:
        return GithubOptions(points_label_pattern=self.github_points_label_pattern)

    @property
    def jira_options(self) -> JiraOptions:
        return JiraOptions(dropped_resolutions=self.jira_dropped_resolutions,
                           epic_link_field=self.jira_epic_link_field,
                           story_points_fields=self.jira_story_points_fields)

    @property
    def scope(self) -> Scope:
        return Scope(github=self.github_allowed, jira_sites=self.jira_allowed_sites)

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(self.health_at_risk, self.health_off_track)

    def with_overrides(self, **kw) -> Settings:
        return replace(self, **kw)


def _csv(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


MAX_WEBHOOK_SECRETS = 2  # the current secret and, during a rotation, the new one


def _webhook_secrets(name: str, value: str) -> tuple[str, ...]:
    """One secret, or two separated by a comma while a secret is rotated (README: rotating)."""
    secrets = tuple(part.strip() for part in value.split(","))
    if not value.strip():
        return ()  # set but empty: no secret, so every delivery is refused (fail closed)
    if any(not s for s in secrets):
        raise ConfigError(f"{PREFIX}{name}: an empty value between the commas; give one secret, or two "
                          "separated by one comma while rotating")
    if len(secrets) > MAX_WEBHOOK_SECRETS:
        raise ConfigError(f"{PREFIX}{name}: {len(secrets)} secrets given, at most {MAX_WEBHOOK_SECRETS} "
                          "(the current one and the new one while rotating)")
    return secrets


def _bool(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{PREFIX}{name}: expected 1/0, true/false, yes/no or on/off, got {value!r}")


def _number(name: str, value: str, expected: str, cast=float, low: float = 0, high: float | None = None):
    """A number within [low, high]; `expected` says in words what was asked for."""
    try:
        number = cast(value)
    except ValueError:
        raise ConfigError(f"{PREFIX}{name}: expected {expected}, got {value!r}") from None
    if number >= low and (high is None or number <= high):
        return number
    rule = f"must be between {low} and {high}" if high is not None else \
        "must not be negative" if low == 0 else f"must be at least {low}"
    raise ConfigError(f"{PREFIX}{name}: {rule}, got {value.strip()}")


def _positive_int(name: str, value: str) -> int:
    return _number(name, value, "a whole number", int, low=1)


def _check_url(name: str, value: str, schemes: tuple[str, ...]) -> str:
    scheme = urlsplit(value).scheme
    if not scheme or not any(scheme == s or scheme.startswith(s + "+") for s in schemes):
        raise ConfigError(f"{PREFIX}{name}: expected a URL starting with {' or '.join(s + '://' for s in schemes)}"
                          f", got scheme {scheme or 'none'!r}")
    return value


_PARSERS = {
    "DATABASE_URL": ("database_url", lambda n, v: _check_url(n, v, ("sqlite", "postgresql"))),
    "QUEUE_URL": ("queue_url", lambda n, v: _check_url(n, v, ("sqlite", "redis", "rediss"))),
    "GITHUB_WEBHOOK_SECRET": ("github_webhook_secrets", lambda n, v: _webhook_secrets(n, v)),
    "JIRA_WEBHOOK_SECRET": ("jira_webhook_secrets", lambda n, v: _webhook_secrets(n, v)),
    "INSECURE_ACCEPT_UNSIGNED": ("insecure_accept_unsigned", _bool),
    "GITHUB_ALLOWED": ("github_allowed", lambda n, v: _github_allowed(n, v)),
    "JIRA_ALLOWED_SITES": ("jira_allowed_sites", lambda n, v: _jira_sites(n, v)),
    "API_TOKEN": ("api_token", lambda n, v: v or None),
    "SECRET_KEY": ("secret_key", lambda n, v: _secret_key(n, v)),
    "GITHUB_CLIENT_ID": ("github_client_id", lambda n, v: v.strip() or None),
    "GITHUB_CLIENT_SECRET": ("github_client_secret", lambda n, v: v.strip() or None),
    "GITHUB_URL": ("github_url", lambda n, v: _check_url(n, v.rstrip("/"), ("https", "http"))),
    "ALLOWED_ORGS": ("allowed_orgs", lambda n, v: _csv(v)),
    "ALLOWED_USERS": ("allowed_users", lambda n, v: _csv(v)),
    "TRUST_PROXY": ("trust_proxy", _bool),
    "SESSION_HOURS": ("session_hours", _positive_int),
    "MAX_ATTEMPTS": ("max_attempts", _positive_int),
    "SWEEP_AFTER_SECONDS": ("sweep_after_seconds", _positive_int),
    "APPLY_BATCH_SIZE": ("apply_batch_size", _positive_int),
    "DOORBELL_WINDOW_MS": ("doorbell_window_ms", lambda n, v: _milliseconds(n, v)),
    "JIRA_DROPPED_RESOLUTIONS": ("jira_dropped_resolutions", lambda n, v: _csv(v)),
    "JIRA_EPIC_LINK_FIELD": ("jira_epic_link_field", lambda n, v: v.strip() or None),
    "JIRA_STORY_POINTS_FIELD": ("jira_story_points_fields", lambda n, v: _csv(v)),
    "GITHUB_POINTS_LABEL_PATTERN": ("github_points_label_pattern", lambda n, v: _regex(n, v)),
    "LOG_LEVEL": ("log_level", lambda n, v: _log_level(n, v)),
    "MAPPINGS": ("mappings", lambda n, v: v.strip() or None),
    "KR_LABEL": ("kr_label", lambda n, v: _nonempty(n, v)),
    "OBJECTIVE_LABEL": ("objective_label", lambda n, v: _nonempty(n, v)),
    "KR_ISSUE_TYPE": ("kr_type", lambda n, v: _nonempty(n, v)),
    "OBJECTIVE_ISSUE_TYPE": ("objective_type", lambda n, v: _nonempty(n, v)),
    "HEALTH_AT_RISK": ("health_at_risk", lambda n, v: _points(n, v)),
    "HEALTH_OFF_TRACK": ("health_off_track", lambda n, v: _points(n, v)),
    "WRITE_DELAY": ("write_delay", lambda n, v: _seconds(n, v)),
    "SYNC_INTERVAL_MINUTES": ("sync_interval_minutes", _positive_int),
    "REDELIVER_DAYS": ("redeliver_days", _positive_int),
    "STALE_DAYS": ("stale_days", _positive_int),
    "DRY_RUN": ("dry_run", _bool),
    "GITHUB_TOKEN": ("github_token", lambda n, v: v.strip() or None),
    "GITHUB_APP_ID": ("github_app_id", lambda n, v: v.strip() or None),
    "GITHUB_PRIVATE_KEY": ("github_private_key", lambda n, v: _pem(n, v)),
    "GITHUB_PRIVATE_KEY_PATH": ("github_private_key", lambda n, v: _pem_file(n, v)),
    "GITHUB_API_URL": ("github_api_url", lambda n, v: _check_url(n, v.rstrip("/"), ("https", "http"))),
    "JIRA_URL": ("jira_url", lambda n, v: _check_url(n, v.rstrip("/"), ("https", "http"))),
    "JIRA_EMAIL": ("jira_email", lambda n, v: v.strip() or None),
    "JIRA_API_TOKEN": ("jira_api_token", lambda n, v: v.strip() or None),
    "JIRA_PAT": ("jira_pat", lambda n, v: v.strip() or None),
    "SMTP_URL": ("smtp_url", lambda n, v: _check_url(n, v.strip(), ("smtp", "smtps")) if v.strip() else None),
    "SMTP_FROM": ("smtp_from", lambda n, v: _nonempty(n, v)),
}


_GITHUB_PATTERN = re.compile(r"[A-Za-z0-9*?\[\]][A-Za-z0-9_.*?\[\]-]*(/[A-Za-z0-9_.*?\[\]-]+)?")


def _github_allowed(name: str, value: str) -> tuple[str, ...]:
    """Owners or owner/repo globs, compared folded (GitHub names are case-insensitive)."""
    patterns = _csv(value)
    for pattern in patterns:
        if not _GITHUB_PATTERN.fullmatch(pattern):
            raise ConfigError(f"{PREFIX}{name}: {pattern!r} is not an owner or owner/repo (globs allowed: acme/web-*)")
    return tuple(pattern.lower() for pattern in patterns)


def _jira_sites(name: str, value: str) -> tuple[str, ...]:
    """Jira base URLs, kept as the site host they are compared on (no scheme, no default port)."""
    hosts = []
    for url in _csv(value):
        host = site_host(url if "://" in url else f"https://{url}")
        if host is None:
            raise ConfigError(f"{PREFIX}{name}: {url!r} is not a Jira base URL (e.g. https://acme.atlassian.net)")
        hosts.append(host)
    return tuple(hosts)


def scope_warnings(settings: Settings) -> list[str]:
    if settings.github_allowed or settings.jira_allowed_sites:
        return []
    return [f"neither {PREFIX}GITHUB_ALLOWED nor {PREFIX}JIRA_ALLOWED_SITES is set: every delivery with a valid "
            "secret is applied, whatever repository or Jira site it comes from; set them to the owners, "
            "owner/repo globs and Jira base URLs whose work counts"]


def warn_open_scope(settings: Settings) -> None:
    """At the start of the web app (gunicorn, serve) and the worker: an open scope must not pass unnoticed."""
    for line in scope_warnings(settings):
        log.warning(line)


MIN_SECRET_KEY = 32  # characters: `python -c 'import secrets; print(secrets.token_urlsafe(32))'` gives 43


def _secret_key(name: str, value: str) -> str | None:
    key = value.strip()
    if key and len(key) < MIN_SECRET_KEY:
        raise ConfigError(f"{PREFIX}{name}: too short ({len(key)} characters, at least {MIN_SECRET_KEY}); "
                          "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'")
    return key or None


def _seconds(name: str, value: str) -> float:
    return _number(name, value, "a number of seconds")


def _milliseconds(name: str, value: str) -> float:
    return _number(name, value, "a number of milliseconds")


def _pem(name: str, value: str) -> str:
    text = value.replace("\\n", "\n").strip()  # a key pasted into one line of an env file
    if "PRIVATE KEY-----" not in text:
        raise ConfigError(f"{PREFIX}{name}: not a PEM private key (expected -----BEGIN ... PRIVATE KEY-----)")
    return text + "\n"


def _pem_file(name: str, value: str) -> str:
    try:
        text = Path(value).read_text()
    except OSError as exc:
        raise ConfigError(f"{PREFIX}{name}: cannot read {value}: {exc.strerror}") from None
    return _pem(name, text)


def _nonempty(name: str, value: str) -> str:
    if not value.strip():
        raise ConfigError(f"{PREFIX}{name}: must not be empty")
    return value.strip()


def _points(name: str, value: str) -> float:
    return _number(name, value, "a number of percentage points", high=100)


def _regex(name: str, value: str) -> str:
    try:
        groups = re.compile(value).groups
    except re.error as exc:
        raise ConfigError(f"{PREFIX}{name}: not a valid regular expression: {exc}") from None
    if groups < 1:
        raise ConfigError(f"{PREFIX}{name}: needs a capturing group for the number")
    return value


def _log_level(name: str, value: str) -> str:
    level = value.strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"{PREFIX}{name}: expected DEBUG, INFO, WARNING or ERROR, got {value!r}")
    return level


def _check_writers(settings: Settings) -> None:
    if settings.github_app_id and not settings.github_private_key:
        raise ConfigError(f"{PREFIX}GITHUB_APP_ID: set {PREFIX}GITHUB_PRIVATE_KEY or "
                          f"{PREFIX}GITHUB_PRIVATE_KEY_PATH too")
    if settings.github_private_key and not settings.github_app_id:
        raise ConfigError(f"{PREFIX}GITHUB_PRIVATE_KEY: set {PREFIX}GITHUB_APP_ID too")
    if (settings.jira_api_token or settings.jira_pat or settings.jira_email) and not settings.jira_url:
        raise ConfigError(f"{PREFIX}JIRA_URL: needed with Jira credentials")
    if settings.jira_api_token and not settings.jira_email:
        raise ConfigError(f"{PREFIX}JIRA_EMAIL: needed with {PREFIX}JIRA_API_TOKEN (Jira Cloud)")


def _check_sign_in(settings: Settings) -> None:
    if bool(settings.github_client_id) != bool(settings.github_client_secret):
        missing = "GITHUB_CLIENT_SECRET" if settings.github_client_id else "GITHUB_CLIENT_ID"
        raise ConfigError(f"{PREFIX}{missing}: GitHub sign-in needs both {PREFIX}GITHUB_CLIENT_ID and "
                          f"{PREFIX}GITHUB_CLIENT_SECRET")
    if settings.github_client_id and not (settings.allowed_orgs or settings.allowed_users):
        raise ConfigError(f"{PREFIX}ALLOWED_ORGS: GitHub sign-in admits nobody until {PREFIX}ALLOWED_ORGS "
                          f"or {PREFIX}ALLOWED_USERS names who may sign in")
    if (settings.allowed_orgs or settings.allowed_users) and not settings.github_client_id:
        raise ConfigError(f"{PREFIX}GITHUB_CLIENT_ID: {PREFIX}ALLOWED_ORGS / {PREFIX}ALLOWED_USERS are for "
                          "GitHub sign-in, which needs its client id and secret")


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read OKRBOT_* variables; raise ConfigError naming the first bad one."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for suffix, (attr, parse) in _PARSERS.items():
        raw = env.get(PREFIX + suffix)
        if raw is not None:
            values[attr] = parse(suffix, raw)
    known = {PREFIX + s for s in _PARSERS}
    values["unknown_variables"] = tuple(sorted(k for k in env if k.startswith(PREFIX) and k not in known
                                               and not k.startswith(NOT_SETTINGS)))
    settings = Settings(**values)
    _check_writers(settings)
    _check_sign_in(settings)
    return settings


def settings_from_mapping(base: Settings, overrides: Mapping[str, object]) -> Settings:
    """Apply `create_app(config=...)` overrides given by attribute name (tests, embedding)."""
    names = {f.name for f in fields(Settings)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
    return replace(base, **overrides)


def unknown_setting_warnings(settings: Settings) -> list[str]:
    """One line per OKRBOT_* variable that is no setting, with the closest known name when one is close."""
    lines = []
    for name in settings.unknown_variables:
        # compared without the prefix: every name shares it, so it would make any two names "close"
        close = difflib.get_close_matches(name.removeprefix(PREFIX), sorted(_PARSERS), n=1)
        lines.append(f"{name} is not a setting" + (f" (did you mean {PREFIX}{close[0]}?)" if close else ""))
    return lines


def warn_unknown_settings(settings: Settings) -> None:
    """At the start of every process (web, worker, CLI): a misspelt setting must not pass unnoticed."""
    for line in unknown_setting_warnings(settings):
        log.warning(line)
