# syntax=docker/dockerfile:1
# The one image recipe of every service. Build from the repository root (the context needs uv.lock, every
# pyproject.toml and libs/common); the build args pick the service:
#   PACKAGE  the service's distribution in the uv workspace (algo-collector, algo-processor, algo-trader,
#            algo-exchange-sim); its console script of the same name is the entrypoint
#   MODULE   its import name, which is also its directory under services/ (collector, ..., exchange_sim)
#   PORT     the port it listens on (EXPOSE only: the service's own settings decide)
#   docker build --build-arg PACKAGE=algo-collector --build-arg MODULE=collector --build-arg PORT=8080 \
#     -t algo-trade/collector:0.1.0 .
# skaffold.yaml, Tiltfile and compose.yaml pass the same arguments; tests/deploy/test_dockerfiles.py checks
# them against each service's pyproject.toml and settings.
# Base images are pinned by tag; for production, pin by digest as well, e.g.
#   FROM python:3.11-slim-bookworm@sha256:<digest>   (docker buildx imagetools inspect python:3.11-slim-bookworm)
# Every stage must use the same base: the venv's python is a symlink to the base image's interpreter.
# No HEALTHCHECK: Kubernetes ignores it (the chart's probes call /healthcheck and /healthcheck/live), and a
# Python-based check would cost a whole interpreter every interval; compose.yaml declares its own healthchecks.
# checkov:skip=CKV_DOCKER_2: Kubernetes probes and compose healthchecks do the job (see above)

FROM python:3.11-slim-bookworm AS builder
ARG PACKAGE
ARG MODULE
ARG PORT
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN test -n "$PACKAGE" && test -n "$MODULE" && test -n "$PORT" \
    || { echo "build args PACKAGE, MODULE and PORT are required (see the Dockerfile's header)" >&2; exit 1; }
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /src
# Every workspace member's pyproject.toml (uv resolves the workspace from them), then the third-party
# dependencies alone: this layer is rebuilt only when uv.lock or a pyproject.toml changes.
COPY pyproject.toml uv.lock ./
COPY libs/common/pyproject.toml libs/common/
COPY services/collector/pyproject.toml services/collector/
COPY services/processor/pyproject.toml services/processor/
COPY services/trader/pyproject.toml services/trader/
COPY services/exchange_sim/pyproject.toml services/exchange_sim/
RUN uv sync --frozen --no-dev --no-install-workspace --package "$PACKAGE"
# Then the two workspace packages this image runs, installed as plain wheels (no editable links to /src).
COPY libs/common/src libs/common/src
COPY services/${MODULE}/src services/${MODULE}/src
RUN uv sync --frozen --no-dev --no-editable --package "$PACKAGE" \
    && test -x "/opt/venv/bin/$PACKAGE" \
    && ln -s "$PACKAGE" /opt/venv/bin/service

# What every runtime image shares: the user, the environment, the port and the entrypoint.
FROM python:3.11-slim-bookworm AS base
ARG PORT
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin app
# Read-only root filesystem: bytecode was compiled in the builder, nothing is written at run time
# (HOME points at the /tmp emptyDir the chart mounts).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
USER 10001
EXPOSE ${PORT}
# Exec form, and the console script's shebang is the venv's python: python is PID 1 and receives SIGTERM
# itself (no shell in between), so the service shuts down on purpose; collector, processor and trader drain:
# stop reading, finish in-flight work, ack, close.
ENTRYPOINT ["/opt/venv/bin/service"]

# Tilt's live update only (docker build --target live): the venv belongs to the app user, so the Python
# sources Tilt syncs into site-packages can be written (with the chart's development.writableRootFilesystem).
FROM base AS live
COPY --from=builder --chown=10001:10001 /opt/venv /opt/venv

# The image that is shipped (the default, last stage): the venv belongs to root, read-only for the service.
FROM base AS runtime
COPY --from=builder /opt/venv /opt/venv
