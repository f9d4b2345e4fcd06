"""Search fixtures: one parametrised backend fixture (embedded always, live Elasticsearch when configured)."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from matchmaker.city import load_city
from search.documents import demand_document
from search.synthetic import demands

CITY = load_city(str(Path(__file__).resolve().parents[2] / "matchmaker" / "city" / "zaozhuang.toml"))
SYNONYMS = CITY.synonyms
BACKENDS = ["embedded"] + (["elasticsearch"] if os.environ.get("ELASTICSEARCH_URL") else [])


def _backend(kind: str, directory: Path, synonyms):
    if kind == "embedded":
        from search.embedded import EmbeddedBackend

        return EmbeddedBackend(directory, synonyms=synonyms, lock_timeout=2), lambda: None
    from search.elastic import ElasticBackend

    backend = ElasticBackend.from_url(os.environ["ELASTICSEARCH_URL"], prefix=f"mmtest-{uuid.uuid4().hex[:8]}",
                                      synonyms=synonyms, refresh=True)
    return backend, backend.drop_all


@pytest.fixture(params=BACKENDS)
def make_backend(request, tmp_path):
    """`make_backend(synonyms=...)`: a fresh, empty backend of each kind; cleaned up after the test."""
    cleanups = []

    def _make(synonyms=SYNONYMS):
        backend, cleanup = _backend(request.param, tmp_path / f"index{len(cleanups)}", synonyms)
        cleanups.append(cleanup)
        return backend

    yield _make
    for cleanup in cleanups:
        cleanup()


@pytest.fixture(params=["embedded", "elasticsearch-recorded", *BACKENDS[1:]])
def any_backend(request, tmp_path):
    """Every backend including Elasticsearch behind the recording node: for the contract, not for results."""
    if request.param == "elasticsearch-recorded":
        from tests.search.recording import recording_backend

        yield recording_backend(synonyms=SYNONYMS)
        return
    backend, cleanup = _backend(request.param, tmp_path / "index", SYNONYMS)
    yield backend
    cleanup()


@pytest.fixture(scope="module")
def corpus_docs():
    """400 synthetic demand documents from a fixed seed."""
    return [demand_document(d) for d in demands(400, seed=20261126)]


@pytest.fixture(scope="module", params=BACKENDS)
def corpus(request, corpus_docs, tmp_path_factory):
    """A backend of each kind holding the synthetic corpus (built once per module)."""
    backend, cleanup = _backend(request.param, tmp_path_factory.mktemp("corpus"), SYNONYMS)
    backend.rebuild("demand", corpus_docs)
    yield backend
    cleanup()


@pytest.fixture(autouse=True)
def _explicit_outbox(request):
    """The outbox tests count the rows they enqueue themselves: the app's automatic queueing is off there."""
    if request.module.__name__.rsplit(".", 1)[-1] not in ("test_sync", "test_cli") or "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    app.config["SEARCH_QUEUE_CHANGES"] = False
    yield
    app.config["SEARCH_QUEUE_CHANGES"] = True
