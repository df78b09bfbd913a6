# syntax=docker/dockerfile:1
#
# One image per deployable, all from this file:
#   docker build --target ingress  -t sandbox-routing/ingress:dev  .
#   docker build --target worker   -t sandbox-routing/worker:dev   .
#   docker build --target producer -t sandbox-routing/producer:dev .
#   docker build --target notifier -t sandbox-routing/notifier:dev .
#   docker build --target payments -t sandbox-routing/payments:dev .   (Python: the sample's payments service)
# The k8s manifests use exactly these names (tags set by kustomize `images:`).
#
# Debian (glibc) base everywhere: @temporalio/core-bridge ships prebuilt glibc binaries only, so
# Alpine (musl) images cannot load the Temporal worker.
#
# CI builds these images without a container engine (`npm run check:images`, dev/src/images/): it
# carries out this file's COPY and RUN lines into directories and runs the programs from them. Keep to
# COPY, RUN, WORKDIR, ENV, ARG, USER, CMD, ENTRYPOINT, EXPOSE, LABEL (anything else fails the check),
# and write RUN lines with paths relative to WORKDIR.

# Node's active LTS line (26 since October 2026; 24 and 22 are in maintenance, 20 reached end of life on
# 2026-04-30). package.json's engines lists the supported lines; CI runs the unit tests on each.
ARG NODE_IMAGE=node:26-bookworm-slim
# The payments service is Python (3.11, as Debian bookworm's, on which the image check runs it).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------------------------------------
# manifests: the lockfile and every workspace's package.json, which both install stages start from.
# Every workspace the lockfile lists gets its package.json, dev/ included, so `npm ci` installs exactly
# the lockfile's tree instead of relying on npm to tolerate a missing workspace.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared/core/package.json shared/core/
COPY shared/temporal/package.json shared/temporal/
COPY shared/kafka/package.json shared/kafka/
COPY shared/trail/package.json shared/trail/
COPY shared/service-kit/package.json shared/service-kit/
COPY shared/sample/package.json shared/sample/
COPY testkit/package.json testkit/
COPY dev/package.json dev/
COPY producer/package.json producer/
COPY ingress/package.json ingress/
COPY worker/package.json worker/
COPY notifier/package.json notifier/

# ---------------------------------------------------------------------------------------------
# build: all dependencies (incl. TypeScript), compile the services and the library's packages (shared/).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
# Manifests first, so the dependency layer is reused until a package.json or the lockfile changes.
COPY --from=manifests /app ./
COPY tsconfig.base.json tsconfig.json ./
RUN --mount=type=cache,target=/root/.npm npm ci
COPY shared/core/tsconfig.json shared/core/
COPY shared/core/src shared/core/src
COPY shared/temporal/tsconfig.json shared/temporal/
COPY shared/temporal/src shared/temporal/src
COPY shared/kafka/tsconfig.json shared/kafka/
COPY shared/kafka/src shared/kafka/src
COPY shared/trail/tsconfig.json shared/trail/
COPY shared/trail/src shared/trail/src
COPY shared/service-kit/tsconfig.json shared/service-kit/
COPY shared/service-kit/src shared/service-kit/src
COPY shared/sample/tsconfig.json shared/sample/
COPY shared/sample/src shared/sample/src
# testkit: the services' tests import it, and tsc builds a project's tests with it.
COPY testkit/tsconfig.json testkit/
COPY testkit/src testkit/src
COPY producer/tsconfig.json producer/
COPY producer/src producer/src
COPY ingress/tsconfig.json ingress/
COPY ingress/src ingress/src
COPY worker/tsconfig.json worker/
COPY worker/src worker/src
COPY notifier/tsconfig.json notifier/
COPY notifier/src notifier/src
# The service projects (and, through references, the library's packages and testkit/); not dev/, which is never
# deployed. tsc compiles each project's tests too: they and the build-info files are removed, so dist/
# holds what runs. A non-TypeScript file a service reads at run time must end up in dist/ here (tsc
# emits imported JSON; anything else needs a copy step) or get its own COPY in the runtime stages: the
# image check compares every such tracked file with the image.
# The worker's workflow code is bundled here, once, from the code just compiled (webpack at every
# worker start would cost each sandbox's fork seconds of CPU and hundreds of MiB); the script that
# builds it is not part of the image.
RUN npx tsc -b producer ingress worker notifier \
 && find shared/*/dist producer/dist ingress/dist worker/dist notifier/dist -type d -name __tests__ -prune -exec rm -rf {} + \
 && find shared/*/dist producer/dist ingress/dist worker/dist notifier/dist -type f -name '*.tsbuildinfo' -delete \
 && node worker/dist/build-workflow-bundle.js worker/dist/bundle/workflows.js \
 && rm worker/dist/build-workflow-bundle.*

