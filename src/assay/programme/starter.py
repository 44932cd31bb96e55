"""The starter ``assay.yaml``: a working file whose comments teach every section."""

from __future__ import annotations

_STARTER = """\
# assay.yaml: your SOC 2 programme as code.
#
# This file is the audit boundary: which report you are preparing, which Trust Services
# Criteria it covers, which systems and vendors are in or out of scope and why, and how
# accounts map to people. Keep it in version control: every change to scope is then reviewed
# and dated, which is exactly what an auditor asks about.
#
# Replace every example.com value with your own. Check the file with:  assay scope check

# Your legal entity, as it will appear on the report.
organisation: Example Ltd

# The programme owner: the person who answers the auditor and owns the scope decisions.
owner:
  name: Alex Example
  email: alex@example.com

audit:
  # 1 = Type 1: are the controls designed well, at one point in time.
  # 2 = Type 2: did they operate effectively, over a period (usually 3 to 12 months).
  type: 2
  # Both dates inclusive. For a Type 1, use the same date for start and end.
  period: {start: 2026-01-01, end: 2026-12-31}

# Trust Services Criteria categories the report covers. Security (the common criteria) always
# applies and is added if you leave it out. The others are: availability, confidentiality,
# processing_integrity, privacy. Choose those your customers' commitments call for.
categories: [security, availability]

# Every system that stores, processes or controls access to customer data, in scope or not.
# Out-of-scope systems are listed too: an auditor will ask about them, and `reason` is the answer.
systems:
  - id: hr                     # short, stable id: lower-case letters, digits, '-' or '_'
    name: HR system
    kind: hr                   # idp, cloud, code, database, host, saas, hr, ticketing, logging
    owner: people-ops@example.com   # the person accountable for this system's controls
    in_scope: true
    # Required for every system, in scope or out: the reason is the scope decision written
    # down, so it survives staff changes and can be shown to the auditor as is.
    reason: Source of truth for who works here; joiners and leavers start here
    customer_data: false       # does it store or process customer data?
    connector:                 # how Assay collects evidence from this system
      type: hr_csv             # hr_csv, okta, aws_iam, github, git
      mode: export             # export: read files you save from the vendor (live: its API)
      settings: {path: exports/hr.csv}   # relative paths are resolved against this file

  - id: okta
    name: Okta
    kind: idp
    owner: it@example.com
    in_scope: true
    reason: Workforce sign-in for every employee and for the in-scope applications
    customer_data: false
    connector:
      type: okta
      mode: export
      settings: {path: exports/okta}
      # Secrets are never written here. Name the environment variable that holds each one;
      # it is read only when the connector runs.
      secrets: {token: OKTA_API_TOKEN}

  - id: aws
    name: AWS production account
    kind: cloud
    owner: platform@example.com
    in_scope: true
    reason: Hosts the production service and the customer database
    customer_data: true
    connector:
      type: aws_iam
      mode: export
      settings: {path: exports/aws}

  - id: github
    name: GitHub organisation
    kind: code
    owner: platform@example.com
    in_scope: true
    reason: Source code and the change-management trail for production
    customer_data: false
    connector:
      type: github
      mode: export
      settings: {path: exports/github}
    # Names this system goes by in the identity provider's app list, so `scope_drift` knows it.
    seen_as: [GitHub Enterprise Cloud]

  - id: marketing-site
    name: Marketing website
    kind: saas
    in_scope: false
    reason: Public brochure site; no customer data and no access to production
    customer_data: false

# Third parties you rely on. The assurance reports you hold for them, who read them, the
# exceptions they noted and the controls they ask of you are kept in the vendor register
# (assay register add vendors --set vendor="Amazon Web Services" ...).
vendors:
  - name: Amazon Web Services
    services: [hosting, storage]
    customer_data: true
    criticality: high          # high, medium or low
    owner: platform@example.com
    system: aws                # the declared system this vendor provides, if any

# People: where the roster comes from and how accounts on each system are matched to a person.
people:
  source: hr                   # id of the system (kind hr) whose connector yields the roster
  # Tried in order to guess each person's username on a system. Placeholders: {email_local},
  # {first}, {last}, {first_initial}, {employee_id}.
  username_rules: ["{email_local}", "{first_initial}{last}"]
  # Accounts no rule matches, linked by hand to the person who uses them; say why.
  aliases:
    - {system: github, account: alex-codes, person: alex@example.com, by: it@example.com,
       reason: personal GitHub login}
  # Non-human accounts and the person accountable for each: never left as "unknown".
  service_accounts:
    - {system: aws, account: ci-deploy, owner: alex@example.com, purpose: CI deploys to production}
  # Emergency accounts kept for when normal access fails: never orphans or dormant, but every
  # use within 30 days is reported so it can be matched to an incident.
  break_glass:
    - {system: aws, account: <root_account>, reason: "AWS root user, sealed in the safe"}
  # The policy deadline for removing a leaver's access, from the end of their last day.
  deprovision_within_hours: 24

# Who holds each owner role of the control set (list the roles with: assay catalog controls).
# Every control in scope needs a named owner who is an active person on the roster.
owners:
  Security lead: security@example.com
  IT administrator: it@example.com
  Infrastructure lead: platform@example.com
  Engineering manager: alex@example.com

# Per-control settings, keyed by control id (list them with: assay catalog). Each key is
# optional: owner and frequency override the catalog's defaults; exclude leaves a control out
# of the programme, with a justification for the auditor and an expiry date by which the
# decision must be reconsidered (after it, the control counts again).
controls:
  AC-07:                       # quarterly user access reviews
    owner: it@example.com
    frequency: quarterly       # continuous, daily, weekly, monthly, quarterly, annual, per-event
  PH-02:                       # office access
    exclude: {justification: "Fully remote: no offices", expires: 2027-06-30}

# The registers, and what owners submit. A control no check tests is evidenced by its owner
# once per window of its frequency (continuous and per-event ones: each quarter), due
# grace_days after the window ends. Policies are acknowledged within acknowledge_within_days
# of a new version or of a person's start.
registers:
  grace_days: 14
  acknowledge_within_days: 30
  high_risk_score: 15          # residual likelihood x impact needing a treatment and an owner
  vendor_review_months: 12

# Evidence: where the tamper-evident locker lives and how long evidence is kept. The defaults
# keep it in .assay/locker, signed by the key in .assay/keys (outside the locker). For a team,
# use S3-compatible storage whose bucket has Object Lock, so nobody can delete evidence early;
# credentials come from the usual AWS environment, never from this file.
evidence:
  storage: local               # local or s3 (then also: bucket, prefix, endpoint_url)
  retention_days: 365          # keep evidence this many days after the audit period ends
  # timestamp_authority: {url: "https://tsa.example.com/", ca_file: tsa-ca.pem}
"""


def starter_text() -> str:
    """A commented starter programme file that loads without errors."""
    return _STARTER
