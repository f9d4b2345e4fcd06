"""Builds the demo world: each domain adds a step; running twice changes nothing."""
from __future__ import annotations

import random

import sqlalchemy as sa

from matchmaker.auth.services import hash_password
from matchmaker.demo.events import seed_events
from matchmaker.demo.offers import seed_offers
from matchmaker.demo.organizations import DEMO_PASSWORD, Seeder, seed_organizations
from matchmaker.demo.products import seed_products
from matchmaker.demo.projects import seed_projects_and_demands
from models import Organization, db_session, record


def demo_exists() -> bool:
    return db_session.scalar(sa.select(Organization.id).where(Organization.ref == "demo-bureau-city")) is not None


def database_is_empty() -> bool:
    return db_session.scalar(sa.select(Organization.id).limit(1)) is None


def seed_demo(city, *, seed: int = 2026, enterprises: int = 300) -> dict | None:
    """Create the demo world in one transaction; returns the demo logins, or None if it exists."""
    if demo_exists():
        return None
    s = Seeder(random.Random(seed), hash_password(DEMO_PASSWORD))
    logins = seed_organizations(s, city, enterprises=enterprises)
    db_session.flush()
    seed_projects_and_demands(s, city)
    # Each domain's step draws from its own generator, so adding a step never changes the others.
    seed_events(random.Random(seed + 10), city)
    seed_products(random.Random(seed + 20), city)
    db_session.flush()
    seed_offers(random.Random(seed + 30), city)
    db_session.flush()
    city_bureau = db_session.scalar(sa.select(Organization).where(Organization.ref == "demo-bureau-city"))
    record(None, "demo.seeded", city_bureau, seed=seed, enterprises=enterprises)
    db_session.commit()
    return logins
