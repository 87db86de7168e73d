# Painel: one image for the API (`python -m app.serve`), the scheduler (`python -m app.cron`) and the one-shot
# migrations (`alembic upgrade head`). README "Operating Painel" says how to run and configure them.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /srv/painel

# Runtime dependencies only: requirements-dev.txt (tests, linters) stays out of the image.
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY alembic.ini ./
COPY alembic ./alembic
COPY app ./app

# Runs as an unprivileged user that owns nothing in the image.
RUN useradd --system --uid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin painel
USER 10001

# Production defaults; secrets and URLs come from the environment (docker-compose.yml, .env.example).
# WEB_CONCURRENCY: uvicorn workers. FORWARDED_ALLOW_IPS: the proxies whose X-Forwarded-* headers are trusted.
ENV APP_ENV=production \
    LOG_FORMAT=json \
    WEB_CONCURRENCY=4 \
    FORWARDED_ALLOW_IPS=127.0.0.1

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["python", "-m", "app.healthcheck"]
CMD ["python", "-m", "app.serve", "--host", "0.0.0.0", "--port", "8000", "--proxy-headers", "--timeout-keep-alive", "75", "--timeout-graceful-shutdown", "30"]
