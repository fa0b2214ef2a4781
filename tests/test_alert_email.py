"""Email channel against a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import email
import socket
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller

from tests.test_alert_signing import sample_alert
from wirewatch.settings import Settings
from worker.alerts import EmailTransport, TransportError, transport_for, validate_target


class Mailbox:
    """aiosmtpd handler: accepts mail, except for the addresses the test set up to refuse."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.rcpt_replies = {
            "nobody@example.org": "550 5.1.1 <nobody@example.org>: mailbox unavailable",
            "busy@example.org": "451 4.7.1 greylisted, try again later",
        }
        self.data_replies = {"spam@example.org": "554 5.7.1 message rejected as spam"}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802, ANN001, ANN201
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001, ANN201
        for address in envelope.rcpt_tos:
            if address in self.data_replies:
                return self.data_replies[address]
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


def transport(port: int, **overrides: object) -> EmailTransport:
    values: dict = {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_timeout": 2,
                    "smtp_from": "Wirewatch <alerts@wirewatch.example>"}
    values.update(overrides)
    return EmailTransport(settings=Settings(**values))


def test_message_arrives_with_text_and_html(smtp: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp
    mailbox.messages.clear()
    transport(port).send(sample_alert(), address="reader@example.org")
    [(recipients, message)] = mailbox.messages
    assert recipients == ["reader@example.org"]
    subject = message["subject"]
    assert "Interest rates" in subject and "Central bank raises rates by half a point" in subject
    assert message["to"] == "reader@example.org"
    assert message["message-id"] == "<msg_42@wirewatch.example>"
    assert message["auto-submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",))
    page = message.get_body(preferencelist=("html",))
    assert text is not None and page is not None
    assert "https://news.example.org/rates" in text.get_content()
    assert '<a href="https://news.example.org/rates">' in page.get_content()


def test_digest_and_non_ascii_text(smtp: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp
    mailbox.messages.clear()
    alert = sample_alert(topic={"id": 1, "name": "Économie"}, stories=[
        {"id": 1, "title": "Zölle steigen — „überraschend“", "url": "https://a.example/1"},
        {"id": 2, "title": "株価が下落", "url": "https://b.example/2"},
    ])
    transport_for("email", settings=Settings(smtp_host="127.0.0.1", smtp_port=port)).send(
        alert, address="reader@example.org"
    )
    [(_rcpt, message)] = mailbox.messages
    assert message["subject"] == "[Wirewatch] Économie: 2 new stories"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Zölle steigen" in text and "株価が下落" in text


def test_refused_recipient_is_permanent(smtp: tuple[Mailbox, int]) -> None:
    with pytest.raises(TransportError, match="refused recipient nobody@example.org: 550") as caught:
        transport(smtp[1]).send(sample_alert(), address="nobody@example.org")
    assert caught.value.permanent


def test_greylisted_recipient_is_transient(smtp: tuple[Mailbox, int]) -> None:
    with pytest.raises(TransportError, match="451") as caught:
        transport(smtp[1]).send(sample_alert(), address="busy@example.org")
    assert not caught.value.permanent


def test_message_refused_after_data_is_permanent(smtp: tuple[Mailbox, int]) -> None:
    with pytest.raises(TransportError, match="refused the message: 554") as caught:
        transport(smtp[1]).send(sample_alert(), address="spam@example.org")
    assert caught.value.permanent


def test_connection_refused_is_transient() -> None:
    with pytest.raises(TransportError, match="cannot send mail through 127.0.0.1") as caught:
        transport(free_port()).send(sample_alert(), address="reader@example.org")
    assert not caught.value.permanent


def test_missing_starttls_is_a_transient_configuration_error(smtp: tuple[Mailbox, int]) -> None:
    with pytest.raises(TransportError, match="STARTTLS") as caught:
        transport(smtp[1], smtp_starttls=True).send(sample_alert(), address="reader@example.org")
    assert not caught.value.permanent


def test_silent_server_times_out() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    held: list[socket.socket] = []
    threading.Thread(target=lambda: held.append(listener.accept()[0]), daemon=True).start()
    started = time.monotonic()
    try:
        with pytest.raises(TransportError, match="timed out") as caught:
            transport(listener.getsockname()[1], smtp_timeout=0.5).send(
                sample_alert(), address="reader@example.org"
            )
    finally:
        listener.close()
        for conn in held:
            conn.close()
    assert not caught.value.permanent
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("address", [
    "not-an-address", "a@b", "two@@example.org", "x@example.org\r\nBcc: victim@example.org", "",
    "@example.org",
])
def test_invalid_addresses_are_refused_at_creation(address: str) -> None:
    with pytest.raises(ValueError, match="(invalid email address|needs a target)"):
        validate_target("email", address, settings=Settings())
    with pytest.raises(TransportError, match="invalid email address") as caught:
        transport(free_port()).send(sample_alert(), address=address)
    assert caught.value.permanent


def test_valid_address_is_normalised() -> None:
    assert validate_target("email", " Reader@EXAMPLE.org ", settings=Settings()) == (
        "Reader@example.org"
    )
