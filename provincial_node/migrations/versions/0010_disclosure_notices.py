"""Operating entities' disclosures, sent down by the national node (Hainan's full registration).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from common.registration.schema_notices import create_disclosure_notices, drop_disclosure_notices

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_disclosure_notices()


def downgrade() -> None:
    drop_disclosure_notices()
