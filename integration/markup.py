"""What differs between GitHub Markdown and Jira wiki markup, for every text okrbot writes.

The progress comment (render.py) and the weekly summary (summary_render.py) each have one layout;
they ask the tracker's markup here how to write a heading, a bullet, a link, a bar. Text that people
typed goes through `defuse` so that it never notifies anyone; a check-in note, free text from anyone's
comment, goes through `literal`, which also keeps every markup character as a character.
"""

from __future__ import annotations

import re
from types import MappingProxyType

HEALTH_WORDS = {"on_track": "on track", "at_risk": "at risk", "off_track": "off track",
                "not_started": "not started", "unknown": "unknown"}
HEALTH_ICONS = {"on_track": "🟢", "at_risk": "🟡", "off_track": "🔴", "not_started": "⚪", "unknown": "⚪"}

BAR_CELLS = 10


def bar(percent: float | None) -> str:
    """`▓▓▓▓▓▓░░░░` for 60%: the same characters in both trackers, only the code span around it differs."""
    filled = 0 if percent is None else max(0, min(BAR_CELLS, int(min(percent, 100.0) // 10)))
    return "▓" * filled + "░" * (BAR_CELLS - filled)


_GITHUB_AT = re.compile(r"(?<![\w`])@(?=[\w-])")


def defuse_github(text: str) -> str:
    """`@alice` in free text would notify alice: a zero-width space after the "@" keeps it plain text."""
    return _GITHUB_AT.sub("@&#8203;", text)


def defuse_jira(text: str) -> str:
    """`[~alice]` in free text would notify alice: an escaped bracket keeps it plain text."""
    return text.replace("[~", "\\[~")


_BLANKS = re.compile(r"\s+")
# CommonMark: any ASCII punctuation may be backslash-escaped (https://spec.commonmark.org/0.31.2/#backslash-escapes);
# "@" is left to the zero-width space, which a backslash would not stop
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-?\[-`{-~])")
_ANY_AT = re.compile(r"@(?=[\w-])")
# Jira wiki markup's special characters, each escaped with a backslash (text effects, links, macros, images)
_JIRA_SPECIAL = re.compile(r"([*_+^~{}\[\]|!?#-])")
# "\\" is a line break in wiki markup, so a backslash cannot be escaped: it is shown as the look-alike "⧵"
_JIRA_BACKSLASH = "\u29f5"


def one_line(text: str) -> str:
    return _BLANKS.sub(" ", text).strip()


def literal_github(text: str) -> str:
    """Text someone typed (a check-in note), shown as exactly that on one line: no Markdown, no HTML, no
    entity and no mention. Stricter than `defuse_github`: every "@" before a name gets the zero-width space."""
    return _ANY_AT.sub("@&#8203;", _MARKDOWN_PUNCTUATION.sub(r"\\\1", one_line(text)))


def literal_jira(text: str) -> str:
    """Text someone typed, on one line with every wiki markup character escaped: no `[~mention]`, link,
    macro, image or text effect (Jira renders no HTML in wiki markup)."""
    return _JIRA_SPECIAL.sub(r"\\\1", one_line(text).replace("\\", _JIRA_BACKSLASH))


class GithubMarkup:
    """GitHub Flavored Markdown: https://docs.github.com/en/get-started/writing-on-github"""

    tracker = "github"

    def heading(self, level: int, text: str, icon: str) -> str:
        return f"{'#' * level} {icon} {text}"

    def bold(self, text: str) -> str:
        return f"**{text}**"

    def code(self, text: str) -> str:
        return f"`{text}`"

    def bullet(self, text: str, depth: int = 1) -> str:
        return f"{'  ' * (depth - 1)}- {text}"

    def continuation(self, text: str) -> str:
        """A second line of the bullet above."""
        return f"  {text}"

    def defuse(self, text: str) -> str:
        return defuse_github(text)

    def literal(self, text: str) -> str:
        return literal_github(text)

    def command(self, text: str) -> str:
        """A command to type, exactly (a code span shows it as is)."""
        return self.code(text)

    def plain(self, text: str) -> str:
        """Text written with Markdown code spans; Markdown keeps them."""
        return text

    def link(self, text: str, url: str | None, bold: bool = False) -> str:
        text = defuse_github(text)
        if url:
            text = "[" + text.replace("[", "\\[").replace("]", "\\]") + f"]({url})"
        return self.bold(text) if bold else text

    def health(self, health: str, strong: bool = True) -> str:
        word = HEALTH_WORDS.get(health, health)
        return f"{HEALTH_ICONS.get(health, '⚪')} {self.bold(word) if strong else word}"

    def warning(self, text: str) -> str:
        return f"> [!WARNING]\n> {text}"

    def flag(self, text: str) -> str:
        """A short warning inside a line."""
        return f"⚠️ {self.bold(text)}"

    def small(self, text: str) -> str:
        return f"<sub>{text}</sub>"

    def footer(self, text: str) -> list[str]:
        return [self.small(text)]


class JiraMarkup:
    """Jira wiki markup (REST v2, Cloud and Server alike): https://jira.atlassian.com/secure/WikiRendererHelpAction.jspa"""

    tracker = "jira"

    def heading(self, level: int, text: str, icon: str) -> str:
        return f"h{level}. {text}"  # no icon: emoji shortcuts differ between Jira sites

    def bold(self, text: str) -> str:
        return f"*{text}*"

    def code(self, text: str) -> str:
        return f"{{{{{text}}}}}"

    def bullet(self, text: str, depth: int = 1) -> str:
        return f"{'*' * depth} {text}"

    def continuation(self, text: str) -> str:
        """A second line of the bullet above: a nested bullet (wiki markup has no continuation lines)."""
        return self.bullet(text, 2)

    def defuse(self, text: str) -> str:
        return defuse_jira(text)

    def literal(self, text: str) -> str:
        return literal_jira(text)

    def command(self, text: str) -> str:
        """A command to type: monospace, its brackets escaped (`[note]` would be a link even there)."""
        return self.code(text.replace("[", "\\[").replace("]", "\\]"))

    def plain(self, text: str) -> str:
        """Text written with Markdown code spans: wiki markup would show the backticks."""
        return text.replace("`", "")

    def link(self, text: str, url: str | None, bold: bool = False) -> str:
        text = defuse_jira(text)
        if url:
            text = "[" + text.replace("|", "\\|").replace("]", "\\]") + f"|{url}]"
        return self.bold(text) if bold else text

    def health(self, health: str, strong: bool = True) -> str:
        return self.bold(HEALTH_WORDS.get(health, health))

    def warning(self, text: str) -> str:
        return f"(!) {self.bold(text)}"

    def flag(self, text: str) -> str:
        return f"(!) {self.bold(text)}"

    def small(self, text: str) -> str:
        return f"~{text}~"

    def footer(self, text: str) -> list[str]:
        return ["----", self.small(text)]


Markup = GithubMarkup | JiraMarkup
GITHUB, JIRA = GithubMarkup(), JiraMarkup()
MARKUPS = MappingProxyType({"github": GITHUB, "jira": JIRA})
