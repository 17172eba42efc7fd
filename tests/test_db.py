import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection

from reex import db


def test_an_sqlite_older_than_3_35_is_refused_with_a_clear_message():
    errors = db.sqlite_version_errors((3, 34, 1))
    assert [e.id for e in errors] == ["reex.E001"]
    assert "SQLite 3.34.1 is too old: reex needs 3.35.0 or newer" in errors[0].msg


def test_sqlite_3_35_and_newer_pass():
    assert db.sqlite_version_errors((3, 35, 0)) == []
    assert db.sqlite_version_errors((3, 46, 1)) == []


def test_manage_py_check_refuses_an_old_sqlite_when_sqlite_is_the_database(mocker):
    mocker.patch.object(db.sqlite3, "sqlite_version_info", (3, 31, 1))
    if connection.vendor != "sqlite":
        call_command("check")  # PostgreSQL: the SQLite library in Python does not matter
        return
    with pytest.raises(SystemCheckError, match=r"reex\.E001"):
        call_command("check")


def test_skip_locked_is_asked_only_where_the_database_has_it():
    expected = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    assert db.skip_locked(connection) == expected


@pytest.mark.postgres_only(reason="synchronous_commit is a PostgreSQL setting")
@pytest.mark.django_db
def test_commits_unflushed_holds_only_inside_the_block():
    def setting() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return str(cursor.fetchone()[0])

    with db.commits_unflushed():
        assert setting() == "off"
    assert setting() == "on"
