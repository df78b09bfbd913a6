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

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------------
# build: all dependencies (incl. TypeScript), compile the three services and the shared library.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
# Manifests first, so the dependency layer is reused until a package.json or the lockfile changes.
# Every workspace's package.json is needed for `npm ci`, dev/ included (it is in the lockfile).
COPY package.json package-lock.json tsconfig.base.json tsconfig.json ./
COPY shared/package.json shared/
COPY testkit/package.json testkit/
COPY dev/package.json dev/
COPY producer/package.json producer/
COPY ingress/package.json ingress/
COPY worker/package.json worker/
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
# The three service projects (and, through references, shared/); not dev/, which is never deployed.
RUN npx tsc -b producer ingress worker \
 && find shared/dist producer/dist ingress/dist worker/dist -type d -name __tests__ -prune -exec rm -rf {} +

# ---------------------------------------------------------------------------------------------
# deps: production dependencies of the deployed workspaces only (no TypeScript, no Biome, none of
# the dev/ stack's packages).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY testkit/package.json testkit/
COPY dev/package.json dev/
COPY producer/package.json producer/
COPY ingress/package.json ingress/
COPY worker/package.json worker/
# Then keep only this architecture's Temporal core binary (the package carries every platform's).
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --workspace shared --workspace producer --workspace ingress --workspace worker \
 && releases=node_modules/@temporalio/core-bridge/releases \
 && if [ -d "$releases" ]; then \
      find "$releases" -mindepth 1 -maxdepth 1 -type d ! -name "$(uname -m)-unknown-linux-gnu" -exec rm -rf {} +; \
    fi

# ---------------------------------------------------------------------------------------------
# runtime: what every service image shares. Files stay owned by root and read-only to `node`;
# the containers run with a read-only root file system and /tmp on an emptyDir.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/package.json ./
COPY --from=build /app/shared/package.json shared/
COPY --from=build /app/shared/dist shared/dist
# The `node` user of the base image (uid/gid 1000); the k8s manifests set runAsUser: 1000 to match.
USER node

# ---------------------------------------------------------------------------------------------
FROM runtime AS producer
COPY --from=build /app/producer/package.json producer/
COPY --from=build /app/producer/dist producer/dist
# Run as a Job: node producer/dist/cli.js publish --routing-key <key> --count 10
ENTRYPOINT ["node", "producer/dist/cli.js"]
CMD ["--help"]

FROM runtime AS ingress
COPY --from=build /app/ingress/package.json ingress/
COPY --from=build /app/ingress/dist ingress/dist
EXPOSE 8081
# Node handles SIGTERM itself (the service drains for up to 30 s), so no init process is needed.
CMD ["node", "ingress/dist/main.js"]

FROM runtime AS worker
COPY --from=build /app/worker/package.json worker/
COPY --from=build /app/worker/dist worker/dist
EXPOSE 8082
CMD ["node", "worker/dist/main.js"]
