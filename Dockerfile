# The project's Python image: the locked environment (uv.lock) and the project's packages.
#   docker build -t nyc-taxi-app .                   producer, topic tool, API (uvicorn)
#   docker build --target stream -t nyc-taxi-stream .   + Java 17 and the stream job's jars
# Used by docker-compose.yml and, for the producer/topic tasks, by ECS (terraform/scripts).
FROM python:3.11-slim-bookworm AS app

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=0 \
    PATH=/opt/venv/bin:$PATH

WORKDIR /app
RUN pip install --no-compile uv==0.13.9
COPY pyproject.toml uv.lock /app/
# Exactly the lock's runtime packages (no dev group); the project itself is plain folders.
RUN uv sync --frozen --no-dev --no-install-project \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin app
COPY contract/ /app/contract/
COPY producer/ /app/producer/
COPY lambda_api/ /app/lambda_api/
COPY spark/ /app/spark/
COPY localstack/ /app/localstack/

USER 10001
CMD ["python", "-m", "producer", "--help"]

# The stream job for local runs (docker-compose): Spark's JVM and the pom's jars, fetched at
# build time so that nothing is downloaded when the container runs.
FROM app AS stream
USER root
RUN apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless maven \
    && mvn -q -B -f /app/spark/jars/pom.xml dependency:copy-dependencies -Djars.dir=/opt/spark-jars \
    && touch /opt/spark-jars/.pom-copied \
    && apt-get purge -y maven && apt-get autoremove -y && rm -rf /var/lib/apt/lists/* /root/.m2 \
    && mkdir -p /app/.local && chown 10001 /app/.local
ENV STREAM_JARS_DIR=/opt/spark-jars
USER 10001
CMD ["python", "-m", "spark"]