# ---------------------------------------------------------------------------------------------
# deps: production dependencies of the deployed workspaces only (no TypeScript, no Biome, none of
# the dev/ stack's packages), laid out exactly as in the tested checkout: the lockfile fixes where each
# package goes, so a workspace that needs another major version than the one hoisted to the root gets
# its own copy in <workspace>/node_modules (commander@14 under producer/ and worker/, while webpack's
# terser puts commander@2 at the root).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
COPY --from=manifests /app ./
# Then keep only this platform's Temporal core binary (the package carries every platform's), named
# by core-bridge itself; fail here rather than in the worker if it has none for this platform. The
# manifests of the workspaces that are not deployed go, with their links in node_modules.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --workspace shared/core --workspace shared/temporal --workspace shared/kafka --workspace shared/trail --workspace shared/service-kit --workspace shared/sample \
      --workspace producer --workspace ingress --workspace worker --workspace notifier \
 && bridge=node_modules/@temporalio/core-bridge \
 && platform="$(node -p "require('./$bridge/common.js').getPrebuiltTargetName()")" \
 && test -f "$bridge/releases/$platform/index.node" \
 && find "$bridge/releases" -mindepth 1 -maxdepth 1 -type d ! -name "$platform" -exec rm -rf {} + \
 && rm -rf dev testkit node_modules/@sandbox-routing/dev-stack node_modules/@sandbox-routing/testkit

# ---------------------------------------------------------------------------------------------
# runtime: what every service image shares. Files stay owned by root and read-only to `node`;
# the containers run with a read-only root file system and /tmp on an emptyDir.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# All of deps' /app: the root node_modules, every workspace's own node_modules, the package.json files
# and the lockfile (which image scanners read).
COPY --from=deps /app ./
COPY --from=build /app/shared/core/dist shared/core/dist
COPY --from=build /app/shared/temporal/dist shared/temporal/dist
COPY --from=build /app/shared/kafka/dist shared/kafka/dist
COPY --from=build /app/shared/trail/dist shared/trail/dist
COPY --from=build /app/shared/service-kit/dist shared/service-kit/dist
COPY --from=build /app/shared/sample/dist shared/sample/dist
# Signadot's routes.proto, which the route table's gRPC watch loads at run time.
COPY shared/core/proto shared/core/proto
# The `node` user of the base image (uid/gid 1000); the k8s manifests set runAsUser: 1000 to match.
USER node

# ---------------------------------------------------------------------------------------------
FROM runtime AS producer
COPY --from=build /app/producer/dist producer/dist
# The package's bin (`sandbox-routing`), as npm installs it: it loads the OpenTelemetry entry itself.
COPY producer/bin producer/bin
# Run as a Job: node --require ./producer/dist/instrument.js producer/dist/cli.js publish --routing-key <key> --count 10
# (--require starts OpenTelemetry before anything loads kafkajs; see README, "Tracing").
ENTRYPOINT ["node", "--require", "./producer/dist/instrument.js", "producer/dist/cli.js"]
CMD ["--help"]

FROM runtime AS ingress
COPY --from=build /app/ingress/dist ingress/dist
COPY ingress/bin ingress/bin
EXPOSE 8081
# Node handles SIGTERM itself (the service drains for up to 30 s), so no init process is needed.
CMD ["node", "--require", "./ingress/dist/instrument.js", "ingress/dist/main.js"]

FROM runtime AS worker
COPY --from=build /app/worker/dist worker/dist
COPY worker/bin worker/bin
# The prebuilt workflow bundle (relative to WORKDIR): the worker loads it instead of bundling at start.
ENV WORKER_WORKFLOW_BUNDLE=worker/dist/bundle/workflows.js
EXPOSE 8082
CMD ["node", "--require", "./worker/dist/instrument.js", "worker/dist/main.js"]

FROM runtime AS notifier
COPY --from=build /app/notifier/dist notifier/dist
EXPOSE 8084
CMD ["node", "--require", "./notifier/dist/instrument.js", "notifier/dist/main.js"]

# ---------------------------------------------------------------------------------------------
# payments: the sample application's payments service, in Python (payments/). No routing code: a fork
# only polls <queue>@<sandbox>. Its packages are installed next to it with --no-deps: requirements.txt
# pins every transitive package, so the image holds exactly the tested set (a missing pin fails the
# image check's import test instead of being resolved to whatever PyPI has that day). pip compiles
# the .pyc files here: the runtime cannot write them (read-only root file system).
FROM ${PYTHON_IMAGE} AS payments-deps
WORKDIR /app
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY payments/requirements.txt payments/
RUN python3 -m pip install --quiet --no-deps --target payments/site-packages -r payments/requirements.txt

FROM ${PYTHON_IMAGE} AS payments
WORKDIR /app
# Relative to WORKDIR: the service's package and its packages. No .pyc writes (read-only root file system).
ENV PYTHONPATH=payments:payments/site-packages PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY --from=payments-deps /app/payments/site-packages payments/site-packages
COPY payments/payments payments/payments
# uid/gid 1000 like the node images' `node` user; the k8s manifests set runAsUser: 1000 to match.
USER 1000:1000
EXPOSE 8083
# Python handles SIGTERM itself (the worker drains for up to PAYMENTS_SHUTDOWN_GRACE_MS), no init process needed.
CMD ["python3", "-m", "payments"]
