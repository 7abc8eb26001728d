"""Record which version of the REST mapping the stored REST shapes hold

Revision ID: 0004_projection_version
Revises: 0003

The shapes 0003 stored are version 1 of ``chatkitd.store.rest_shapes``. From
here on, changing that mapping bumps ``chatkitd.store.projection.VERSION`` and
adds a migration calling ``reproject_all``; chatkitd refuses a database whose
recorded version is not its own.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_projection_version"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    projections = op.create_table(
        "projections",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_projections")),
    )
    op.bulk_insert(projections, [{"name": "rest", "version": 1}])


def downgrade() -> None:
    op.drop_table("projections")
