"""The Jira story points field, found on the site by name when OKRBOT_JIRA_STORY_POINTS_FIELD is not set.

Its id (`customfield_NNNNN`) differs per site. Jira Cloud team-managed projects call it "Story point
estimate"; company-managed projects and Jira Server / Data Center call it "Story Points". A site may
have both (and, after migrations, more than one field of a name): every match is read, "Story Points"
first, and the first holding a number wins (JiraOptions.story_points_fields).

A configured value always wins and sends nothing. The look-up is one GET /rest/api/2/field; when it
fails, okrbot carries on without points.
"""

from __future__ import annotations

import logging

from ..config import Settings
from .base import TrackerError
from .factory import Readers

log = logging.getLogger("okrbot.jira")

STORY_POINT_NAMES = ("Story Points", "Story point estimate")


def story_points_field_ids(fields: list[dict]) -> tuple[str, ...]:
    """The ids of the custom fields named one of STORY_POINT_NAMES (case-insensitive), in the order of the names.

    Pure. Within one name, the fields keep the order the site listed them in; system fields and entries
    without an id are ignored.
    """
    by_name: dict[str, list[str]] = {name.casefold(): [] for name in STORY_POINT_NAMES}
    for field in fields:
        if not isinstance(field, dict) or not field.get("custom"):
            continue
        name, field_id = field.get("name"), field.get("id")
        if not isinstance(name, str) or not isinstance(field_id, str) or not field_id:
            continue
        ids = by_name.get(name.strip().casefold())
        if ids is not None and field_id not in ids:
            ids.append(field_id)
    return tuple(dict.fromkeys(i for ids in by_name.values() for i in ids))


def resolve_story_points(settings: Settings, readers: Readers) -> tuple[str, ...]:
    """The story points field ids okrbot reads (JiraOptions.story_points_fields), while the runtime is built.

    Configured (`settings.jira_story_points_fields`): returned as is, no request. No Jira credentials: ().
    Otherwise one GET /rest/api/2/field; a tracker error is logged as a warning and gives ().
    """
    configured = settings.jira_story_points_fields
    if configured:
        return configured
    reader = readers.jira()
    if reader is None:
        return ()
    try:
        ids = story_points_field_ids(reader.fields())
    except TrackerError as exc:
        log.warning("jira story points field not looked up, points are not read from Jira: %s", exc.message)
        return ()
    if ids:
        log.info("jira story points fields found by name: %s", ",".join(ids))
    else:
        log.info("jira story points fields found by name: none named %s", " or ".join(map(repr, STORY_POINT_NAMES)))
    return ids
