"""Registers every domain's command-line commands on the app (`flask --app wsgi ...`)."""
from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from matchmaker.console.cli import report_cli
    from matchmaker.demands.cli import demands_cli
    from matchmaker.demo.cli import seed_demo_command
    from matchmaker.events.cli import events_cli
    from matchmaker.exchange.cli import exchange_cli
    from matchmaker.interchange.cli import data_cli
    from matchmaker.jobs.cli import jobs_cli
    from matchmaker.migrate import db_cli
    from matchmaker.offers.cli import offers_cli
    from matchmaker.ranking.cli import ranking_cli
    from matchmaker.search_cli import search_cli

    app.cli.add_command(db_cli)
    app.cli.add_command(data_cli)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(events_cli)
    app.cli.add_command(demands_cli)
    app.cli.add_command(search_cli)
    app.cli.add_command(offers_cli)
    app.cli.add_command(report_cli)
    app.cli.add_command(ranking_cli)
    app.cli.add_command(exchange_cli)
    app.cli.add_command(jobs_cli)
