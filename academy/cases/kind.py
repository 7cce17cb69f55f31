"""The case lesson kind: a scenario (the lesson's text), prompts the learner answers in
writing and a rubric a trainer applies (the front matter's ``caso:``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_wtf import FlaskForm

from academy.cases import definition, services, views
from academy.cases.forms import CaseLessonForm
from academy.courses.kinds import KindState, LessonVisit, OutlineItem
from academy.frontmatter import Key
from academy.i18n import lazy_gettext as _l

MISSING = "una lección de tipo caso necesita la clave «caso» con sus consignas y rúbrica"


class Case:
    name = "case"
    word = "caso"
    label = _l("Caso")
    key = "caso"
    key_schema = Key(dict)
    text_name = "el escenario del caso"
    no_text = "el caso no tiene escenario"
    panel_template = "cases/_lesson_panel.html"

    def read(self, value: Any) -> tuple[str | None, dict[str, Any], list[str]]:
        if not value:
            return None, {}, [MISSING]
        found, problems = definition.parse_case(value)
        return None, found.to_data() if found is not None else {}, problems

    def write(self, ref: str | None, extra: Mapping[str, Any] | None) -> dict[str, Any]:
        return {"caso": dict(extra)} if extra else {}

    def check(self, extra: Mapping[str, Any] | None) -> list[str]:
        _found, problems = definition.parse_case(dict(extra) if extra else None)
        return problems

    def starter(self) -> dict[str, Any] | None:
        return definition.STARTER

    def check_ref(self, ref: str | None) -> tuple[str | None, str | None]:
        return None, None

    def editor_form(self) -> type[FlaskForm] | None:
        return CaseLessonForm

    def editor_extra(self, form: FlaskForm) -> dict[str, Any] | None:
        assert isinstance(form, CaseLessonForm)
        return form.definition.to_data()

    def editor_data(self, extra: Mapping[str, Any] | None) -> dict[str, Any]:
        return {"case": self.text(extra)}

    def text(self, extra: Mapping[str, Any] | None) -> str:
        return definition.to_text(dict(extra) if extra else {})

    def states(self, user_id: int, items: Sequence[OutlineItem]) -> dict[int, KindState]:
        return services.case_states(user_id, items)

    def panel(self, visit: LessonVisit) -> object | None:
        return views.case_panel(visit)


KIND = Case()
