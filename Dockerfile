# syntax=docker/dockerfile:1
# The emulator as a container, installed like a user installs it: the build stage makes
# the project's wheel (and its dependencies' wheels), the runtime stage pip-installs them.
# No source tree, no PYTHONPATH in the image. Docs: docs/install.md.
#   docker build -t emulator-247xd-usdtlowfee .
#   docker run --rm -p 8080:8080 emulator-247xd-usdtlowfee
#   docker run --rm emulator-247xd-usdtlowfee fixtures > my-fixtures.json   # the defaults, to edit

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# Dependencies' wheels in a layer of their own: rebuilt only when pyproject.toml changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
    && pip wheel --wheel-dir /wheels -r requirements.txt
COPY README.md ./
COPY emulator ./emulator
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# The wheels are mounted for the install only: they never become a layer of the image.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels emulator-247xd-usdtlowfee

RUN useradd --create-home --uid 10001 emulator \
    && mkdir -p /data \
    && chown emulator:emulator /data

# The image's defaults (docs/install.md, "Docker"): every interface, port 8080.
ENV EMULATOR_HOST=0.0.0.0 \
    EMULATOR_PORT=8080
# The one switch for durable state: a file on the /data volume, so state survives a
# restart. Memory only (every start from the fixtures): `-e EMULATOR_STATE_FILE=`.
# On by default: each write appends one log record (EMULATOR_FSYNC defaults to off:
# handed to the OS, survives kill -9 and container restarts; docs/durability.md).
ENV EMULATOR_STATE_FILE=/data/state.json

USER emulator
WORKDIR /home/emulator
VOLUME /data
EXPOSE 8080

HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-m", "emulator.healthcheck"]

# `docker run IMAGE serve --seed 42`, `docker run IMAGE --version` and `... fixtures` work too.
ENTRYPOINT ["emulator"]
CMD ["serve"]
