"""Certificates are looked up by their PDF's SHA-256 (verification by upload) and by RUT.

Revision ID: 9e4b7c1d2a55
Revises: 7c2d4e9f1a6b
Create Date: 2026-12-04 21:30:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "9e4b7c1d2a55"
down_revision = "7c2d4e9f1a6b"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_certificates_pdf_sha256", "certificates", ["pdf_sha256"])
    op.create_index("ix_certificates_rut", "certificates", ["rut"])


def downgrade():
    op.drop_index("ix_certificates_rut", table_name="certificates")
    op.drop_index("ix_certificates_pdf_sha256", table_name="certificates")
