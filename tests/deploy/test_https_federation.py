"""Federation over real HTTPS: the shipped Caddyfile ends TLS and every peer verifies certificates.

The names resolve to loopback addresses inside each process (tests/deploy/resolver.py), and each
instance trusts a CA made for the test through SSL_CERT_FILE, as it would trust a public CA.
"""

from __future__ import annotations

import socket
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.deploy.resolver import resolving
from tests.deploy.tls import Site, https_instances, make_authority, write_bundle
from tests.federation.instances import LiveInstance, wait_until


def follow_state(instance: LiveInstance, follower: str, target: str) -> str | None:
    """Return the state of the follow of `target` by `follower` (actor names) on `instance`."""
    rows = instance.sql(
        """
        SELECT f.state FROM follows f
        JOIN actors fa ON fa.id = f.follower_id JOIN actors ta ON ta.id = f.target_id
        WHERE fa.name = $1 AND ta.name = $2
        """,
        follower,
        target,
    )
    return str(rows[0]["state"]) if rows else None


def test_group_follow_and_post_travel_over_verified_https(
    pg_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trusted = make_authority(tmp_path / "ca", "Entraide test CA")
    stranger = make_authority(tmp_path / "stranger-ca", "Unknown test CA")
    sites = [
        Site("a.entraide.test", "127.0.0.12", trusted),
        Site("b.entraide.test", "127.0.0.13", trusted),
        # Signed by a CA the instances do not trust: nobody may fetch from it.
        Site("c.entraide.test", "127.0.0.14", stranger),
    ]
    # The people's browsers (this process) resolve the names too, and trust both CAs.
    monkeypatch.setattr(socket, "getaddrinfo", resolving({s.name: s.address for s in sites}))
    browsers_trust = write_bundle(tmp_path / "browsers.pem", [trusted, stranger])
    monkeypatch.setenv("SSL_CERT_FILE", str(browsers_trust))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)

    with https_instances(tmp_path, sites, trust=trusted.cert_path) as (a, b, c):
        a.create_user("alice")
        a.create_group("voisins", "alice")
        b.create_user("bob")
        c.create_user("carol")
        bob, carol = b.browser("bob"), c.browser("carol")
        handle = f"@voisins@a.entraide.test:{a.public_port}"
        for member in (bob, carol):
            response = member.post_form("/following", {"handle": handle}, page="/following")
            assert response.status_code == 303, response.text

        # WebFinger, the group actor, the Follow and its Accept all went through Caddy over TLS.
        wait_until(lambda: follow_state(b, "bob", "voisins") == "accepted", timeout=20)
        assert follow_state(a, "bob", "voisins") == "accepted"
        [group] = b.sql("SELECT uri, inbox, domain FROM actors WHERE name = 'voisins'")
        assert group["uri"] == f"https://a.entraide.test:{a.public_port}/groups/voisins"
        assert group["inbox"].startswith(f"{a.base_url}/")
        assert group["domain"] == a.domain
        [follower] = a.sql("SELECT uri, inbox FROM actors WHERE name = 'bob'")
        assert follower["uri"] == f"https://b.entraide.test:{b.public_port}/users/bob"
        assert follower["inbox"].startswith(f"{b.base_url}/")

        alice = a.browser("alice")
        text = "Soupe solidaire jeudi, par TLS"
        response = alice.post_form(
            "/groups/voisins/posts",
            {"content": text, "content_warning": ""},
            page="/groups/voisins",
        )
        assert response.status_code == 303, response.text
        [post] = a.sql("SELECT id FROM posts WHERE content = $1", text)
        post_uri = f"{a.base_url}/posts/{post['id']}"
        wait_until(lambda: b.sql("SELECT 1 FROM posts WHERE uri = $1", post_uri), timeout=20)
        assert text in bob.get("/following").text

        # A cannot verify C's certificate, so it cannot fetch carol's key: it refuses her
        # Follow (503, worth retrying), and C records the delivery as failing.
        [failing] = wait_until(
            lambda: c.sql("SELECT inbox, last_error FROM deliveries WHERE last_error IS NOT NULL"),
            timeout=20,
        )
        assert failing["inbox"].startswith(f"{a.base_url}/")
        assert failing["last_error"] == "HTTP 503"
        assert follow_state(c, "carol", "voisins") == "pending"
        assert follow_state(a, "carol", "voisins") is None
        assert a.sql("SELECT 1 FROM actors WHERE domain = $1", c.domain) == []
        # It is the certificate: C itself answers, to a client that trusts its CA.
        assert carol.get("/nodeinfo/2.0").status_code == 200
        instance_trust = ssl.create_default_context(cafile=trusted.cert_path)
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"{c.base_url}/nodeinfo/2.0", verify=instance_trust)
