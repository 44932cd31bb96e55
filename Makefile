# Two commands set Assay up on a fresh Debian machine with Python 3.11+, git and make:
#   make run    create .venv, install, run the main job on the sample organisation
#   make test   install the test dependencies and run the whole suite
SAMPLE ?= sample-org

.PHONY: run test lint install install-test clean

install:
	scripts/bootstrap-venv

install-test:
	scripts/bootstrap-venv test

run: install
	rm -rf $(SAMPLE)
	.venv/bin/assay init --sample $(SAMPLE)
	.venv/bin/assay run --file $(SAMPLE)/assay.yaml
	.venv/bin/assay verify --file $(SAMPLE)/assay.yaml
	@password=$$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(12))'); \
	echo "$$password" | .venv/bin/assay users add admin@acme.example --role admin \
	  --password-stdin --file $(SAMPLE)/assay.yaml >/dev/null; \
	echo; echo "Serve the sample organisation:  .venv/bin/assay serve --file $(SAMPLE)/assay.yaml"; \
	echo "then open http://127.0.0.1:8000/ and sign in as admin@acme.example with the password"; \
	echo "  $$password"; \
	echo "(shown once; an admin sets up an authenticator app at the first sign-in)"

test: install-test
	scripts/test

lint: install-test
	.venv/bin/ruff check src tests bench
	.venv/bin/ruff format --check src tests bench
	.venv/bin/mypy src

clean:
	rm -rf .venv $(SAMPLE) .pytest_cache .mypy_cache .ruff_cache
