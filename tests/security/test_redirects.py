"""After login the platform only ever sends the browser to a page of its own."""
import pytest

from tests import factories


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example/x", "/\\/evil.example", "https://evil.example",
                                    "/\t/evil.example", "/%0a/evil.example".replace("%0a", "\n"), "javascript:alert(1)"])
def test_login_never_redirects_off_site(app, ctx, target):
    user = factories.make_user(factories.make_enterprise())
    resp = app.test_client().post("/login", query_string={"next": target},
                                  data={"username": user.username, "password": factories.PASSWORD})
    assert resp.status_code == 302
    assert resp.headers["Location"] in ("/", "http://localhost/"), resp.headers["Location"]


def test_login_follows_a_path_of_its_own(app, ctx):
    user = factories.make_user(factories.make_enterprise())
    resp = app.test_client().post("/login", query_string={"next": "/demands/mine?x=1"},
                                  data={"username": user.username, "password": factories.PASSWORD})
    assert resp.headers["Location"].endswith("/demands/mine?x=1")
