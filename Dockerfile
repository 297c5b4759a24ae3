# syntax=docker/dockerfile:1
# sfsync worker image: multi-stage, slim, non-root; only the wheel is installed in the final stage.
# Configuration and job files are mounted (/app/config, /app/jobs); secrets come from the
# environment or SFSYNC_SECRETS_DIR (e.g. /run/secrets), never from the image.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY sfsync ./sfsync
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SFSYNC_CONFIG=/app/config/sfsync.toml \
    SFSYNC_WORKER__JOBS_DIR=/app/jobs \
    SFSYNC_WEB__ENABLED=true \
    SFSYNC_WEB__HOST=0.0.0.0 \
    SFSYNC_WEB__PORT=8080
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir "$(ls /wheels/sfsync-*.whl)[postgres,web]" \
    && rm -rf /wheels \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin sfsync \
    && mkdir -p /app/config /app/jobs /app/var \
    && chown -R sfsync:sfsync /app
WORKDIR /app
USER sfsync
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["sfsync"]
CMD ["worker"]
