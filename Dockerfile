# coordbot: a small image that runs `coordbot run` (Telegram and/or Matrix from the environment).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    COORDBOT_DATA_DIR=/data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY tools ./tools
COPY locales ./locales
COPY data ./data
RUN pip install --no-cache-dir . \
    && python -m tools.i18n compile \
    && useradd --system --uid 10001 --home-dir /data coordbot \
    && mkdir -p /data \
    && chown coordbot /data

ENV COORDBOT_LOCALES_DIR=/app/locales \
    COORDBOT_BUNDLED_DATA_DIR=/app/data
USER coordbot
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["coordbot", "health"]
ENTRYPOINT ["coordbot"]
CMD ["run"]
