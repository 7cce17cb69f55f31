"""Who may reach what: every endpoint in the URL map × every role → the expected status.

Adding a route without a row here fails ``test_every_endpoint_has_a_row``: decide who may see
it before it ships.
"""

from __future__ import annotations

import pytest

ROLES = ("anonymous", "learner", "trainer", "admin")
LOGIN = 302  # anonymous visitors are sent to the sign-in page
HOME = 302  # signed-in visitors are sent home from pages meant for visitors
EDITORS = {"anonymous": LOGIN, "learner": 403, "trainer": 200, "admin": 200}

# endpoint: (method, path, {role: status})
TABLE: dict[str, tuple[str, str, dict[str, int]]] = {
    "core.home": ("GET", "/", dict.fromkeys(ROLES, 200)),
    "core.health": ("GET", "/salud", dict.fromkeys(ROLES, 200)),
    "core.set_language": ("POST", "/idioma", dict.fromkeys(ROLES, 302)),
    "auth.login": ("GET", "/entrar", {"anonymous": 200, "learner": HOME, "trainer": HOME, "admin": HOME}),
    "auth.logout": ("POST", "/salir", dict.fromkeys(ROLES, 302)),
    "auth.register": ("GET", "/registro", {"anonymous": 200, "learner": HOME, "trainer": HOME, "admin": HOME}),
    "auth.forgot_password": ("GET", "/recuperar", dict.fromkeys(ROLES, 200)),
    "auth.reset_password": ("GET", "/recuperar/not-a-token", dict.fromkeys(ROLES, 400)),
    "auth.profile": ("GET", "/perfil", {"anonymous": LOGIN, "learner": 200, "trainer": 200, "admin": 200}),
    "auth.change_password": ("GET", "/perfil/contrasena", {"anonymous": LOGIN, "learner": 200, "trainer": 200, "admin": 200}),
    "people.index": ("GET", "/admin/personas/", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 200}),
    "people.edit": ("GET", "/admin/personas/{learner_id}", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 200}),
    "courses.course_page": ("GET", "/cursos/curso-ejemplo/", dict.fromkeys(ROLES, 200)),
    "courses.catalogue": ("GET", "/cursos/", dict.fromkeys(ROLES, 200)),
    # Learners must be enrolled (this one is not); trainers and admins may preview.
    "courses.lesson_page": ("GET", "/cursos/curso-ejemplo/lecciones/niveles", {"anonymous": LOGIN, "learner": 403, "trainer": 200, "admin": 200}),
    "courses.offline_pdf": ("GET", "/cursos/curso-ejemplo/pdf", {"anonymous": LOGIN, "learner": 403, "trainer": 200, "admin": 200}),
    "progress.enrolments": ("GET", "/admin/cursos/curso-ejemplo/inscripciones", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 200}),
    "progress.my_courses": ("GET", "/mis-cursos", {"anonymous": LOGIN, "learner": 200, "trainer": 200, "admin": 200}),
    "progress.enrol": ("POST", "/cursos/curso-ejemplo/inscribirme", {"anonymous": LOGIN, "learner": 302, "trainer": 302, "admin": 302}),
    "progress.resume": ("GET", "/cursos/curso-ejemplo/continuar", {"anonymous": LOGIN, "learner": 302, "trainer": 302, "admin": 302}),
    "progress.complete": ("POST", "/cursos/curso-ejemplo/lecciones/niveles/completar", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 403}),
    "courses.asset": ("GET", "/cursos/curso-ejemplo/recursos/primeros-pasos/niveles.png", dict.fromkeys(ROLES, 200)),
    # The course editor: trainers and admins only. POSTs sent without their form fields are
    # refused with 400 once past the permission check.
    "editor.index": ("GET", "/editor/", EDITORS),
    "editor.new_course": ("GET", "/editor/nuevo-curso", EDITORS),
    "editor.course": ("GET", "/editor/cursos/curso-ejemplo/", EDITORS),
    "editor.edit_course": ("GET", "/editor/cursos/curso-ejemplo/datos", EDITORS),
    "editor.course_status": ("POST", "/editor/cursos/curso-ejemplo/estado", {**EDITORS, "trainer": 400, "admin": 400}),
    "editor.new_unit": ("GET", "/editor/cursos/curso-ejemplo/nueva-unidad", EDITORS),
    "editor.edit_unit": ("GET", "/editor/cursos/curso-ejemplo/unidades/mecanismos", EDITORS),
    "editor.move_unit": ("POST", "/editor/cursos/curso-ejemplo/unidades/mecanismos/mover", {**EDITORS, "trainer": 400, "admin": 400}),
    "editor.new_lesson": ("GET", "/editor/cursos/curso-ejemplo/unidades/mecanismos/nueva-leccion", EDITORS),
    "editor.images": ("GET", "/editor/cursos/curso-ejemplo/unidades/primeros-pasos/imagenes", EDITORS),
    "editor.asset": ("GET", "/editor/cursos/curso-ejemplo/recursos/primeros-pasos/niveles.png", EDITORS),
    "editor.edit_lesson": ("GET", "/editor/cursos/curso-ejemplo/lecciones/niveles", EDITORS),
    "editor.preview": ("POST", "/editor/cursos/curso-ejemplo/lecciones/niveles/vista-previa", EDITORS),
    "editor.publish_lesson": ("POST", "/editor/cursos/curso-ejemplo/lecciones/niveles/publicar", {**EDITORS, "trainer": 302, "admin": 302}),
    "editor.move_lesson": ("POST", "/editor/cursos/curso-ejemplo/lecciones/niveles/mover", {**EDITORS, "trainer": 400, "admin": 400}),
    "editor.retire_lesson": ("GET", "/editor/cursos/curso-ejemplo/lecciones/niveles/retirar", EDITORS),
    "editor.history": ("GET", "/editor/cursos/curso-ejemplo/lecciones/niveles/historial", EDITORS),
    "editor.revision": ("GET", "/editor/cursos/curso-ejemplo/lecciones/niveles/revisiones/1", EDITORS),
    "editor.compare": ("GET", "/editor/cursos/curso-ejemplo/lecciones/niveles/comparar?desde=1&hasta=1", EDITORS),
    "editor.restore": ("POST", "/editor/cursos/curso-ejemplo/lecciones/niveles/revisiones/1/restaurar", {**EDITORS, "trainer": 302, "admin": 302}),
    "static": ("GET", "/static/css/academy.css", dict.fromkeys(ROLES, 200)),
}  # fmt: skip


def test_every_endpoint_has_a_row(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - TABLE.keys() == set(), "add these endpoints to the access table"
    assert TABLE.keys() - endpoints == set(), "these rows name endpoints that no longer exist"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(TABLE))
@pytest.mark.usefixtures("example_course")
def test_access(client, auth, make_user, endpoint, role):
    method, path, expected = TABLE[endpoint]
    learner = make_user("learner")
    if role != "anonymous":
        auth.as_role(make_user, role)
    response = client.open(path.format(learner_id=learner.id), method=method)
    response.close()
    assert response.status_code == expected[role], f"{method} {path} as {role}"
