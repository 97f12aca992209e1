"""Typed values read from a GitHub webhook body: text, positive ids and numbers, times, people and
repository names, each either valid or refused with a PayloadError naming the field. Pure."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

from core.events import Person

from .errors import PayloadError


def text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def obj(parent: dict, name: str, where: str) -> dict:
    value = parent.get(name)
    if not isinstance(value, dict):
        raise PayloadError(f"{where}: missing `{name}` object")
    return value


def key(repo: str, number: int) -> str:
    return f"github:{repo}#{number}"


def positive_int(value: object) -> int | None:
    """A GitHub number or id: a positive integer (a key cannot hold `#-1`), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def need_int(obj: dict, name: str, where: str) -> int:
    value = positive_int(obj.get(name))
    if value is None:
        raise PayloadError(f"{where} without `{name}` (a positive integer)")
    return value


def id_text(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        return None
    return str(value)


def required_id(obj: dict, where: str = "issue") -> str:
    value = id_text(obj.get("id"))
    if value is None:
        raise PayloadError(f"{where} without `id`")
    return value


def timestamp(value: object, where: str) -> datetime:
    if not isinstance(value, str):
        raise PayloadError(f"{where} missing")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise PayloadError(f"{where} is not an ISO-8601 time: {value[:40]!r}") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def person(user: object) -> Person | None:
    login = user.get("login") if isinstance(user, dict) else None
    return Person(login) if isinstance(login, str) and login else None


def actor(payload: dict) -> Person | None:
    return person(payload.get("sender"))


def full_name(repo: object) -> str | None:
    name = repo.get("full_name") if isinstance(repo, dict) else None
    return name if isinstance(name, str) and "/" in name else None


def repo_from_url(url: object) -> str | None:
    """`owner/repo` from an API URL like https://api.github.com/repos/<owner>/<repo>[/...] (GHES too)."""
    if not isinstance(url, str):
        return None
    parts = [part for part in urlsplit(url).path.split("/") if part]
    if "repos" not in parts:
        return None
    at = parts.index("repos")
    return f"{parts[at + 1]}/{parts[at + 2]}" if len(parts) >= at + 3 else None


def first_of(*candidates: str | None, what: str) -> str:
    for candidate in candidates:
        if candidate:
            return candidate
    raise PayloadError(f"cannot tell {what}: no `full_name` nor `repository_url`")


def delivery_repo(payload: dict, issue: dict) -> str:
    return first_of(full_name(payload.get("repository")), repo_from_url(issue.get("repository_url")),
                  full_name(issue.get("repository")), what="the issue's repository")


def linked_repo(issue: dict, side_repo: object, delivery_repo: object, what: str) -> str:
    return first_of(repo_from_url(issue.get("repository_url")), full_name(issue.get("repository")),
                  full_name(side_repo), full_name(delivery_repo), what=f"the repository of {what}")


def repo_names(repos: object) -> tuple[str, ...]:
    if not isinstance(repos, list):
        return ()
    return tuple(name for name in map(full_name, repos) if name is not None)


def installation_id_of(payload: dict) -> int | None:
    installation = payload.get("installation")
    return positive_int(installation.get("id")) if isinstance(installation, dict) else None


def account(installation: dict) -> str | None:
    who = person(installation.get("account"))
    return who.login if who else None
