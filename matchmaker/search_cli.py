"""The Flask side of search: the app's backend, `flask search reindex|query|sync|status`, and sync after writes."""
from __future__ import annotations

import json
import logging
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from models import get_engine
from models.search_outbox import DIRTY_KEY
from search.backend import SearchBackend, SearchUnavailable, make_backend
from search.query import DOC_TYPES, QueryError, SearchQuery, parse_filter_args
from search.sources import make_loader, registered_types, source_for
from search.sync import drain, pending_count

log = logging.getLogger(__name__)
search_cli = AppGroup("search", help="搜索索引：重建、查询、同步。")

# What a search page counts by default, per document type.
DEFAULT_FACETS = {
    "demand": ["district", "cluster", "purpose", "financing_type", "collateral", "status"],
    "product": ["kind", "district", "cluster", "collateral", "status"],
    "organization": ["kind", "district", "cluster"],
}


def get_backend(app: Flask | None = None) -> SearchBackend:
    """The app's search backend, built once per process from its settings and the city's synonyms."""
    app = app or current_app._get_current_object()
    backend = app.extensions.get("search")
    if backend is None:
        backend = make_backend(app.config, synonyms=app.extensions["city"].synonyms)
        app.extensions["search"] = backend
    return backend


def search(query: SearchQuery):
    """Run a query on the app's backend (views call this; QueryError and SearchUnavailable pass through)."""
    return get_backend().search(query)


def sync_now(app: Flask | None = None):
    """Drain the outbox on a session of its own (never the request's); failures stay queued. Never raises."""
    session = Session(bind=get_engine())
    try:
        return drain(get_backend(app), make_loader(session), session=session, max_batches=2)
    except Exception as e:  # the web request that wrote must not fail because the index is down
        log.warning("search sync after commit failed, the outbox keeps the changes: %s", e)
        session.rollback()
        return None
    finally:
        session.close()


def sync_all():
    """Drain the whole outbox now (after an import or seeding); None if the index is unreachable. Never raises."""
    try:
        return drain(get_backend(), make_loader())
    except Exception as e:  # the data is committed; the outbox keeps the changes for `search sync`
        log.warning("search sync after an import failed, the outbox keeps the changes: %s", e)
        return None


def init_app(app: Flask) -> None:
    """After a request whose transaction queued index changes, apply them (microblog's after_commit idea)."""
    from models import db_session

    @app.after_request
    def _sync_search(response):
        queued = db_session.registry.has() and db_session().info.pop(DIRTY_KEY, False)
        if queued and app.config.get("SEARCH_SYNC_AFTER_REQUEST", True):
            sync_now(app)
        return response


@search_cli.command("reindex")
@click.option("--type", "doc_type", type=click.Choice(DOC_TYPES), help="只重建这一类（默认全部已注册的类型）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出各类的索引条数。")
def reindex_command(doc_type, as_json):
    """从数据库重建搜索索引（新索引建好后一次切换，搜索不中断）。"""
    try:
        counts = reindex([doc_type] if doc_type else None)
    except SearchUnavailable as e:
        raise click.ClickException(f"搜索服务不可用：{e}") from e
    if as_json:
        click.echo(json.dumps({"indexed": counts}, ensure_ascii=False))


def reindex(types: list[str] | None = None) -> dict[str, int]:
    """Rebuild the index of `types` (all registered by default) from the database, with progress on stderr."""
    backend = get_backend()
    counts = {}
    for name in types or registered_types():
        try:
            source = source_for(name)
        except KeyError:
            click.echo(f"{name}：尚无数据来源（该模块尚未接入搜索），跳过。", err=True)
            continue
        with click.progressbar(length=source.count(), label=f"重建 {name}", file=sys.stderr) as bar:
            n = backend.rebuild(name, source.iter_documents(), progress=bar.update)
        counts[name] = n
        click.echo(f"{name}：已索引 {n} 条", err=True)
    return counts


@search_cli.command("query")
@click.argument("text", default="")
@click.option("--type", "doc_type", type=click.Choice(DOC_TYPES), default="demand", show_default=True,
              help="搜索哪一类。")
@click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE", help="筛选条件，可重复（同名为“或”）。")
@click.option("--sort", default="relevance", show_default=True, help="relevance、newest、amount 或 amount_asc。")
@click.option("--page", default=1, show_default=True, type=int)
@click.option("--per-page", default=20, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出（供程序读取）。")
def query_command(text, doc_type, filters, sort, page, per_page, as_json):
    """查询搜索索引，例如：flask search query 锂电 --filter district=滕州市 --json"""
    try:
        query = SearchQuery(text=text, filters=parse_filter_args(filters), sort=sort, page=page,
                            per_page=per_page, facets=DEFAULT_FACETS[doc_type], doc_type=doc_type)
        result = get_backend().search(query)
    except QueryError as e:
        click.echo(f"查询有误（{e.field}）：{e.message}", err=True)
        sys.exit(2)
    except SearchUnavailable as e:
        raise click.ClickException(f"搜索服务不可用：{e}") from e
    if as_json:
        click.echo(json.dumps(result.as_json(), ensure_ascii=False))
        return
    click.echo(f"共 {result.total} 条（第 {result.page}/{result.pages} 页）")
    for hit in result.hits:
        snippet = next(iter(hit.highlights.values()), [""])[0]
        score = "" if hit.score is None else f"{hit.score:.3f}"
        click.echo(f"{hit.ref}\t{score}\t{snippet}")
    for facet, counts in result.facets.items():
        click.echo(f"{facet}: " + "，".join(f"{k} {v}" for k, v in counts.items()))


@search_cli.command("sync")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出结果。")
def sync_command(as_json):
    """把索引待办队列（outbox）中到期的变更写入搜索索引；失败的保留并稍后重试。"""
    report = drain(get_backend(), make_loader())
    if as_json:
        click.echo(json.dumps(report.as_json() | {"pending": pending_count()}, ensure_ascii=False))
    click.echo(f"已同步 {report.applied} 条，失败 {report.failed} 条，队列剩余 {pending_count()} 条", err=True)
    for doc_type, error in report.errors.items():
        click.echo(f"  {doc_type}: {error}", err=True)
    if report.failed:
        sys.exit(1)


@search_cli.command("status")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
def status_command(as_json):
    """显示搜索后端是否可用、各类索引的文档数和待同步的变更数。"""
    health = get_backend().health() | {"pending": pending_count()}
    if as_json:
        click.echo(json.dumps(health, ensure_ascii=False))
        return
    click.echo(f"后端 {health['backend']}：{'正常' if health['ok'] else '不可用'}；待同步 {health['pending']} 条")
    for doc_type, n in health["documents"].items():
        click.echo(f"  {doc_type}: {'-' if n is None else n}")
