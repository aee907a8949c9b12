# syntax=docker/dockerfile:1
# Gensidig's image: the web server (`gensidig serve`, the default command) and, from the same
# image, the worker and one-off commands (`gensidig migrate`, `gensidig ballot-key check`, ...).
# compose.yaml beside this file runs it with PostgreSQL and nginx; docs/deployment.md, "Containers".
#
#   docker build -t gensidig .

ARG PYTHON_IMAGE=python:3.13-slim-bookworm

# --- Build: the package and its dependencies in a virtual environment ------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY gensidig ./gensidig
# Every dependency comes as a wheel, so no compiler is needed; bytecode is compiled here because
# the running container's file system is read-only.
RUN python -m venv /opt/gensidig/venv \
    && /opt/gensidig/venv/bin/pip install . \
    && /opt/gensidig/venv/bin/python -m compileall -q /opt/gensidig/venv/lib

# --- Run -------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
# WeasyPrint (report and guide PDFs) needs Pango and HarfBuzz; DejaVu is the fallback font.
# Versions are not pinned: the base image's Debian release decides them, with its security updates.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# Its own user, with a data folder only it can read (the SQLite database and the generated keys
# live there when no PostgreSQL and no secrets are given).
RUN groupadd --system --gid 10001 gensidig \
    && useradd --system --uid 10001 --gid gensidig --home-dir /var/lib/gensidig --no-create-home \
        --shell /usr/sbin/nologin gensidig \
    && install -d -o gensidig -g gensidig -m 0700 /var/lib/gensidig

COPY --from=build /opt/gensidig/venv /opt/gensidig/venv
# Caches (fontconfig's, for PDFs) and gunicorn's control socket go to /tmp, the one writable place
# when the container's file system is read-only (compose.yaml).
ENV PATH=/opt/gensidig/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GENSIDIG_DATA_DIR=/var/lib/gensidig \
    STATIC_ROOT=/opt/gensidig/static \
    XDG_CACHE_HOME=/tmp/cache \
    XDG_RUNTIME_DIR=/tmp \
    HOST=0.0.0.0 \
    PORT=8000

# Static files are collected (and compressed, with their manifest) once, into the image, so every
# container serves the same files and none writes at start. The secret and the data folder given
# here exist only for this command and are not kept.
RUN GENSIDIG_DATA_DIR=/tmp/collectstatic SECRET_KEY=only-for-collectstatic \
        gensidig collectstatic --noinput --verbosity 0 \
    && rm -rf /tmp/collectstatic

USER 10001:10001
WORKDIR /var/lib/gensidig
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "gensidig.healthcheck"]
CMD ["gensidig", "serve", "--no-collectstatic"]
