# Build: docker build -t wbs-sync .
# Migrate once per release, before new processes start:
#   docker run --rm -e WBS_DATABASE_URL=postgresql+psycopg://… wbs-sync wbs-sync db upgrade
# Serve:
#   docker run -p 8000:8000 -e WBS_DATABASE_URL=postgresql+psycopg://… wbs-sync

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY service ./service
COPY importers ./importers
RUN /opt/venv/bin/pip install .

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
RUN useradd --system --uid 10001 --home-dir /app wbs \
    && mkdir -p /app/var && chown wbs /app/var
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
# alembic.ini is looked up in the working directory, so migrations run from /app.
COPY alembic.ini ./
COPY alembic ./alembic
USER wbs
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"]
CMD ["wbs-sync", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
