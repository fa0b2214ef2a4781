"""Email channel: one multipart (plain text + HTML) message over SMTP, its outcome decided once.

Outcomes: the recipient refused with a 5xx reply, or the message refused with a 5xx reply after
DATA: permanent. A 4xx reply (greylisting, mailbox busy), a refused or dropped connection, a
timeout: transient. Problems of our own mail setup (authentication, sender refused, no STARTTLS)
are transient too: they are fixed by the operator, after which the queued alerts go out.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from wirewatch.settings import Settings
from worker.alerts.errors import TransportError
from worker.alerts.model import Alert
from worker.alerts.render import html_of, subject_of, text_of
from worker.alerts.targets import email_address


@dataclass(frozen=True)
class EmailSettings:
    """SMTP settings, from Settings' smtp_* fields (WIREWATCH_SMTP_*)."""

    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "Wirewatch <wirewatch@localhost>"
    smtp_starttls: bool = False
    timeout: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> EmailSettings:
        """The `smtp_*` fields of the settings (WIREWATCH_SMTP_*)."""
        password = settings.smtp_password
        return cls(
            smtp_host=settings.smtp_host,
            smtp_port=settings.smtp_port,
            smtp_user=settings.smtp_user or None,
            smtp_password=password.get_secret_value() if password else None,
            smtp_from=settings.smtp_from,
            smtp_starttls=settings.smtp_starttls,
            timeout=settings.smtp_timeout,
        )


class EmailTransport:
    def __init__(self, *, settings: Settings) -> None:
        self.config = EmailSettings.from_settings(settings)

    def send(self, alert: Alert, *, address: str) -> None:
        config = self.config
        try:
            address = email_address(address)
        except ValueError as exc:
            raise TransportError(str(exc), permanent=True) from None
        message = build_message(alert, address=address, sender=config.smtp_from)
        where = f"{config.smtp_host}:{config.smtp_port}"
        try:
            with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=config.timeout) as smtp:
                if config.smtp_starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if config.smtp_user:
                    smtp.login(config.smtp_user, config.smtp_password or "")
                smtp.send_message(message, to_addrs=[address])
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()), (550, b"refused"))
            raise TransportError(
                f"mail server {where} refused recipient {address}: {code} {_text(reply)}",
                permanent=code >= 500,
            ) from None
        except smtplib.SMTPDataError as exc:
            raise TransportError(
                f"mail server {where} refused the message: {exc.smtp_code} {_text(exc.smtp_error)}",
                permanent=exc.smtp_code >= 500,
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise TransportError(f"mail server {where}: {exc} (check WIREWATCH_SMTP_STARTTLS)"
                                 ) from None
        except smtplib.SMTPResponseException as exc:  # auth, sender, HELO: our configuration
            raise TransportError(
                f"mail server {where} answered {exc.smtp_code} {_text(exc.smtp_error)}"
            ) from None
        except (smtplib.SMTPException, OSError) as exc:  # refused, dropped, timed out, TLS
            detail = str(exc) or type(exc).__name__
            raise TransportError(f"cannot send mail through {where}: {detail}") from None


def build_message(alert: Alert, *, address: str, sender: str) -> EmailMessage:
    """The alert as an email: plain text first, HTML alternative; Message-ID from delivery_id,
    so a retried delivery carries the same id and mail clients can drop the duplicate."""
    message = EmailMessage()
    message["Subject"] = subject_of(alert)
    message["From"] = sender
    message["To"] = address
    message["Date"] = formatdate(usegmt=True)
    domain = sender.rpartition("@")[2].strip(" >") or "wirewatch.invalid"
    message["Message-ID"] = f"<{alert.delivery_id}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text_of(alert))
    message.add_alternative(html_of(alert), subtype="html")
    return message


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:300]
