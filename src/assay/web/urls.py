"""Every URL of the web app. Who may open each is decided in ``roles.POLICY`` by URL name."""

from django.urls import include, path

from assay.web import middleware
from assay.web.api import api
from assay.web.views import (
    controls,
    dashboard,
    evidence,
    findings,
    identities,
    owner_evidence,
    people,
    policies,
    registers,
    scope,
)

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
    path("registers/", registers.registers, name="registers"),
    path("registers/<str:kind>/", registers.register, name="register"),
    path("registers/<str:kind>/new", registers.record_new, name="register_new"),
    # A key may hold a slash (a vendor's name): the record's own URLs end after it.
    path("registers/<str:kind>/<path:key>/edit", registers.record_edit, name="register_edit"),
    path("registers/<str:kind>/<path:key>/", registers.record, name="register_record"),
    path("policies/", policies.policies, name="policies"),
    path("policies/<str:policy_id>/", policies.policy, name="policy"),
    path(
        "policies/<str:policy_id>/acknowledge",
        policies.acknowledge,
        name="policy_acknowledge",
    ),
    path("evidence-requests/", owner_evidence.evidence_requests, name="evidence_requests"),
    path(
        "evidence-requests/submissions/<int:submission_id>/decide",
        owner_evidence.decide,
        name="evidence_decide",
    ),
    path(
        "evidence-requests/submissions/<int:submission_id>/files/<int:number>",
        owner_evidence.evidence_file,
        name="evidence_file",
    ),
    # An annual window's label is its first and last day: 2026-07-11/2027-07-10.
    path(
        "evidence-requests/<str:control_id>/<path:window>/submit",
        owner_evidence.submit,
        name="evidence_submit",
    ),
    path(
        "evidence-requests/<str:control_id>/<path:window>/",
        owner_evidence.evidence_request,
        name="evidence_request",
    ),
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
