"""E-mail summaries: the weekly summary as a multipart message, sent through SMTP (OKRBOT_SMTP_URL).

The message is the same summary as on the trackers, in two parts: plain text (the Markdown rendering,
burn-ups as small tables) and HTML (that Markdown rendered, burn-ups as inline SVG charts with a
`<title>`/`<desc>`). Markdown is rendered with raw HTML off, so a title people typed cannot inject
markup; the charts go in afterwards through a placeholder only this render knows.

SMTP URL: `smtp://[user[:password]@]host[:port]` (port 587; STARTTLS when the server offers it, and
required before credentials are sent unless `?starttls=off`, for a relay on loopback) or
`smtps://…` (implicit TLS, port 465). Credentials are never logged: `SmtpServer`'s repr leaves them
out, and errors name the host only.
"""

from __future__ import annotations

import secrets
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from markdown_it import MarkdownIt

from ..charts.svg import Series, line_chart
from ..markup import GithubMarkup, one_line
from ..trackers.base import Gone, Transient
from .render import SummaryObjective, SummaryView, burnup_table_text, render_summary

TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool
    starttls: str  # "auto" (when offered; required before credentials) | "required" | "off"
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)

    @property
    def credential(self) -> str:
        """The key of this server's write budget (no secret in it)."""
        return f"smtp:{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpServer:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("OKRBOT_SMTP_URL: expected smtp://host[:port] or smtps://host[:port]")
    starttls = parse_qs(parts.query).get("starttls", ["auto"])[-1]
    if starttls not in ("auto", "required", "off"):
        raise ValueError("OKRBOT_SMTP_URL: starttls must be auto, required or off")
    implicit = parts.scheme == "smtps"
    return SmtpServer(host=parts.hostname, port=parts.port or (465 if implicit else 587), implicit_tls=implicit,
                      starttls="off" if implicit else starttls,
                      username=unquote(parts.username) if parts.username else None,
                      password=unquote(parts.password) if parts.password else None)


# --- the message -------------------------------------------------------------------------------------


class EmailMarkup(GithubMarkup):
    """GitHub Markdown without its HTML bits; burn-ups as a text table, or a placeholder for a chart."""

    tracker = "email"

    def __init__(self, view: SummaryView | None = None, token: str | None = None):
        self.view, self.token, self.charts = view, token, []

    def small(self, text: str) -> str:
        return f"_{text}_"

    def literal(self, text: str) -> str:
        """Plain text shows a note as written (one line); the HTML part renders it escaped, never as markup."""
        return super().literal(text) if self.token is not None else one_line(text)

    def burnup(self, o: SummaryObjective) -> list[str]:
        if self.token is None:
            return [self.bold("Burn-up"), "", "```", burnup_table_text(o.burnup), "```"]
        self.charts.append(burnup_svg(o, self.view))
        return [f"{self.token}{len(self.charts) - 1}"]


def burnup_svg(o: SummaryObjective, view: SummaryView) -> str:
    """The objective's weekly burn-up: the week ends are dates back from the summary's day."""
    today = view.generated_at.date()
    count = len(o.burnup)
    days = [today - timedelta(weeks=count - 1 - i) for i in range(count)]
    done = Series("done", "done", tuple(zip(days, (w.done for w in o.burnup), strict=True)))
    scope = Series("scope", "scope", tuple(zip(days, (w.scope for w in o.burnup), strict=True)), colour="#8c959f")
    last = o.burnup[-1]
    desc = f"Done and scope (all work but the dropped) per week; now {last.done:g} of {last.scope:g} done."
    return line_chart(f"{o.title}: burn-up", desc, days[0], days[-1], (done, scope), "work items",
                      chart_id=f"burnup-{o.id}")


def text_body(view: SummaryView) -> str:
    return render_summary(view, EmailMarkup())


def html_body(view: SummaryView) -> str:
    token = f"OKRBOTCHART{secrets.token_hex(8)}N"
    markup = EmailMarkup(view, token)
    html = MarkdownIt("commonmark", {"html": False}).render(render_summary(view, markup))
    for n, svg in enumerate(markup.charts):
        html = html.replace(f"<p>{token}{n}</p>", f'<div class="burnup">{svg}</div>')
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>OKR summary · {view.week}</title></head>'
            f'<body style="font-family: sans-serif; max-width: 920px">\n{html}</body></html>\n')


def subject(view: SummaryView) -> str:
    overall = f" · {min(view.overall_percent, 100.0):.0f}% overall" if view.overall_percent is not None else ""
    return f"OKR summary · {view.week}{overall}"


def build_message(view: SummaryView, sender: str, recipients: tuple[str, ...]) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"] = subject(view), sender, ", ".join(recipients)
    msg["Date"] = formatdate(view.generated_at.timestamp(), usegmt=True)
    msg["Message-ID"] = make_msgid("okrbot-summary")  # kept with the stored message: a retry resends the same one
    # quoted-printable: an SVG's long lines would break SMTP's 998-character line limit (RFC 5321 4.5.3.1.6)
    msg.set_content(text_body(view), cte="quoted-printable")
    msg.add_alternative(html_body(view), subtype="html", cte="quoted-printable")
    return msg


# --- sending -----------------------------------------------------------------------------------------


def send(server: SmtpServer, message: bytes, sender: str, recipients: list[str]) -> None:
    """One SMTP transaction; Transient (4xx, connection) is retried, Gone (5xx, no TLS for credentials) is not."""
    where = f"SMTP {server.host}:{server.port}"
    try:
        with _connect(server) as smtp:
            _secure_and_log_in(smtp, server, where)
            refused = smtp.sendmail(sender, recipients, message)
    except smtplib.SMTPRecipientsRefused as exc:
        raise Gone(f"{where} refused every recipient: {', '.join(exc.recipients)}") from None
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        error = Gone if 500 <= exc.smtp_code < 600 else Transient
        raise error(f"{where} answered {exc.smtp_code} {text}", exc.smtp_code) from None
    except (smtplib.SMTPException, OSError) as exc:  # disconnects, timeouts, refused connections
        raise Transient(f"{where}: {type(exc).__name__}: {exc}", uncertain=True) from None
    if refused:  # some recipients took it: a retry would send it twice to the others
        raise Gone(f"{where} refused some recipients: {', '.join(refused)}")


def _connect(server: SmtpServer) -> smtplib.SMTP:
    if server.implicit_tls:
        return smtplib.SMTP_SSL(server.host, server.port, timeout=TIMEOUT_SECONDS,
                                context=ssl.create_default_context())
    return smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_SECONDS)


def _secure_and_log_in(smtp: smtplib.SMTP, server: SmtpServer, where: str) -> None:
    smtp.ehlo()
    tls = server.implicit_tls
    if server.starttls != "off" and smtp.has_extn("starttls"):
        smtp.starttls(context=ssl.create_default_context())
        smtp.ehlo()
        tls = True
    if server.starttls == "required" and not tls:
        raise Gone(f"{where} offers no STARTTLS (required by OKRBOT_SMTP_URL)")
    if server.username:
        if not tls and server.starttls != "off":
            raise Gone(f"{where} offers no TLS: not sending credentials in clear (add ?starttls=off to allow it)")
        smtp.login(server.username, server.password or "")
