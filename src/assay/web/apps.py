from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "assay.web"
    label = "web"
    verbose_name = "Assay web application"

    def ready(self) -> None:
        from assay.web import audit

        audit.connect_signals()
