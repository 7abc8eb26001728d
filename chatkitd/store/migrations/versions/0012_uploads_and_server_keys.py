"""Each upload's own blob, an upload in progress, and the server's keys kept in the database

Revision ID: 0012_uploads_and_server_keys
Revises: 0011_graph_pauses_in_approvals

- ``attachments.blob_id``: where the winning upload's bytes are (NULL: under the
  attachment's id, as before). Each upload writes a blob of its own and the
  first to finish is recorded, so two uploads racing on one link never mix.
- ``attachments.upload_started_at``: an upload of this attachment is under way
  (a lease: a crashed one lapses), so a second one is refused at once.
- ``server_keys``: secrets every replica sharing the database must agree on,
  such as the key that signs upload and preview links.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_uploads_and_server_keys"
down_revision = "0011_graph_pauses_in_approvals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("attachments") as batch:
        batch.add_column(sa.Column("blob_id", sa.String(160)))
        batch.add_column(sa.Column("upload_started_at", sa.Float()))
    op.create_table(
        "server_keys",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_server_keys")),
    )


def downgrade() -> None:
    op.drop_table("server_keys")
    with op.batch_alter_table("attachments") as batch:
        batch.drop_column("upload_started_at")
        batch.drop_column("blob_id")
