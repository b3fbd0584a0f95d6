# The application image for docker-compose.yml: gunicorn (web), Celery worker and beat share it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint (statements and letters) needs Pango and HarfBuzz, and a font to draw with.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 1000 app
WORKDIR /app

# Dependencies first, from pyproject.toml alone, so code changes do not reinstall them.
COPY pyproject.toml ./
RUN pip install .

COPY . .
# Static files are collected at build time; the key here is a placeholder used for nothing else.
RUN DJANGO_SETTINGS_MODULE=config.settings.production \
    SECRET_KEY=build-time-only-collectstatic-placeholder-key-not-used-at-run-time \
    python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p /data/private_media && chown app:app /data/private_media

USER app
ENV DJANGO_SETTINGS_MODULE=config.settings.production \
    PRIVATE_MEDIA_ROOT=/data/private_media
EXPOSE 8000

# --preload loads the app once in the master, so a configuration error (e.g. no SECRET_KEY) stops
# gunicorn with its one-line message instead of workers failing to boot over and over.
# The access log prints the path only (%(U)s), never the query string: search terms are PHI.
CMD ["gunicorn", "config.wsgi", "--preload", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60", \
     "--access-logfile", "-", "--access-logformat", "%(h)s %(t)s \"%(m)s %(U)s\" %(s)s %(b)s %(M)sms"]
