"""The replies' text: the owner named without a ping, okrbot's marker, and nothing of the note."""

from __future__ import annotations

from core.events import Person
from integration.writeback.checkin_answers import reply_text
from integration.writeback.render import is_own_comment
from mappings.checkin_rules import Verdict
from mappings.checkins import NOT_OWNER

KEY = "jira:example.atlassian.net/PROJ-1@778"


def test_a_jira_owner_name_is_written_plain_never_as_a_mention_or_markup():
    text = reply_text("jira", Verdict(NOT_OWNER, Person("acc-1", "Eve [~bob] {color:red}x{color} |y")), KEY)
    assert text == ("Only Eve \\[~bob] \\{color:red\\}x\\{color\\} \\|y can check in on this key result. "
                    "This comment changed nothing.\n~okrbot:answer=jira:example.atlassian.net/PROJ-1@778;~\n")
    assert is_own_comment(text)


def test_a_github_owner_is_a_code_span_and_an_okrs_yml_at_is_not_doubled():
    text = reply_text("github", Verdict(NOT_OWNER, Person("@alice")), "github:acme/web#1@5")
    assert text == ("<!-- okrbot:answer=github:acme/web#1@5 -->\n"
                    "Only `@alice` can check in on this key result. This comment changed nothing.\n")
    assert is_own_comment(text)
