# The emulator as a container: both APIs and the control plane on port 8080.
#   docker build -t emulator-247xd-usdtlowfee .
#   docker run --rm -p 8080:8080 emulator-247xd-usdtlowfee
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies in a layer of their own: it is rebuilt only when pyproject.toml changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
    && pip install -r requirements.txt

# The code, in place: emulator/config.py finds emulator/data/default.json next to the package.
COPY emulator ./emulator
COPY fixtures ./fixtures

RUN useradd --create-home --uid 10001 emulator \
    && mkdir -p /data \
    && chown emulator:emulator /data

ENV PYTHONPATH=/app \
    EMULATOR_HOST=0.0.0.0 \
    EMULATOR_PORT=8080 \
    EMULATOR_STATE_FILE=/data/state.json

USER emulator
VOLUME /data
EXPOSE 8080

HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-m", "emulator.healthcheck"]

CMD ["python", "-m", "emulator", "serve"]
