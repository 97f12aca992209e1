"""The owner's word against the numbers: when a key result's current check-in disagrees with its health.

Pure. The computed health and the check-in status use the same three words: on track, at risk and
off track stand for the statuses of the same name. They disagree when the owner's current status is
not the computed one, e.g. the numbers say on track while the owner says at risk (issue 13: "that is
the conversation Monday needs"). A health that is no judgement (`not_started`: the period has not
begun; `unknown`: no work linked) disagrees with nothing, and no check-in disagrees with nothing.
"""

from __future__ import annotations

from .checkins import Checkin, CheckinStatus
from .progress import AT_RISK, OFF_TRACK, ON_TRACK

STATUS_OF_HEALTH = {ON_TRACK: CheckinStatus.ON_TRACK, AT_RISK: CheckinStatus.AT_RISK,
                    OFF_TRACK: CheckinStatus.OFF_TRACK}


def disagrees(checkin: Checkin | None, health: str) -> bool:
    """Whether the owner's current status differs from the computed health (see the module's rule)."""
    if checkin is None:
        return False
    computed = STATUS_OF_HEALTH.get(health)
    return computed is not None and computed != checkin.status
