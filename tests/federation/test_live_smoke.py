from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.federation.instances import live_instances, wait_until


def test_member_of_one_instance_follows_group_of_another(pg_server: Any, tmp_path: Path) -> None:
    with live_instances(tmp_path) as (a, b):
        a.create_user("alice")
        a.create_group("voisins", "alice")
        b.create_user("bob")
        bob = b.browser("bob")
        response = bob.post_form(
            "/following", {"handle": f"@voisins@{a.domain}"}, page="/following"
        )
        assert response.status_code == 303
        wait_until(lambda: a.sql("SELECT 1 FROM follows WHERE state = 'accepted'"))
        wait_until(lambda: b.sql("SELECT 1 FROM follows WHERE state = 'accepted'"))
