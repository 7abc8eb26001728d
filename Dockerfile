# chatkitd's container image: `chatkitd serve` as a non-root user, with a health check.
#
#   docker build -t chatkitd .
#   docker run --rm chatkitd migrate          # once, before the replicas (and before each upgrade)
#   docker run -p 8000:8000 -e CHATKITD_MIGRATE_ON_START=false ... chatkitd
#
# compose.yaml runs the whole stack (PostgreSQL, an S3-compatible store, three replicas, nginx);
# the deployment guide is docs/deployment.md. BASE_IMAGE must be a Debian-like image with Python
# 3.11+ and its venv module (the default, or one built from Debian's packages: see
# tests/image/base-image.sh); NODE_IMAGE one with Node.js 18+ and npm, used only to bundle the
# web UI from npm packages (package-lock.json).
ARG BASE_IMAGE=python:3.12-slim-bookworm
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS web
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY chatkitd/web/ chatkitd/web/
RUN node chatkitd/web/build.mjs

# The pinned dependencies, read from pyproject.toml. The build stage installs them from this list
# alone, in a layer before chatkitd's code: a change to the code, or to pyproject.toml outside
# its dependencies (tool settings, test extras), reuses that layer instead of installing them again.
FROM ${BASE_IMAGE} AS requirements
COPY pyproject.toml /tmp/
RUN python3 -c "import tomllib; p = tomllib.load(open('/tmp/pyproject.toml', 'rb')); \
print('\n'.join(p['build-system']['requires'] + p['project']['dependencies']))" >/requirements.txt

FROM ${BASE_IMAGE} AS build
WORKDIR /src
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python3 -m venv /opt/chatkitd
COPY --from=requirements /requirements.txt /tmp/requirements.txt
RUN /opt/chatkitd/bin/pip install -r /tmp/requirements.txt
COPY pyproject.toml setup.py MANIFEST.in README.md LICENSE ./
COPY chatkitd/ chatkitd/
COPY --from=web /src/chatkitd/web/static/ chatkitd/web/static/
# chatkitd itself; the bundles are built already (stage `web`). `pip check` fails the build if
# pyproject.toml's dependencies and the layer above ever disagree.
RUN CHATKITD_SKIP_WEB_BUILD=1 /opt/chatkitd/bin/pip install --no-deps --no-build-isolation . \
 && /opt/chatkitd/bin/pip check \
 && /opt/chatkitd/bin/chatkitd --version

FROM ${BASE_IMAGE}
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /var/lib/chatkitd chatkitd
COPY --from=build /opt/chatkitd /opt/chatkitd
ENV PATH=/opt/chatkitd/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    CHATKITD_HOST=0.0.0.0 \
    CHATKITD_PORT=8000 \
    CHATKITD_DATA_DIR=/var/lib/chatkitd \
    CHATKITD_MODE=production
USER chatkitd
WORKDIR /var/lib/chatkitd
EXPOSE 8000
# 200 once the schema is current and the database answers.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('CHATKITD_PORT', '8000'), timeout=4)"]
ENTRYPOINT ["chatkitd"]
CMD ["serve"]
