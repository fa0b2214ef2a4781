"""Standard Webhooks signatures and the webhook body: spec test vector, round trip, golden files."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from worker.alerts import Alert, new_webhook_secret, sign_webhook, verify_webhook, webhook_payload
from worker.alerts.render import html_of, subject_of, text_of

DATA = Path(__file__).parent / "data" / "alerts"

# The test vector published with the Standard Webhooks specification (and its reference libraries).
VECTOR = {
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "msg_id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
    "timestamp": 1614265330,
    "body": b'{"test": 2432232314}',
    "signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
}


def vector_headers(**overrides: str) -> dict[str, str]:
    headers = {
        "webhook-id": VECTOR["msg_id"],
        "webhook-timestamp": str(VECTOR["timestamp"]),
        "webhook-signature": VECTOR["signature"],
    }
    headers.update(overrides)
    return headers


def sample_alert(**overrides: object) -> Alert:
    values: dict = {
        "delivery_id": "msg_42",
        "story": {
            "id": 7, "title": "Central bank raises rates by half a point",
            "url": "https://news.example.org/rates", "wire_source": "Reuters",
            "first_seen": datetime(2024, 5, 1, 12, 0, tzinfo=UTC), "members": [11, 12, 13],
        },
        "topic": {"id": 3, "name": "Interest rates", "query": "rates AND (bank OR fed)"},
        "article": {
            "id": 11, "url": "https://news.example.org/rates", "title": "Bank raises rates",
            "published": datetime(2024, 5, 1, 11, 58, tzinfo=UTC), "source": "Example News",
        },
        "created_at": datetime(2024, 5, 1, 12, 1, 30, tzinfo=UTC),
    }
    values.update(overrides)
    return Alert(**values)


def test_spec_test_vector() -> None:
    signature = sign_webhook(secret=VECTOR["secret"], msg_id=VECTOR["msg_id"],
                             timestamp=VECTOR["timestamp"], body=VECTOR["body"])
    assert signature == VECTOR["signature"]
    assert verify_webhook(secret=VECTOR["secret"], headers=vector_headers(),
                          body=VECTOR["body"], now=VECTOR["timestamp"] + 10)


def test_verify_refuses_tampering_staleness_and_missing_headers() -> None:
    now = VECTOR["timestamp"]
    secret, body = VECTOR["secret"], VECTOR["body"]
    assert not verify_webhook(secret=secret, headers=vector_headers(), body=b'{"test": 1}', now=now)
    assert not verify_webhook(secret=new_webhook_secret(), headers=vector_headers(), body=body,
                              now=now)
    assert not verify_webhook(secret=secret, headers=vector_headers(), body=body, now=now + 301)
    assert not verify_webhook(secret=secret, headers=vector_headers(), body=body, now=now - 301)
    assert not verify_webhook(secret=secret, headers=vector_headers(**{"webhook-id": "msg_x"}),
                              body=body, now=now)
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        headers = vector_headers()
        del headers[name]
        assert not verify_webhook(secret=secret, headers=headers, body=body, now=now)
    assert not verify_webhook(secret="whsec_not base64!", headers=vector_headers(), body=body,
                              now=now)


def test_verify_accepts_one_valid_signature_among_several_and_any_header_case() -> None:
    rotated = f"v1,{base64.b64encode(b'x' * 32).decode()} v1a,AAAA {VECTOR['signature']}"
    headers = {k.upper(): v for k, v in vector_headers(**{"webhook-signature": rotated}).items()}
    assert verify_webhook(secret=VECTOR["secret"], headers=headers, body=VECTOR["body"],
                          now=VECTOR["timestamp"])


def test_new_secret_round_trip() -> None:
    secret = new_webhook_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
    assert secret != new_webhook_secret()
    body = webhook_payload(sample_alert())
    signature = sign_webhook(secret=secret, msg_id="msg_42", timestamp=1_700_000_000, body=body)
    headers = {"webhook-id": "msg_42", "webhook-timestamp": "1700000000",
               "webhook-signature": signature}
    assert verify_webhook(secret=secret, headers=headers, body=body, now=1_700_000_100)


@pytest.mark.parametrize("secret", ["", "whsec_", "whsec_c2hvcnQ=", "whsec_%%%"])
def test_malformed_secrets_are_refused(secret: str) -> None:
    with pytest.raises(ValueError, match="webhook secret"):
        sign_webhook(secret=secret, msg_id="msg_1", timestamp=1, body=b"{}")


@pytest.mark.parametrize("msg_id", ["", "msg.1", "msg 1", "msg\n1"])
def test_message_ids_that_could_forge_the_signed_content_are_refused(msg_id: str) -> None:
    with pytest.raises(ValueError, match="webhook id"):
        sign_webhook(secret=new_webhook_secret(), msg_id=msg_id, timestamp=1, body=b"{}")


def test_payload_golden_single_story() -> None:
    body = webhook_payload(sample_alert())
    assert body == (DATA / "story_matched.json").read_bytes().rstrip(b"\n")
    event = json.loads(body)
    assert event["type"] == "story.matched"
    assert event["timestamp"] == "2024-05-01T12:01:30Z"
    assert set(event["data"]) == {"story", "topic", "article"}


def test_payload_golden_digest() -> None:
    alert = sample_alert(stories=[
        {"id": 7, "title": "Central bank raises rates", "url": "https://news.example.org/rates",
         "article": {"id": 11, "url": "https://news.example.org/rates", "source": "Example"}},
        {"id": 8, "title": "Markets slide — “unexpected” move", "url": "https://b.example/x"},
    ])
    body = webhook_payload(alert)
    assert body == (DATA / "story_digest.json").read_bytes().rstrip(b"\n")
    event = json.loads(body)
    assert event["type"] == "story.digest"
    assert [s["id"] for s in event["data"]["stories"]] == [7, 8]


def test_payload_is_the_same_on_every_retry() -> None:
    alert = sample_alert()
    assert webhook_payload(alert) == webhook_payload(alert, now=datetime.now(UTC))
    fresh = sample_alert(created_at=None)
    later = webhook_payload(fresh, now=datetime(2030, 1, 1, tzinfo=UTC))
    assert json.loads(later)["timestamp"] == "2030-01-01T00:00:00Z"


def test_rendered_text_golden_and_html_escaped() -> None:
    alert = sample_alert()
    assert subject_of(alert) == (
        "[Wirewatch] Interest rates: Central bank raises rates by half a point"
    )
    assert text_of(alert) == (DATA / "story_matched.txt").read_text(encoding="utf-8")
    assert html_of(alert) == (DATA / "story_matched.html").read_text(encoding="utf-8")
    hostile = sample_alert(
        story={"title": "<script>alert(1)</script>\r\nBcc: x@y", "url": "javascript:alert(1)"},
        article={"url": "javascript:alert(2)"},
    )
    assert "\n" not in subject_of(hostile) and "\r" not in subject_of(hostile)
    page = html_of(hostile)
    assert "<script>" not in page and "javascript:" not in page
    assert "&lt;script&gt;" in page
