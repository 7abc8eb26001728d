# Stands in for MinIO (and its mc client) in the smoke test: moto's S3 server, from PyPI.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN python3 -m venv /opt/moto && /opt/moto/bin/pip install --no-cache-dir --disable-pip-version-check "moto[server]==5.2.5"
ENV PATH=/opt/moto/bin:$PATH
CMD ["moto_server", "-H", "0.0.0.0", "-p", "9000"]
