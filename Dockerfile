# cloudkg API and build job: one image, CPU only, offline at run time.
#   docker build -t cloudkg .        docker compose up     (see docs/scaling.md)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false \
    KG_DATA=/data

WORKDIR /app

# torch first, pinned to the CPU build: the project's own `torch==2.13.0` is then already met,
# so nothing installed after it can pull a CUDA build (several GB).
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

# Dependencies change less often than the code: install them in their own layer.
COPY pyproject.toml README.md ./
RUN mkdir -p kg api \
    && touch kg/__init__.py api/__init__.py \
    && pip install . \
    && pip uninstall --yes cloudkg \
    && rm -rf kg api build *.egg-info

# Editable, so kg/settings.py finds ontology/ and corpus/ next to the code.
COPY kg ./kg
COPY api ./api
COPY ontology ./ontology
COPY corpus ./corpus
RUN pip install --no-deps -e . \
    && useradd --system --create-home kg \
    && mkdir -p /data \
    && chown kg /data

USER kg
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["kg", "serve", "--host", "0.0.0.0", "--port", "8000"]
