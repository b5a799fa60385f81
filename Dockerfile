# billbot: `docker build -t billbot . && docker run --env-file .env -p 3000:3000 billbot`
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m pip install --no-cache-dir --upgrade pip \
 && python -m pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 billbot
COPY --from=build /wheels /wheels
RUN python -m pip install --no-cache-dir /wheels/* && rm -rf /wheels
USER billbot
WORKDIR /home/billbot
# SQLite lives in a volume by default; set DATABASE_URL for PostgreSQL.
ENV DATABASE_URL=sqlite:////home/billbot/data/billbot.db
RUN mkdir -p /home/billbot/data
VOLUME ["/home/billbot/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=2).status == 200 else 1)"
ENTRYPOINT ["billbot"]
CMD ["run", "--host", "0.0.0.0", "--port", "3000"]
