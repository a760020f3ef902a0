# One image for every langlearn process: `langlearn migrate|telegram|discord` and the arq worker.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

RUN pip install --no-cache-dir uv

WORKDIR /app

# Dependencies first: this layer is rebuilt only when the lock file changes.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project

COPY core ./core
COPY bots ./bots
COPY worker ./worker
COPY migrations ./migrations
RUN uv sync --frozen --no-dev

ENV PATH="/app/.venv/bin:$PATH"

# Run unprivileged; ./data holds the embedded database and local media when no service is configured.
RUN useradd --create-home --uid 10001 langlearn && mkdir -p /app/data && chown langlearn /app/data
USER langlearn

CMD ["langlearn", "doctor"]
