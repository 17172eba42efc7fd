"""An integrator's view of the API: a client generated from /api/schema/ with
openapi-python-client, used against a live server."""

import importlib
import inspect
import shutil
import subprocess
import sys
import typing
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from tests.factories import ArticleFactory

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "reex_generated_client"


@pytest.fixture
def generated_client(live_server, tmp_path: Path) -> Iterator[ModuleType]:
    """Generate the client from the live schema (bounded in time) and import it."""
    if not GENERATOR.exists() and shutil.which("openapi-python-client") is None:
        pytest.skip("openapi-python-client is not installed")
    schema = httpx.get(f"{live_server.url}/api/schema/", timeout=30).text
    (tmp_path / "schema.yaml").write_text(schema)
    command = [str(GENERATOR), "generate", "--path", "schema.yaml", "--output-path", PACKAGE]
    env = {"PATH": f"{GENERATOR.parent}:/usr/bin:/bin", "HOME": str(tmp_path)}
    subprocess.run(
        [*command, "--meta", "none"],
        cwd=tmp_path,
        env=env,
        check=True,
        timeout=180,
        capture_output=True,
    )
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def _operation(package: ModuleType, name: str) -> ModuleType:
    return importlib.import_module(f"{package.__name__}.api.v1.{name}")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_generated_client_posts_reads_field_errors_and_reads_without_a_token(
    generated_client, live_server, mocker
):
    mocker.patch("comments.tasks.moderate_comment.delay")
    ArticleFactory.create(key="welcome", title="Welcome")
    models = importlib.import_module(f"{PACKAGE}.models")
    client = generated_client.Client(base_url=live_server.url)  # no credentials
    create = _operation(generated_client, "comment_create")

    bad = models.CommentCreateRequest(author_name="", author_email="not-an-address", body="x")
    refused = create.sync_detailed("welcome", client=client, body=bad)
    assert refused.status_code == 400
    errors = refused.parsed
    assert isinstance(errors, models.CommentCreateErrors)
    assert errors.author_email == ["Enter a valid email address."]
    assert errors.author_name == ["This field is required."]
    assert errors.body and "at least 2 characters" in errors.body[0]

    good = models.CommentCreateRequest(
        author_name="Ann", author_email="ann@example.org", body="From a generated client."
    )
    accepted = create.sync("welcome", client=client, body=good)
    assert isinstance(accepted, models.CommentAccepted)
    assert accepted.status == "pending" and accepted.edit_token

    # Declared without authentication: the generated operation takes a plain Client.
    read = _operation(generated_client, "article_get").sync
    accepted_clients = typing.get_args(inspect.signature(read).parameters["client"].annotation)
    assert generated_client.Client in accepted_clients
    article = read("welcome", client=client)
    assert isinstance(article, models.Article)
    assert (article.key, article.title, article.comment_count) == ("welcome", "Welcome", 0)
    missing = _operation(generated_client, "article_get").sync("nope", client=client)
    assert isinstance(missing, models.Problem)
