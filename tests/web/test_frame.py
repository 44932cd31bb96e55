"""The frame every page stands in: sign-in required, roles decide, a second factor for admins."""

from __future__ import annotations

import pytest
from django.test import Client
from tests.web.conftest import make_person

from assay.web.roles import Role

pytestmark = [pytest.mark.db, pytest.mark.django_db]


def test_anonymous_visitor_is_sent_to_sign_in(clients: dict[Role | None, Client]) -> None:
    response = clients[None].get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/")


def test_navigation_shows_only_what_the_role_may_open(clients: dict[Role | None, Client]) -> None:
    admin = clients[Role.ADMIN].get("/").content.decode()
    auditor = clients[Role.AUDITOR].get("/").content.decode()
    assert 'href="/users/"' in admin
    assert 'href="/users/"' not in auditor and 'href="/findings/"' in auditor
    employee = clients[Role.EMPLOYEE].get("/profile/")
    assert employee.status_code == 200 and 'href="/findings/"' not in employee.content.decode()
    assert clients[Role.EMPLOYEE].get("/").status_code == 403


def test_a_programme_owner_without_a_second_factor_is_sent_to_set_one_up(served: object) -> None:
    person = make_person("new.owner@acme.example", Role.PROGRAMME_OWNER, second_factor=False)
    client = Client()
    client.force_login(person.user, backend="django.contrib.auth.backends.ModelBackend")
    response = client.get("/controls/")
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/"
    # Setting it up is open (allauth first asks for the password again).
    followed = client.get("/accounts/2fa/totp/activate/", follow=True)
    assert followed.status_code == 200
    assert followed.redirect_chain[-1][0].startswith("/accounts/reauthenticate/")


def test_a_url_nobody_was_given_is_refused_to_everyone(clients: dict[Role | None, Client]) -> None:
    for client in clients.values():
        assert client.get("/accounts/signup/").status_code == 404
        assert client.get("/accounts/password/reset/").status_code == 404
