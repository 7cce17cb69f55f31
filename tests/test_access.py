"""Who may reach what: every endpoint in the URL map × every role → the expected status.

Adding a route without a row here fails ``test_every_endpoint_has_a_row``: decide who may see
it before it ships.
"""

from __future__ import annotations

import pytest

ROLES = ("anonymous", "learner", "trainer", "admin")
LOGIN = 302  # anonymous visitors are sent to the sign-in page
HOME = 302  # signed-in visitors are sent home from pages meant for visitors

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
    "courses.lesson_page": ("GET", "/cursos/curso-ejemplo/lecciones/niveles", {"anonymous": LOGIN, "learner": 200, "trainer": 200, "admin": 200}),
    "courses.asset": ("GET", "/cursos/curso-ejemplo/recursos/primeros-pasos/niveles.png", dict.fromkeys(ROLES, 200)),
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
