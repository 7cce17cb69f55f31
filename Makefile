# The two commands of the README. Both install everything first (scripts/bootstrap is
# idempotent and quick when nothing changed).
.PHONY: serve test install

install:
	@scripts/bootstrap

serve: install
	.venv/bin/academy init
	.venv/bin/academy serve --host 127.0.0.1 --port 5000

test: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports
	.venv/bin/pytest
