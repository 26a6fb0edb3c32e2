"""sentiment: complaint taxonomy, category score and taxonomy version on results

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 21:05:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The default taxonomy as it was when this migration was written (sentiment/taxonomies/
# default.json); later edits to that file must not change what this migration inserts.
DEFAULT_CATEGORIES = [
    {
        "key": "delivery",
        "name": "Delivery",
        "description": "Complaints about shipping and delivery: a late, missing, lost or damaged "
        "order or parcel, a courier problem, wrong address, tracking that does not "
        "move.",
        "examples": [
            "my order still hasn't arrived after two weeks",
            "the parcel came damaged and the box was crushed",
            "tracking says delivered but nothing is at my door",
            "the courier never showed up for the delivery slot",
        ],
        "position": 10,
    },
    {
        "key": "billing",
        "name": "Billing and refunds",
        "description": "Complaints about money: wrong or double charges, unexpected fees, invoices, "
        "prices, refunds that are late or refused, cancelling a subscription that "
        "keeps charging.",
        "examples": [
            "you charged my card twice this month",
            "still waiting for my refund after 30 days",
            "why is there a hidden fee on my bill",
            "cancelled my subscription and you keep charging me",
        ],
        "position": 20,
    },
    {
        "key": "product_quality",
        "name": "Product quality",
        "description": "Complaints that the product itself is bad: broken, faulty, defective, "
        "stopped working, poor quality, not as described, battery or hardware "
        "problems.",
        "examples": [
            "the phone stopped working after a week",
            "cheap plastic, it broke the first time I used it",
            "battery drains in two hours, this product is defective",
            "not what the description promised at all",
        ],
        "position": 30,
    },
    {
        "key": "customer_service",
        "name": "Customer service",
        "description": "Complaints about how the company treated the customer: rude or unhelpful "
        "staff, long waits on hold, no answer to emails or chats, being passed "
        "around, promises not kept.",
        "examples": [
            "on hold for an hour and then they hung up",
            "your support agent was rude and useless",
            "I emailed three times and nobody ever answered",
            "every person I talk to tells me something different",
        ],
        "position": 40,
    },
    {
        "key": "app_technical",
        "name": "App and technical",
        "description": "Complaints about the app, website or service not working: crashes, bugs, "
        "errors, outages, slow loading, login screen errors, an update that broke "
        "something, no signal or network down.",
        "examples": [
            "the app crashes every time I open it",
            "your website shows an error at checkout",
            "the service has been down all morning",
            "since the last update nothing loads",
        ],
        "position": 50,
    },
    {
        "key": "account",
        "name": "Account",
        "description": "Complaints about the customer's account: locked out, cannot reset the "
        "password, account suspended or closed, hacked account, personal details or "
        "plan changed without consent.",
        "examples": [
            "my account got locked and I can't get back in",
            "password reset email never comes",
            "you suspended my account for no reason",
            "someone hacked my account and you won't help",
        ],
        "position": 60,
    },
]


def upgrade() -> None:
    table = op.create_table(
        "complaint_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "examples",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_categories")),
        sa.UniqueConstraint("key", name=op.f("uq_complaint_categories_key")),
    )
    with op.batch_alter_table("sentiment_results") as batch:
        batch.add_column(sa.Column("category_score", sa.Float(), nullable=True))
        batch.add_column(sa.Column("taxonomy_version", sa.String(length=32), nullable=True))
    now = datetime.now(UTC).replace(tzinfo=None)
    op.bulk_insert(
        table,
        [
            {**row, "enabled": True, "created_at": now, "updated_at": now}
            for row in DEFAULT_CATEGORIES
        ],
    )


def downgrade() -> None:
    with op.batch_alter_table("sentiment_results") as batch:
        batch.drop_column("taxonomy_version")
        batch.drop_column("category_score")
    op.drop_table("complaint_categories")
