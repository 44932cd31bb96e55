"""One module per section of the web app. Views read through the services the CLI uses and
render templates; who may open each is decided in ``web.roles``, never here."""
