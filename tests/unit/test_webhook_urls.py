"""Which addresses a tenant's webhooks may not reach, IPv4 inside IPv6 included, and which URLs a
create refuses as written."""

from __future__ import annotations

import ipaddress

import pytest

from videos_core.webhook_urls import RefusedUrlError, check_url, refusal


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.2", "loopback"),
        ("::1", "loopback"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "private"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("100.127.255.254", "carrier-grade NAT"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("192.0.2.1", "private"),  # documentation range: never public
        ("::ffff:169.254.169.254", "link-local"),  # IPv4-mapped
        ("::ffff:127.0.0.1", "loopback"),
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
        ("2002:a00:1::1", "private"),  # 6to4 of 10.0.0.1
    ],
)
def test_an_address_that_is_not_public_is_refused_with_its_class(address: str, reason: str) -> None:
    found = refusal(ipaddress.ip_address(address))

    assert found is not None
    assert reason in found


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1::1", "::ffff:93.184.216.34"])
def test_a_public_address_is_taken(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


def test_loopback_http_is_taken_only_where_it_is_allowed() -> None:
    url = "http://127.0.0.1:8123/hook"

    assert check_url(url, allow_loopback=True) == url
    with pytest.raises(RefusedUrlError, match="https"):
        check_url(url, allow_loopback=False)
    with pytest.raises(RefusedUrlError, match="https"):
        check_url("http://10.0.0.1/hook", allow_loopback=True)


@pytest.mark.parametrize(
    "url", ["https://127.0.0.1/hook", "https://localhost:8443/hook", "https://[::1]/hook"]
)
def test_loopback_is_refused_at_create_unless_allowed(url: str) -> None:
    with pytest.raises(RefusedUrlError, match="loopback"):
        check_url(url, allow_loopback=False)
    assert check_url(url, allow_loopback=True) == url


def test_a_host_name_is_left_to_the_delivery_to_resolve() -> None:
    assert check_url("https://hooks.example.com/x", allow_loopback=False) == "https://hooks.example.com/x"
