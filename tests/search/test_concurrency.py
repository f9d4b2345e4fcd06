"""Several processes share one embedded index directory, as gunicorn workers and commands do."""
from __future__ import annotations

import multiprocessing

from search.embedded import EmbeddedBackend
from search.query import SearchQuery


def _writer(directory: str, worker: int, batches: int) -> None:
    backend = EmbeddedBackend(directory, lock_timeout=30)
    for b in range(batches):
        docs = [{"ref": f"dm-{worker}-{b}-{i}", "title": f"第{worker}号进程写入的锂电池项目", "status": "published",
                 "created_at": "2026-03-01T09:00:00"} for i in range(5)]
        backend.index("demand", docs)


def _rebuilder(directory: str, rounds: int) -> None:
    backend = EmbeddedBackend(directory, lock_timeout=30)
    for r in range(rounds):
        backend.rebuild("product", [{"ref": f"pd-{r}-{i}", "title": "技改贷"} for i in range(50)])


def test_writers_in_several_processes_lose_nothing_and_readers_see_their_commits(tmp_path):
    directory = str(tmp_path / "index")
    reader = EmbeddedBackend(directory)
    assert reader.count("demand") == 0
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter, like a separate gunicorn worker
    procs = [ctx.Process(target=_writer, args=(directory, w, 8)) for w in range(3)]
    procs.append(ctx.Process(target=_rebuilder, args=(directory, 3)))
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    # This process opened its reader before the others wrote: the next search sees every commit.
    assert reader.count("demand") == 3 * 8 * 5
    assert reader.search(SearchQuery(text="锂电池")).total == 120
    assert reader.search(SearchQuery(text="技改贷", doc_type="product")).total == 50
    generations = [p.name for p in (tmp_path / "index").iterdir() if p.name.startswith("product-")]
    assert len(generations) <= 2  # old generations are collected
