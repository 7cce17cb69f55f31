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
ADMINS = {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 200}
# Pages of a course's learners: signed in and enrolled (no one here is enrolled).
LEARNERS = {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 403}

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
    "auth.confirm_email": ("GET", "/registro/activar/not-a-token", dict.fromkeys(ROLES, 400)),
    "auth.accept_invitation": ("GET", "/bienvenida/not-a-token", dict.fromkeys(ROLES, 400)),
    "auth.profile": ("GET", "/perfil", {"anonymous": LOGIN, "learner": 200, "trainer": 200, "admin": 200}),
    "auth.change_password": ("GET", "/perfil/contrasena", {"anonymous": LOGIN, "learner": 200, "trainer": 200, "admin": 200}),
    "people.index": ("GET", "/admin/personas/", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 200}),
    "people.edit": ("GET", "/admin/personas/{learner_id}", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 200}),
    "audit.index": ("GET", "/admin/auditoria/", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 200}),
    "outbox.index": ("GET", "/admin/correo-no-enviado/", ADMINS),
    "outbox.retry": ("POST", "/admin/correo-no-enviado/reintentar", {**ADMINS, "admin": 303}),
    "people.export": ("GET", "/admin/personas/exportar.csv", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 200}),
    "people.import_upload": ("GET", "/admin/personas/importar", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 200}),
    # No upload 1 by this admin: found only by the admin who uploaded it.
    "people.import_review": ("GET", "/admin/personas/importar/1", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 404}),
    "people.import_confirm": ("POST", "/admin/personas/importar/1", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 404}),
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
    # Quizzes. Attempts belong to enrolled learners (nobody is enrolled here), and the quiz
    # lesson "cuestionario" comes from the example_quiz fixture.
    "quizzes.start": ("POST", "/cursos/curso-ejemplo/lecciones/cuestionario/intentos", LEARNERS),
    "quizzes.attempt": ("GET", "/cursos/curso-ejemplo/lecciones/cuestionario/intentos/1", LEARNERS),
    "quizzes.save": ("POST", "/cursos/curso-ejemplo/lecciones/cuestionario/intentos/1", LEARNERS),
    "quizzes.autosave": ("POST", "/cursos/curso-ejemplo/lecciones/cuestionario/intentos/1/autoguardado", LEARNERS),
    "quizzes.confirm": ("GET", "/cursos/curso-ejemplo/lecciones/cuestionario/intentos/1/entregar", LEARNERS),
    "quizzes.submit": ("POST", "/cursos/curso-ejemplo/lecciones/cuestionario/intentos/1/entregar", LEARNERS),
    "quizzes.preview_lesson": ("GET", "/editor/cursos/curso-ejemplo/lecciones/cuestionario/cuestionario/vista-previa", EDITORS),
    "quizzes.statistics": ("GET", "/editor/cursos/curso-ejemplo/lecciones/cuestionario/cuestionario/estadisticas", EDITORS),
    "quizzes.export_attempts": ("GET", "/editor/cursos/curso-ejemplo/lecciones/cuestionario/cuestionario/intentos.csv", EDITORS),
    "quizzes.index": ("GET", "/editor/cuestionarios/", EDITORS),
    "quizzes.edit": ("GET", "/editor/cuestionarios/ejemplo", EDITORS),
    "quizzes.preview_quiz": ("GET", "/editor/cuestionarios/ejemplo/vista-previa", EDITORS),
    "quizzes.publish": ("POST", "/editor/cuestionarios/ejemplo/publicar", {**EDITORS, "trainer": 303, "admin": 303}),
    "quizzes.revisions": ("GET", "/editor/cuestionarios/ejemplo/revisiones", EDITORS),
    "quizzes.revision": ("GET", "/editor/cuestionarios/ejemplo/revisiones/1", EDITORS),
    # Case exercises. The example course has no case lesson: these rows check sign-in and roles;
    # tests/test_cases.py holds the privacy table on a real case (owner, other learner, trainers).
    "cases.work": ("GET", "/cursos/curso-ejemplo/casos/niveles/", {"anonymous": LOGIN, "learner": 404, "trainer": 404, "admin": 404}),
    "cases.save": ("POST", "/cursos/curso-ejemplo/casos/niveles/", {"anonymous": LOGIN, "learner": 404, "trainer": 404, "admin": 404}),
    "cases.autosave": ("POST", "/cursos/curso-ejemplo/casos/niveles/borrador", {"anonymous": LOGIN, "learner": 404, "trainer": 404, "admin": 404}),
    "cases.confirm": ("GET", "/cursos/curso-ejemplo/casos/niveles/enviar", {"anonymous": LOGIN, "learner": 404, "trainer": 404, "admin": 404}),
    "cases.submission": ("GET", "/casos/envios/999999", {"anonymous": LOGIN, "learner": 404, "trainer": 404, "admin": 404}),
    "cases.queue": ("GET", "/revision/", {"anonymous": LOGIN, "learner": 403, "trainer": 200, "admin": 200}),
    "cases.review": ("GET", "/revision/999999", {"anonymous": LOGIN, "learner": 403, "trainer": 404, "admin": 404}),
    "cases.save_review": ("POST", "/revision/999999", {"anonymous": LOGIN, "learner": 403, "trainer": 404, "admin": 404}),
    "cases.take_review": ("POST", "/revision/999999/tomar", {"anonymous": LOGIN, "learner": 403, "trainer": 404, "admin": 404}),
    "cases.team": ("GET", "/admin/cursos/curso-ejemplo/relatores-y-grupos", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 200}),
    "cases.add_trainer": ("POST", "/admin/cursos/curso-ejemplo/relatores", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 422}),
    "cases.remove_trainer": ("POST", "/admin/cursos/curso-ejemplo/relatores/{learner_id}/quitar", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 404}),
    "cases.add_cohort": ("POST", "/admin/cursos/curso-ejemplo/grupos", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 422}),
    "cases.assign_cohorts": ("POST", "/admin/cursos/curso-ejemplo/grupos/asignar", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 302}),
    # Cohorts: admins run them (no cohort 999999: past the permission check, 404); trainers
    # see theirs in "Mis grupos", and a cohort they do not follow is a 404.
    "cohorts.index": ("GET", "/admin/grupos/", ADMINS),
    "cohorts.create": ("GET", "/admin/grupos/nuevo", ADMINS),
    "cohorts.detail": ("GET", "/admin/grupos/999999", {**ADMINS, "admin": 404}),
    "cohorts.edit": ("POST", "/admin/grupos/999999", {**ADMINS, "admin": 404}),
    "cohorts.close": ("POST", "/admin/grupos/999999/cerrar", {**ADMINS, "admin": 404}),
    "cohorts.reopen": ("POST", "/admin/grupos/999999/reabrir", {**ADMINS, "admin": 404}),
    "cohorts.archive": ("POST", "/admin/grupos/999999/archivar", {**ADMINS, "admin": 404}),
    "cohorts.restore": ("POST", "/admin/grupos/999999/restaurar", {**ADMINS, "admin": 404}),
    "cohorts.add_trainer": ("POST", "/admin/grupos/999999/relatores", {**ADMINS, "admin": 404}),
    "cohorts.remove_trainer": ("POST", "/admin/grupos/999999/relatores/{learner_id}/quitar", {**ADMINS, "admin": 404}),
    "cohorts.enrol": ("GET", "/admin/grupos/999999/inscribir", {**ADMINS, "admin": 404}),
    "cohorts.enrol_selected": ("POST", "/admin/grupos/999999/inscribir", {**ADMINS, "admin": 404}),
    "cohorts.enrol_csv": ("GET", "/admin/grupos/999999/inscribir-csv", {**ADMINS, "admin": 404}),
    "cohorts.mine": ("GET", "/grupos/", EDITORS),
    "cohorts.followed": ("GET", "/grupos/999999", {**EDITORS, "trainer": 404, "admin": 404}),
    # Reports: admins and trainers (a trainer's figures are those of their cohorts; a course
    # they neither teach nor follow a cohort of, and a person they do not see, are 404).
    "reports.index": ("GET", "/informes/", EDITORS),
    "reports.courses_csv": ("GET", "/informes/cursos.csv", EDITORS),
    "reports.course": ("GET", "/informes/cursos/curso-ejemplo/", {**EDITORS, "trainer": 404}),
    "reports.cohorts_csv": ("GET", "/informes/cursos/curso-ejemplo/grupos.csv", {**EDITORS, "trainer": 404}),
    "reports.regions": ("GET", "/informes/territorio/", EDITORS),
    "reports.regions_csv": ("GET", "/informes/territorio.csv", EDITORS),
    "reports.comunas_page": ("GET", "/informes/territorio/comunas/", EDITORS),
    "reports.comunas_csv": ("GET", "/informes/territorio/comunas.csv", EDITORS),
    "reports.learners": ("GET", "/informes/personas/", EDITORS),
    "reports.learners_csv": ("GET", "/informes/personas.csv", EDITORS),
    "reports.learner": ("GET", "/informes/personas/{learner_id}", {**EDITORS, "trainer": 404, "admin": 404}),
    "reports.learner_csv": ("GET", "/informes/personas/{learner_id}.csv", {**EDITORS, "trainer": 404, "admin": 404}),
    # Certificates: admins issue, revoke, re-issue and download; a learner downloads only
    # their own (nobody here has one); anyone verifies, without an account.
    "certificates.course": ("GET", "/admin/cursos/curso-ejemplo/certificados", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 200}),
    "certificates.issue": ("POST", "/admin/cursos/curso-ejemplo/certificados/emitir", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 400}),
    "certificates.revoke": ("GET", "/admin/certificados/999999/revocar", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 404}),
    "certificates.reissue": ("POST", "/admin/certificados/999999/reemitir", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 404}),
    "certificates.validity": ("POST", "/admin/cursos/curso-ejemplo/certificados/vigencia", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 303}),
    "certificates.admin_download": ("GET", "/admin/certificados/999999/pdf", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 404}),
    "certificates.course_zip": ("GET", "/admin/cursos/curso-ejemplo/certificados.zip", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 404}),
    "certificates.templates": ("GET", "/admin/certificados/plantillas", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 200}),
    "certificates.preview": ("GET", "/admin/certificados/plantillas/no-existe/vista-previa", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 404}),
    "certificates.my_certificate": ("GET", "/mis-cursos/certificados/999999/pdf", {"anonymous": LOGIN, "learner": 404, "trainer": 404, "admin": 404}),
    "certificates.verify": ("GET", "/certificados/verificar", dict.fromkeys(ROLES, 200)),
    "certificates.verify_link": ("GET", "/certificados/v/not-a-token", dict.fromkeys(ROLES, 404)),
    # Public: no file sent is a form error; a RUT no certificate carries is not found.
    "certificates.verify_upload": ("POST", "/certificados/verificar/archivo", dict.fromkeys(ROLES, 422)),
    "certificates.verify_rut": ("GET", "/certificados/verificar/rut?rut=11.111.111-1", dict.fromkeys(ROLES, 404)),
    # Certificate batches and automatic issuance: admins only.
    "certificate_batches.confirm": ("GET", "/admin/cursos/curso-ejemplo/certificados/lote", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 200}),
    "certificate_batches.start": ("POST", "/admin/cursos/curso-ejemplo/certificados/lote", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 400}),
    "certificate_batches.progress_page": ("GET", "/admin/certificados/lotes/999999", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 404}),
    "certificate_batches.status": ("GET", "/admin/certificados/lotes/999999/estado", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 404}),
    "certificate_batches.automatic": ("POST", "/admin/cursos/curso-ejemplo/certificados/automatico", {"anonymous": LOGIN, "learner": 403, "trainer": 403, "admin": 303}),
    "static": ("GET", "/static/css/academy.css", dict.fromkeys(ROLES, 200)),
}  # fmt: skip


def test_every_endpoint_has_a_row(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - TABLE.keys() == set(), "add these endpoints to the access table"
    assert TABLE.keys() - endpoints == set(), "these rows name endpoints that no longer exist"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(TABLE))
@pytest.mark.usefixtures("example_course", "example_quiz")
def test_access(client, auth, make_user, endpoint, role):
    method, path, expected = TABLE[endpoint]
    learner = make_user("learner")
    if role != "anonymous":
        auth.as_role(make_user, role)
    response = client.open(path.format(learner_id=learner.id), method=method)
    response.close()
    assert response.status_code == expected[role], f"{method} {path} as {role}"
