# The hub's image: the stream worker and the `partnerhub` CLI, for the production stack
# (docker-compose.yml). Production talks to a Kafka and a ClickHouse server, so the `embedded`
# extra (Tansu, chdb) is not installed.
FROM python:3.11.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# /var/lib/partnerhub/rollups exists in the image so that a named volume mounted there (compose)
# starts with the partnerhub user as its owner.
RUN groupadd --system --gid 10001 partnerhub \
    && useradd --system --uid 10001 --gid partnerhub --no-create-home \
        --home-dir /var/lib/partnerhub partnerhub \
    && install -d -o partnerhub -g partnerhub /var/lib/partnerhub /var/lib/partnerhub/rollups \
        /var/lib/partnerhub/gateway

# Only what the package needs: pip builds the wheel from these and the copy is dropped.
WORKDIR /tmp/partnerhub-src
COPY pyproject.toml README.md ./
COPY schemas/ schemas/
COPY disclosure/ disclosure/
COPY broker/ broker/
COPY producers/ producers/
COPY streams/ streams/
COPY warehouse/ warehouse/
COPY dashboards/ dashboards/
COPY rollups/ rollups/
COPY partnerhub/ partnerhub/
RUN pip install . && rm -rf /tmp/partnerhub-src

USER partnerhub
WORKDIR /var/lib/partnerhub
ENV PARTNERHUB_DATA_DIR=/var/lib/partnerhub

# The worker's status API (/status, /metrics) and the HTTP gateway.
EXPOSE 6066 8088
ENTRYPOINT ["partnerhub"]
CMD ["worker"]
