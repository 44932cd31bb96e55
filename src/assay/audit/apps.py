from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "assay.audit"
    label = "audit"
