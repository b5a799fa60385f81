# billbot: `docker build -t billbot . && docker run --env-file .env -p 3000:3000 billbot`
# Air-gapped: `pip wheel --wheel-dir wheelhouse . "setuptools>=68" wheel` first; the build then
# installs only from ./wheelhouse. Another base (a Debian with python3-venv): --build-arg BASE_IMAGE=...
# Several replicas on one PostgreSQL, behind a load balancer: docs/deploy.md.
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
# A venv: Debian's own Python refuses system-wide pip installs (PEP 668), and the runtime
# stage copies one directory.
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
# A wheelhouse in the build context (wheelhouse/*.whl) means no index: everything, the build
# backend included, comes from it. Without one, pip asks the index as usual.
COPY wheelhouse/ ./wheelhouse/
RUN if ls wheelhouse/*.whl >/dev/null 2>&1; then \
      pip install --no-index --find-links wheelhouse .; \
    else \
      pip install .; \
    fi \
 && billbot --version

FROM ${BASE_IMAGE}
RUN useradd --create-home --uid 10001 billbot
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
USER billbot
WORKDIR /home/billbot
# SQLite lives in a volume by default; set DATABASE_URL for PostgreSQL (several replicas).
ENV DATABASE_URL=sqlite:////home/billbot/data/billbot.db
RUN mkdir -p /home/billbot/data
VOLUME ["/home/billbot/data"]
EXPOSE 3000
# Liveness only: readiness (/readyz) also needs Slack and Codat, which a restart cannot fix.
# The port is read from the command line (`run --port N`), 3000 when it names none.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["python3", "-c", \
  "import sys, urllib.request as r; a = open('/proc/1/cmdline', 'rb').read().split(b'\\0'); p = a[a.index(b'--port') + 1].decode() if b'--port' in a else '3000'; sys.exit(r.urlopen('http://127.0.0.1:' + p + '/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["billbot"]
CMD ["run", "--host", "0.0.0.0", "--port", "3000"]
