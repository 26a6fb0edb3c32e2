"""SSRF guard: webhooks connect to public addresses, or to networks the admin allowed."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from pydantic import ValidationError

from core.settings import Settings
from engagement.webhooks import delivery, outbox, service
from engagement.webhooks.guard import allowed
from engagement.webhooks.jobs import deliver_webhooks
from engagement.webhooks.schemas import WebhookSubscriptionCreate
from tests.conftest import LOOPBACK
from tests.webhook_receiver import WebhookReceiver

TEN = [ipaddress.ip_network("10.0.0.0/8")]


@pytest.mark.parametrize(
    ("address", "networks", "ok"),
    [
        ("93.184.216.34", [], True),
        ("2606:2800:220:1:248:1893:25c8:1946", [], True),
        ("10.1.2.3", [], False),
        ("192.168.0.10", [], False),
        ("172.16.5.4", [], False),
        ("127.0.0.1", [], False),
        ("169.254.169.254", [], False),  # cloud metadata
        ("0.0.0.0", [], False),
        ("100.64.0.1", [], False),  # carrier-grade NAT
        ("224.0.0.1", [], False),
        ("::1", [], False),
        ("fe80::1", [], False),
        ("fd00::1", [], False),
        ("::ffff:10.1.2.3", [], False),  # IPv4-mapped: judged as the IPv4 address
        ("10.1.2.3", TEN, True),
        ("::ffff:10.1.2.3", TEN, True),
        ("192.168.0.10", TEN, False),
    ],
)
def test_only_public_or_allowed_addresses(address, networks, ok):
    assert allowed(ipaddress.ip_address(address), networks) is ok


def _post(url, networks=()):
    with delivery.build_client(5, networks=networks) as client:
        return delivery.post_signed(client, url, ["whsec_MDEyMzQ1Njc4OQ=="], "evt_1", b"{}", 5)


def test_loopback_is_refused_before_any_request_unless_allowed():
    with WebhookReceiver() as rx:
        refused = _post(rx.url)
        by_name = _post(rx.url.replace("127.0.0.1", "localhost"))
        sent = _post(rx.url, LOOPBACK)
    assert refused.status_code is None and "127.0.0.1, which is not a public address" in (
        refused.error or ""
    )
    assert "SOCIALCRM_WEBHOOK_ALLOWED_NETWORKS" in (refused.error or "")
    assert by_name.status_code is None and "not a public address" in (by_name.error or "")
    assert sent.status_code in (200, 401)  # reached the receiver (it checks its own secret)
    assert len(rx.received) == 1


def test_a_name_with_one_private_address_is_refused(monkeypatch):
    """A DNS answer mixing a public and an internal address must not reach the internal one."""

    def resolve(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    outcome = _post("https://crm.example.com/hook")
    assert outcome.status_code is None
    assert "crm.example.com resolves to 10.0.0.5" in (outcome.error or "")


def test_an_unresolvable_name_is_a_connection_error(monkeypatch):
    def fail(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    outcome = _post("https://crm.invalid/hook")
    assert outcome.status_code is None and "cannot resolve crm.invalid" in (outcome.error or "")


def test_the_delivery_job_and_the_test_ping_follow_the_setting(session, session_factory, tmp_path):
    strict = Settings(
        database_url=f"sqlite:///{tmp_path / 'x.db'}",
        webhook_allowed_networks="",
        _env_file=None,
    )
    with WebhookReceiver() as rx:
        sub = service.create_subscription(
            session, WebhookSubscriptionCreate(url=rx.url, event_types=["*"])
        )
        outbox.emit(session, "task.opened", {"task_id": 1})
        session.commit()
        report = deliver_webhooks(session_factory, strict)
        ping = service.send_test(session, sub.id, timeout=5, networks=strict.webhook_networks())
    assert (report.claimed, report.delivered, report.retrying) == (1, 0, 1)
    (row,) = service.list_deliveries(session, sub.id)[0]
    assert "not a public address" in (row.last_error or "")
    assert not ping.delivered and "not a public address" in (ping.error or "")
    assert rx.received == []


def test_bad_networks_fail_at_start_up(tmp_path):
    with pytest.raises(ValidationError, match="is not an IP network"):
        Settings(
            database_url=f"sqlite:///{tmp_path / 'x.db'}",
            webhook_allowed_networks="10.0.0.0/8, intranet",
            _env_file=None,
        )
