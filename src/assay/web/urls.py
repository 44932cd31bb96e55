"""Every URL of the web app. Who may open each is decided in ``roles.POLICY`` by URL name."""

from django.urls import include, path

from assay.web import middleware
from assay.web.api import api
from assay.web.views import controls, dashboard, evidence, findings, identities, people, scope

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("controls/", controls.controls, name="controls"),
    path("controls/<str:control_id>/", controls.control, name="control"),
    path("scope/", scope.scope, name="scope"),
    path("evidence/", evidence.evidence, name="evidence"),
    path("evidence/checkpoints/", evidence.checkpoints, name="checkpoints"),
    path("evidence/<str:statement_id>/", evidence.statement, name="statement"),
    path("evidence/<str:statement_id>/blob", evidence.statement_blob, name="statement_blob"),
    path("evidence/<str:statement_id>/proof", evidence.statement_proof, name="statement_proof"),
    path("identities/", identities.identities, name="identities"),
    path("identities/people/<str:who>/", identities.person, name="person"),
    path(
        "identities/systems/<str:system_id>/",
        identities.system_population,
        name="system_population",
    ),
    path("identities/privileged/", identities.privileged, name="privileged"),
    path("identities/non-human/", identities.nonhuman, name="nonhuman"),
    path("identities/leavers/", identities.leavers, name="leavers"),
    path("findings/", findings.findings, name="findings"),
    path("profile/", people.profile, name="profile"),
    path("profile/tokens/", people.token_create, name="profile_token_create"),
    path("profile/tokens/<str:prefix>/revoke", people.token_revoke, name="profile_token_revoke"),
    path("users/", people.users, name="users"),
    path("users/<int:user_id>/role", people.set_role, name="user_set_role"),
    path("users/<int:user_id>/disable", people.disable, name="user_disable"),
    path("healthz", people.health, name="health"),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", api.urls),
]
handler404 = middleware.not_found
