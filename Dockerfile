# syntax=docker/dockerfile:1
# CRO Portal image: one image for web (gunicorn), worker/beat (celery) and migrate.
# Build: docker build -t croportal .   Run: see docker-compose.yml.

# --- 1. Front-end assets: npm packages only (no node in the runtime image) ---------
FROM node:20-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
# mkdir: a lockfile without runtime dependencies leaves no node_modules behind.
RUN npm ci --omit=dev --no-audit --no-fund \
    && mkdir -p node_modules

# --- 2. Python dependencies in a virtualenv --------------------------------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:$PATH"
WORKDIR /build
# Only pyproject.toml: the dependency layer is rebuilt only when dependencies change.
# ([tool.setuptools] packages = [] -- this installs the dependencies, not the code.)
COPY pyproject.toml ./
RUN pip install .

# --- 3. Runtime ------------------------------------------------------------------
FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH="/opt/venv/bin:$PATH" \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=croportal.settings \
    VAR_DIR=/app/var

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin app

WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=assets /assets/node_modules /app/node_modules
# The code runs from the source tree (it is not pip-installed); see .dockerignore.
COPY . /app

# Static files are collected at build time, owned by root (the app only reads them).
# The key below exists for this one command only; it is not baked into the image's ENV.
# The folders the named volumes mount (media, essential documents' files, finished exports)
# are created owned by the app user so a fresh named volume inherits that.
RUN DEBUG=false SECRET_KEY=build-only-not-secret \
        python manage.py collectstatic --noinput \
    && mkdir -p /app/var/media /app/var/documents /app/var/exports \
    && chown app:app /app/var /app/var/media /app/var/documents /app/var/exports

# Numeric uid:gid (the "app" user above) so runtimes can verify it is not root.
USER 10001:10001
EXPOSE 8000

# Sends the first ALLOWED_HOSTS name as Host (else 400) and X-Forwarded-Proto: https
# (else SECURE_SSL_REDIRECT answers 301); any non-2xx or error exits 1 = unhealthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; h = (os.environ.get('ALLOWED_HOSTS') or 'localhost').split(',')[0].strip().lstrip('.'); h = 'localhost' if h in ('', '*') else h; r.urlopen(r.Request('http://127.0.0.1:8000/healthz/', headers={'Host': h, 'X-Forwarded-Proto': 'https'}), timeout=4)"]

CMD ["gunicorn", "croportal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
