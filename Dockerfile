# syntax=docker/dockerfile:1
#
# One image per deployable, all from this file:
#   docker build --target ingress  -t sandbox-routing/ingress:dev  .
#   docker build --target worker   -t sandbox-routing/worker:dev   .
#   docker build --target producer -t sandbox-routing/producer:dev .
# The k8s manifests use exactly these names (tags set by kustomize `images:`).
#
# Debian (glibc) base everywhere: @temporalio/core-bridge ships prebuilt glibc binaries only, so
# Alpine (musl) images cannot load the Temporal worker.
#
# CI builds these images without a container engine (`npm run check:images`, dev/src/images/): it
# carries out this file's COPY and RUN lines into directories and runs the programs from them. Keep to
# COPY, RUN, WORKDIR, ENV, ARG, USER, CMD, ENTRYPOINT, EXPOSE, LABEL (anything else fails the check),
# and write RUN lines with paths relative to WORKDIR.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------------
# manifests: the lockfile and every workspace's package.json, which both install stages start from.
# Every workspace the lockfile lists gets its package.json, dev/ included, so `npm ci` installs exactly
# the lockfile's tree instead of relying on npm to tolerate a missing workspace.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY testkit/package.json testkit/
COPY dev/package.json dev/
COPY producer/package.json producer/
COPY ingress/package.json ingress/
COPY worker/package.json worker/

# ---------------------------------------------------------------------------------------------
# build: all dependencies (incl. TypeScript), compile the three services and the shared library.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
# Manifests first, so the dependency layer is reused until a package.json or the lockfile changes.
COPY --from=manifests /app ./
COPY tsconfig.base.json tsconfig.json ./
RUN --mount=type=cache,target=/root/.npm npm ci
COPY shared/tsconfig.json shared/
COPY shared/src shared/src
# testkit: the services' tests import it, and tsc builds a project's tests with it.
COPY testkit/tsconfig.json testkit/
COPY testkit/src testkit/src
COPY producer/tsconfig.json producer/
COPY producer/src producer/src
COPY ingress/tsconfig.json ingress/
COPY ingress/src ingress/src
COPY worker/tsconfig.json worker/
COPY worker/src worker/src
# The three service projects (and, through references, shared/ and testkit/); not dev/, which is never
# deployed. tsc compiles each project's tests too: they and the build-info files are removed, so dist/
# holds what runs. A non-TypeScript file a service reads at run time must end up in dist/ here (tsc
# emits imported JSON; anything else needs a copy step) or get its own COPY in the runtime stages: the
# image check compares every such tracked file with the image.
# The worker's workflow code is bundled here, once, from the code just compiled (webpack at every
# worker start would cost each sandbox's fork seconds of CPU and hundreds of MiB); the script that
# builds it is not part of the image.
RUN npx tsc -b producer ingress worker \
 && find shared/dist producer/dist ingress/dist worker/dist -type d -name __tests__ -prune -exec rm -rf {} + \
 && find shared/dist producer/dist ingress/dist worker/dist -type f -name '*.tsbuildinfo' -delete \
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
    npm ci --omit=dev --workspace shared --workspace producer --workspace ingress --workspace worker \
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
COPY --from=build /app/shared/dist shared/dist
# Signadot's routes.proto, which the route table's gRPC watch loads at run time.
COPY shared/proto shared/proto
# The `node` user of the base image (uid/gid 1000); the k8s manifests set runAsUser: 1000 to match.
USER node

# ---------------------------------------------------------------------------------------------
FROM runtime AS producer
COPY --from=build /app/producer/dist producer/dist
# Run as a Job: node --require ./producer/dist/instrument.js producer/dist/cli.js publish --routing-key <key> --count 10
# (--require starts OpenTelemetry before anything loads kafkajs; see README, "Tracing").
ENTRYPOINT ["node", "--require", "./producer/dist/instrument.js", "producer/dist/cli.js"]
CMD ["--help"]

FROM runtime AS ingress
COPY --from=build /app/ingress/dist ingress/dist
EXPOSE 8081
# Node handles SIGTERM itself (the service drains for up to 30 s), so no init process is needed.
CMD ["node", "--require", "./ingress/dist/instrument.js", "ingress/dist/main.js"]

FROM runtime AS worker
COPY --from=build /app/worker/dist worker/dist
# The prebuilt workflow bundle (relative to WORKDIR): the worker loads it instead of bundling at start.
ENV WORKER_WORKFLOW_BUNDLE=worker/dist/bundle/workflows.js
EXPOSE 8082
CMD ["node", "--require", "./worker/dist/instrument.js", "worker/dist/main.js"]
