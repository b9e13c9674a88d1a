"""Operating entities' disclosures as a registration node keeps them (Hainan's full registration): the
table the due items read, here empty (the national node's own registry applies no such rule).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

from common.registration.schema_notices import create_disclosure_notices, drop_disclosure_notices

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_disclosure_notices()


def downgrade() -> None:
    drop_disclosure_notices()
