def test_home(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Academia de Capacitación" in response.text


def test_register_and_login(client, auth, make_user):
    user = make_user()
    response = auth.login(user.email)
    assert response.status_code == 302
    assert "Cerrar sesión" in client.get("/").text
