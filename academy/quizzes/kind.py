"""The quiz lesson kind: the lesson shows a quiz from the bank (the front matter's
``cuestionario:`` names it) and is done when the learner passes it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_wtf import FlaskForm

from academy.courses.content import check_slug
from academy.courses.kinds import KindState, LessonVisit, OutlineItem
from academy.frontmatter import Key
from academy.i18n import lazy_gettext as _l
from academy.quizzes import attempt_views, attempts, services


class QuizKind:
    name = "quiz"
    word = "cuestionario"
    label = _l("Cuestionario")
    key = "cuestionario"
    key_schema = Key(str, check=check_slug)
    text_name = None
    no_text = None
    panel_template = "quizzes/_panel.html"

    def read(self, value: Any) -> tuple[str | None, dict[str, Any], list[str]]:
        if not value:
            return None, {}, ["una lección de tipo cuestionario necesita la clave «cuestionario»"]
        return value, {}, []

    def write(self, ref: str | None, extra: Mapping[str, Any] | None) -> dict[str, Any]:
        return {"cuestionario": ref} if ref else {}

    def check(self, extra: Mapping[str, Any] | None) -> list[str]:
        return []

    def starter(self) -> dict[str, Any] | None:
        return None

    def check_ref(self, ref: str | None) -> tuple[str | None, str | None]:
        if not ref:
            return ref, _l("Escribe el identificador del cuestionario.")
        if services.get_quiz(ref) is None:
            return ref, _l("No hay un cuestionario con ese identificador.")
        return ref, None

    def editor_form(self) -> type[FlaskForm] | None:
        return None

    def editor_extra(self, form: FlaskForm) -> dict[str, Any] | None:
        return None

    def editor_data(self, extra: Mapping[str, Any] | None) -> dict[str, Any]:
        return {}

    def text(self, extra: Mapping[str, Any] | None) -> str:
        return ""

    def states(self, user_id: int, items: Sequence[OutlineItem]) -> dict[int, KindState]:
        return attempts.quiz_states(user_id, items)

    def panel(self, visit: LessonVisit) -> object | None:
        return attempt_views.quiz_panel(visit)


KIND = QuizKind()
