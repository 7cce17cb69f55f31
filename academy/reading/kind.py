"""The reading lesson kind: the lesson's text and nothing else. A reading is done when the
learner marks it done (the progress service reads those marks itself)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_wtf import FlaskForm

from academy.courses.kinds import KindState, LessonVisit, OutlineItem
from academy.i18n import lazy_gettext as _l


class Reading:
    name = "reading"
    word = "lectura"
    label = _l("Lectura")
    key = None
    key_schema = None
    text_name = "texto"
    no_text = "la lección no tiene texto"
    panel_template = None

    def read(self, value: Any) -> tuple[str | None, dict[str, Any], list[str]]:
        return None, {}, []

    def write(self, ref: str | None, extra: Mapping[str, Any] | None) -> dict[str, Any]:
        return {}

    def check(self, extra: Mapping[str, Any] | None) -> list[str]:
        return []

    def starter(self) -> dict[str, Any] | None:
        return None

    def check_ref(self, ref: str | None) -> tuple[str | None, str | None]:
        return None, None

    def editor_form(self) -> type[FlaskForm] | None:
        return None

    def editor_extra(self, form: FlaskForm) -> dict[str, Any] | None:
        return None

    def editor_data(self, extra: Mapping[str, Any] | None) -> dict[str, Any]:
        return {}

    def text(self, extra: Mapping[str, Any] | None) -> str:
        return ""

    def states(self, user_id: int, items: Sequence[OutlineItem]) -> dict[int, KindState]:
        return {}  # by the learner's own marks

    def panel(self, visit: LessonVisit) -> object | None:
        return None


KIND = Reading()
