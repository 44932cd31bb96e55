"""The web application: pages, the HTTP API, sign-in and roles, on the services the CLI uses."""
