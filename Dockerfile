# One image for every Wirewatch process: migrate, api, scheduler, worker.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN useradd --create-home --uid 1000 wirewatch
WORKDIR /app
COPY pyproject.toml README.md ./
COPY wirewatch ./wirewatch
COPY worker ./worker
COPY scheduler ./scheduler
COPY storage ./storage
COPY api ./api
RUN pip install --upgrade pip && pip install .
USER wirewatch
ENTRYPOINT ["wirewatch"]
CMD ["run"]
