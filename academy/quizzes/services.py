"""Quiz logic: import and export of quiz files, revisions and publishing.

Quizzes follow lessons: a quiz is found by slug, each change is a new revision, an import
refuses to overwrite a quiz edited in the web editor since the last import unless forced, and
nothing here commits.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from academy.courses.models import RevisionSource
from academy.extensions import db
from academy.quizzes import format as quiz_format
from academy.quizzes import storage
from academy.quizzes.models import Quiz, QuizRevision


def get_quiz(slug: str) -> Quiz | None:
    return db.session.scalar(select(Quiz).where(Quiz.slug == slug))


def conflict(quiz: quiz_format.Quiz) -> str | None:
    """Why importing ``quiz`` would overwrite a web edit, or None."""
    existing = get_quiz(quiz.slug)
    if existing is None or existing.latest is None:
        return None
    latest = existing.latest
    if existing.imported_revision_id != latest.id and latest.content_hash != quiz.content_hash():
        who = latest.author.full_name if latest.author else "?"
        return (
            f"{quiz.file}: el cuestionario «{quiz.slug}» se editó en la web "
            f"(revisión {latest.number}, {who}) después de la última importación"
        )
    return None


def add_revision(
    quiz_row: Quiz,
    quiz: quiz_format.Quiz,
    *,
    source: RevisionSource,
    author_id: int | None,
    note: str = "",
) -> QuizRevision:
    """A new revision, or the latest one when nothing changed."""
    digest = quiz.content_hash()
    latest = quiz_row.latest
    if latest is not None and latest.content_hash == digest:
        return latest
    revision = QuizRevision(
        number=(latest.number if latest else 0) + 1,
        title=quiz.settings.title,
        source_md=quiz_format.dump_quiz(quiz),
        data=storage.to_data(quiz),
        content_hash=digest,
        source=source.value,
        author_id=author_id,
        note=note,
    )
    quiz_row.revisions.append(revision)
    db.session.flush()
    return revision


def import_quiz(quiz: quiz_format.Quiz, *, publish: bool = True) -> tuple[Quiz, bool]:
    """Upsert a checked quiz by slug; returns the row and whether anything changed."""
    row = get_quiz(quiz.slug)
    created = row is None
    if row is None:
        row = Quiz(slug=quiz.slug)
        db.session.add(row)
    before = row.latest.id if row.latest else None
    revision = add_revision(row, quiz, source=RevisionSource.IMPORT, author_id=None)
    row.imported = revision
    changed = created or revision.id != before
    if publish and row.published_revision_id != revision.id:
        row.published = revision
        changed = True
    return row, changed


def export_quiz(row: Quiz, folder: Path) -> Path:
    """Write the latest revision as ``folder/<slug>.md``."""
    assert row.latest is not None
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{row.slug}.md"
    path.write_text(row.latest.source_md, encoding="utf-8", newline="\n")
    return path


def save_draft(
    row: Quiz, source_text: str, *, author_id: int, note: str = ""
) -> tuple[QuizRevision | None, list]:
    """Check and save a quiz edited in the web editor; problems block the save."""
    quiz, problems = quiz_format.parse_quiz(source_text, f"{row.slug}.md", slug=row.slug)
    if quiz is None or problems:
        return None, problems
    return add_revision(row, quiz, source=RevisionSource.EDITOR, author_id=author_id, note=note), []


def publish(row: Quiz, revision: QuizRevision | None = None) -> QuizRevision:
    chosen = revision or row.latest
    if chosen is None or chosen.quiz_id != row.id:
        raise ValueError("revision does not belong to this quiz")
    row.published = chosen
    return chosen
