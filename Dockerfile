# tierbridge daemon image: `docker run -v /etc/tierbridge:/config tierbridge` runs
# `tierbridge run --config /config/config.yaml` as an unprivileged user.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

RUN useradd --create-home --uid 10001 tierbridge
WORKDIR /app

COPY pyproject.toml README.md ./
COPY tierbridge ./tierbridge
COPY mappings ./mappings
COPY config ./config
RUN pip install --upgrade pip && pip install .

USER tierbridge
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"

ENTRYPOINT ["tierbridge"]
CMD ["run", "--config", "/config/config.yaml"]
