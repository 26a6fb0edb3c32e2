"""Webhooks reach public addresses only, unless the admin allows a network (SSRF guard).

Whoever holds an API key can point a webhook at any URL; without a guard, social-crm would
then POST to the cloud metadata service (169.254.169.254), the database's admin port or any
other internal service on their behalf. The guard sits where the connection is made: the host
is resolved once, every address it resolves to must be public (or inside
SOCIALCRM_WEBHOOK_ALLOWED_NETWORKS), and the connection goes to one of those very addresses.
Checking the name first and connecting later would let a DNS answer change in between (DNS
rebinding). TLS still verifies the certificate against the URL's host name.

A refused address is a connection error: the delivery records why and retries on its
schedule, and the admin's test ping shows the reason at once.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from typing import Any

import httpcore
import httpx

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def allowed(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    """Public unicast addresses, and any address inside an allowed network."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in networks):
        return True
    return address.is_global and not address.is_multicast


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's network backend, connecting only to addresses the policy allows."""

    def __init__(self, networks: Iterable[IPNetwork] = ()) -> None:
        self.networks = list(networks)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        """Resolve `host`, refuse it unless every address is allowed, connect to one."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses: list[IPAddress] = []
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if address not in addresses:
                addresses.append(address)
        for address in addresses:
            if not allowed(address, self.networks):
                raise httpcore.ConnectError(
                    f"{host} resolves to {address}, which is not a public address; "
                    "SOCIALCRM_WEBHOOK_ALLOWED_NETWORKS can allow its network"
                )
        error: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return super().connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                error = exc
        raise error or httpcore.ConnectError(f"{host} has no address")


def guarded_transport(networks: Iterable[IPNetwork] = ()) -> httpx.HTTPTransport:
    """An httpx transport whose connections pass the guard (no retries of its own)."""
    transport = httpx.HTTPTransport(retries=0)
    # httpx offers no public hook for the network backend; its pool (or proxy pool) has one.
    transport._pool._network_backend = GuardedBackend(networks)
    return transport
