"""Error pages in the user's language, as HTML or as JSON when the client asks for JSON."""

from __future__ import annotations

from flask import Flask, Response, jsonify, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError

from academy.extensions import db

MESSAGES = {
    400: (_l("Solicitud no válida"), _l("No pudimos entender lo que enviaste.")),
    403: (_l("Acceso no permitido"), _l("Tu cuenta no tiene permiso para ver esta página.")),
    404: (_l("Página no encontrada"), _l("La dirección no existe o ya no está disponible.")),
    405: (_l("Acción no permitida"), _l("Esta página no acepta esa acción.")),
    413: (
        _l("Envío demasiado grande"),
        _l("Lo que enviaste supera el tamaño permitido. Reduce el texto o el archivo."),
    ),
    429: (
        _l("Demasiados intentos"),
        _l("Hiciste demasiados intentos seguidos. Espera unos minutos y vuelve a intentarlo."),
    ),
    500: (
        _l("Error del servidor"),
        _l("Algo falló de nuestro lado. No se perdió nada de lo que ya estaba guardado."),
    ),
}
UNKNOWN_HOST_MESSAGE = _l(
    "Esta dirección no corresponde a la academia. Escribe la dirección de la academia tal "
    "como la conoces."
)
CSRF_MESSAGE = _l(
    "El formulario expiró o no es válido. Vuelve a la página, recárgala e inténtalo de nuevo."
)


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > (request.accept_mimetypes["text/html"])
    )


def render_error(code: int, detail: str | None = None, *, back: str | None = None) -> Response:
    title, message = MESSAGES.get(code, MESSAGES[500 if code >= 500 else 400])
    text = detail or str(message)
    if wants_json():
        response = jsonify(error={"code": code, "title": str(title), "message": text})
    else:
        page = render_template("errors/error.html", code=code, title=title, message=text, back=back)
        response = make_response(page)
    response.status_code = code
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> Response:
        return render_error(400, str(CSRF_MESSAGE))

    @app.errorhandler(SecurityError)
    def _unknown_host(_error: SecurityError) -> Response:
        # A Host that is not in TRUSTED_HOSTS: no URL can be built for it, so no page layout.
        return Response(str(UNKNOWN_HOST_MESSAGE), 400, content_type="text/plain; charset=utf-8")

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response | HTTPException:
        if error.code is None or error.code < 400:
            return error  # redirects raised as exceptions pass through untouched
        response = render_error(error.code)
        if error.code == 405:
            response.headers["Allow"] = ", ".join(error.valid_methods or [])
        return response

    @app.errorhandler(InternalServerError)
    def _server_error(error: InternalServerError) -> Response:
        db.session.rollback()
        return render_error(500)
