"""The dashboards may read from a replica (cxplatform.db); everything else reads and
writes the primary."""

from __future__ import annotations

from django.urls import reverse

from cxplatform import db
from cxplatform.models import Team


def test_reads_go_to_the_replica_only_inside_the_block_and_only_when_there_is_one(monkeypatch):
    router = db.ReplicaRouter()
    assert router.db_for_read(Team) is None  # no replica configured: the default
    with db.replica():
        assert router.db_for_read(Team) is None
    monkeypatch.setattr(db, "replica_configured", lambda: True)
    assert router.db_for_read(Team) is None
    with db.replica():
        assert router.db_for_read(Team) == db.REPLICA
        assert router.db_for_write(Team) == "default"
    assert router.db_for_read(Team) is None
    assert router.allow_migrate(db.REPLICA, "cxplatform") is False


def test_the_dashboard_reads_from_the_replica_and_a_list_page_does_not(monkeypatch, admin):
    seen: list[tuple[str, bool]] = []
    page = "dashboard"

    def spy(self, model, **hints):
        seen.append((page, db._reading_replica.get()))

    monkeypatch.setattr(db.ReplicaRouter, "db_for_read", spy)
    assert admin.get(reverse("dashboard")).status_code == 200
    page = "contacts"
    assert admin.get(reverse("feedback:contact_list")).status_code == 200
    dashboard_reads = [flag for name, flag in seen if name == "dashboard"]
    assert dashboard_reads.count(True) >= 3, "the figures are read inside replica()"
    assert not any(flag for name, flag in seen if name == "contacts")
