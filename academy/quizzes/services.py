"""Quiz logic: import and export of quiz files, revisions and publishing.

Quizzes follow lessons: a quiz is found by slug, each change is a new revision, an import
refuses to overwrite a quiz edited in the web editor since the last import unless forced, and
nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from academy import audit
from academy.auth.models import User
from academy.courses.models import Course, Lesson, LessonKind, RevisionSource
from academy.extensions import db
from academy.quizzes import reader, storage, writer
from academy.quizzes.model import Quiz as ParsedQuiz
from academy.quizzes.models import Quiz, QuizRevision


def get_quiz(slug: str) -> Quiz | None:
    return db.session.scalar(select(Quiz).where(Quiz.slug == slug))


def conflict(quiz: ParsedQuiz) -> str | None:
    """Why importing ``quiz`` would overwrite a web edit, or None."""
    existing = get_quiz(quiz.slug)
    if existing is None or existing.latest is None:
        return None
    latest = existing.latest
    edited = latest.content_hash != writer.content_hash(quiz)
    if existing.imported_revision_id != latest.id and edited:
        who = latest.author.full_name if latest.author else "?"
        return (
            f"{quiz.file}: el cuestionario «{quiz.slug}» se editó en la web "
            f"(revisión {latest.number}, {who}) después de la última importación"
        )
    return None


def add_revision(
    quiz_row: Quiz,
    quiz: ParsedQuiz,
    *,
    source: RevisionSource,
    author_id: int | None,
    note: str = "",
) -> QuizRevision:
    """A new revision, or the latest one when nothing changed."""
    digest = writer.content_hash(quiz)
    latest = quiz_row.latest
    if latest is not None and latest.content_hash == digest:
        return latest
    revision = QuizRevision(
        number=(latest.number if latest else 0) + 1,
        title=quiz.settings.title,
        source_md=writer.dump_quiz(quiz),
        data=storage.to_data(quiz),
        content_hash=digest,
        source=source.value,
        author_id=author_id,
        note=note,
    )
    quiz_row.revisions.append(revision)
    db.session.flush()
    return revision


def import_quiz(quiz: ParsedQuiz, *, publish: bool = True) -> tuple[Quiz, bool]:
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
    quiz, problems = reader.parse_quiz(source_text, f"{row.slug}.md", slug=row.slug)
    if quiz is None or problems:
        return None, problems
    return add_revision(row, quiz, source=RevisionSource.EDITOR, author_id=author_id, note=note), []


def publish(row: Quiz, revision: QuizRevision | None = None, *, by: User | None) -> QuizRevision:
    """Publish ``revision`` (the latest by default). A change of the published revision goes to
    the audit log, by ``by`` (None: the command line or the academy itself); publishing the
    revision already published records nothing. Imports publish without this (as lessons do):
    ``academy content import`` records what it published itself, with :func:`record_published`
    (academy/cli/content.py)."""
    chosen = revision or row.latest
    if chosen is None or chosen.quiz_id != row.id:
        raise ValueError("revision does not belong to this quiz")
    if row.published_revision_id != chosen.id:
        row.published = chosen
        record_published(row, chosen, by=by)
    return chosen


def record_published(row: Quiz, revision: QuizRevision, *, by: User | None, **detail: Any) -> None:
    """The audit log's ``quiz.published`` for ``revision`` of ``row``, by ``by`` (None: the
    command line or the academy itself); ``detail`` adds to it (an import's ``via``)."""
    audit.record(
        audit.AuditAction.QUIZ_PUBLISHED,
        actor=by,
        target_type="quiz",
        target_id=row.id,
        target_label=row.slug,
        revision=revision.number,
        **detail,
    )


@dataclass
class Listed:
    """A quiz as the quiz index shows it."""

    slug: str
    title: str | None  # the latest revision's
    latest_id: int | None
    published_id: int | None
    published_number: int | None
    # The quiz lessons using it: (course slug, course title, lesson slug).
    lessons: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def unpublished_changes(self) -> bool:
        return self.published_id is not None and self.latest_id != self.published_id


def listing() -> list[Listed]:
    """Every quiz with its latest and published revision and the lessons that use it, in two
    queries however many quizzes (and no revision's text)."""
    newest = (
        select(QuizRevision.quiz_id, func.max(QuizRevision.number).label("number"))
        .group_by(QuizRevision.quiz_id)
        .subquery()
    )
    latest, published = aliased(QuizRevision), aliased(QuizRevision)
    rows = db.session.execute(
        select(Quiz.slug, latest.title, latest.id, published.id, published.number)
        .outerjoin(newest, newest.c.quiz_id == Quiz.id)
        .outerjoin(latest, and_(latest.quiz_id == Quiz.id, latest.number == newest.c.number))
        .outerjoin(published, published.id == Quiz.published_revision_id)
        .order_by(Quiz.slug)
    )
    quizzes = {row[0]: Listed(*row) for row in rows}
    if quizzes:
        using = db.session.execute(
            select(Lesson.ref, Course.slug, Course.title, Lesson.slug)
            .join(Course, Course.id == Lesson.course_id)
            .where(Lesson.kind == LessonKind.QUIZ.value, Lesson.ref.in_(list(quizzes)))
            .order_by(Course.title, Lesson.slug)
        )
        for ref, course_slug, course_title, lesson_slug in using:
            quizzes[ref].lessons.append((course_slug, course_title, lesson_slug))
    return list(quizzes.values())
