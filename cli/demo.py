"""The bundled demo: fictional brand Lumen Mobile, its mentions, customers, team and history.

Everything goes through the same services a real deployment uses (import, scoring, rules,
lifecycle, compensations), so the demo shows what the product does, not canned screens. The only
staged part is the team's past work: conversations where the brand already answered are
assigned, some get a compensation, and they are resolved an hour after the customer's last word.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from cli.importer import import_file
from collectors import service as collectors
from collectors.models import Platform
from collectors.repository import count_mentions
from collectors.schemas import SourceCreate
from core.db import unit_of_work
from core.settings import Settings
from engagement import agents, templates
from engagement import service as tasks
from engagement.customers import csvimport
from engagement.recovery.jobs import evaluate_recovery
from engagement.replies import service as replies
from engagement.schemas import AgentCreate, ReplyTemplateCreate

DEMO_DIR = Path(__file__).resolve().parent.parent / "core" / "demo"
DEMO_AGENTS = ("demo", "ana", "ben")
DEMO_TEMPLATES = (
    (
        "Apology, move to DM",
        "Hi {first_name}, we're sorry about this. Please DM us your account number and we'll "
        "sort it out today. - {agent}",
    ),
    (
        "Known outage",
        "Hi {first_name}, engineers are working on the outage in your area; we'll update you "
        "here as soon as service is back. - {agent}",
    ),
    ("Thanks for the kind words", "Thanks so much, {first_name}! We'll pass it on. - {agent}"),
)
HISTORY_ACTOR = "demo-history"


def load_demo(
    factory: sessionmaker[Session],
    settings: Settings,
    echo: Callable[[str], None],
    *,
    if_empty: bool = False,
    drop_dir: Path = Path("var/drop"),
) -> bool:
    """Load the demo into the configured database; False when skipped (not empty)."""
    with unit_of_work(factory) as session:
        existing = count_mentions(session)
    if if_empty and existing:
        echo(f"demo not loaded: the database already holds {existing} mentions")
        return False
    with unit_of_work(factory) as session:
        for name in DEMO_AGENTS:
            agents.create_agent(session, AgentCreate(name=name))
        for name, body in DEMO_TEMPLATES:
            templates.create_template(session, ReplyTemplateCreate(name=name, body=body))
    with unit_of_work(factory) as session:
        customers = csvimport.import_csv(session, DEMO_DIR / "customers.csv", "demo")
    echo("demo customers: " + customers.summary())
    report = import_file(factory, settings, DEMO_DIR / "mentions.jsonl", process=True)
    echo("demo: " + report.summary())
    with unit_of_work(factory) as session:
        resolved = _past_work(session)
    echo(f"demo: the team's past work: {resolved} answered conversations resolved")
    outcome = evaluate_recovery(factory, settings)
    echo(
        f"demo: service recovery measured on {outcome.examined} complaints: "
        f"{outcome.recovered} recovered, {outcome.unchanged} unchanged, {outcome.worse} worse, "
        f"{outcome.no_followup} without follow-up, {outcome.pending} still in their window"
    )
    drop = drop_dir.resolve()
    drop.mkdir(parents=True, exist_ok=True)
    with unit_of_work(factory) as session:
        if not collectors.list_sources(session):
            source = collectors.create_source(
                session,
                SourceCreate(
                    name=f"Drop folder ({drop_dir})",
                    platform=Platform.file,
                    config={"path": str(drop)},
                    schedule_seconds=60,
                ),
            )
            echo(f"demo: source {source.id} collects JSONL/CSV files dropped into {drop}")
    return True


def _past_work(session: Session) -> int:
    """Resolve the conversations the brand already answered, as the team would have."""
    open_tasks, _ = tasks.list_tasks(session, status="open", limit=10_000)
    answered = [(t, t.first_response_at) for t in open_tasks if t.first_response_at is not None]
    for n, (task, first_response_at) in enumerate(answered):
        agent = DEMO_AGENTS[1 + n % 2]
        tasks.assign(session, task.id, agent, HISTORY_ACTOR, now=first_response_at)
        if n % 3 == 0:
            replies.add_compensation(
                session,
                task.id,
                kind="voucher" if n % 2 == 0 else "refund",
                amount=Decimal("10.00") if n % 2 == 0 else Decimal("25.00"),
                currency="USD",
                note="goodwill credit on the next bill",
                actor=agent,
            )
        done_at = max(task.last_mention_at, first_response_at) + timedelta(hours=1)
        tasks.resolve(session, task.id, agent, now=done_at)
    return len(answered)
