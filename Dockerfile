# syntax=docker/dockerfile:1
# The serving image: AWS Lambda's Python 3.11 base, no torch (the networks run from their NumPy export,
# pricing.models.arrays), the Lambda runtime interface client as the entrypoint. Lambda runs `app.handler`; locally the same image serves with waitress:
#   docker run --rm -p 5002:5002 -e ENV=local --entrypoint python IMAGE app.py
# Build (no bundle inside; the function reads ARTIFACT_STORE, s3://...):  docker build -t pricing-service .
# Bake the local store in for faster cold starts:  docker build --build-arg BUNDLE_STORE=models/production .

# ---- the dashboard's static files, served by Flask at / ------------------------------------------------
FROM node:22-bookworm-slim AS dashboard
WORKDIR /build
COPY dashboard/package.json dashboard/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY dashboard/ ./
RUN npm run build

# ---- the function --------------------------------------------------------------------------------------
FROM public.ecr.aws/lambda/python:3.11

# Every pinned runtime dependency, before any code, so a code change rebuilds only the layers below.
COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir -r /tmp/requirements.txt

# Only the serving code: the package root (config, strict number parsing), the server and its Lambda events,
# the model classes a bundle names, the bundle store, and the three data modules serving shares with training
# (feature definitions, the fitted preprocessor, the incidence features). training/, tools/, cli/ and the
# training-time data modules stay out, as their packages do (tests/integration/test_infra.py checks both against
# an import trace).
# One COPY per directory: given several sources, COPY copies a directory's contents, not the directory.
COPY src/pricing/__init__.py src/pricing/config.py src/pricing/numbers.py src/pricing/encodings.py ${LAMBDA_TASK_ROOT}/pricing/
COPY src/pricing/data/__init__.py src/pricing/data/features.py src/pricing/data/preprocess.py src/pricing/data/incidence.py \
     src/pricing/data/list_price.py ${LAMBDA_TASK_ROOT}/pricing/data/
COPY src/pricing/artifacts/ ${LAMBDA_TASK_ROOT}/pricing/artifacts/
COPY src/pricing/models/ ${LAMBDA_TASK_ROOT}/pricing/models/
COPY src/pricing/serving/ ${LAMBDA_TASK_ROOT}/pricing/serving/
# the running experiment's config and its results, which the API's mode=experiment answers from (the simulator and
# the update, with their scipy and statsmodels, stay out)
COPY src/pricing/experiments/__init__.py src/pricing/experiments/design.py src/pricing/experiments/results.py \
     ${LAMBDA_TASK_ROOT}/pricing/experiments/
COPY app.py ${LAMBDA_TASK_ROOT}/
COPY --from=dashboard /build/dist/ ${LAMBDA_TASK_ROOT}/dashboard/dist/

# A bundle store baked in (LATEST + its version folder) skips the download at init. By default the folder is
# empty and the function's ARTIFACT_STORE (set by infra/template.yaml) points at S3 instead.
ARG BUNDLE_STORE=infra/no-bundle
COPY ${BUNDLE_STORE}/ /opt/pricing/bundles/

# Lambda's file system is read-only but for /tmp: an S3 bundle is downloaded and verified there.
ENV ENV=production \
    ARTIFACT_STORE=/opt/pricing/bundles \
    BUNDLE_CACHE_DIR=/tmp/pricing-bundles \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR ${LAMBDA_TASK_ROOT}
EXPOSE 5002
ENTRYPOINT ["python", "-m", "awslambdaric"]
CMD ["app.handler"]
