# tracefold: one image for every role (`--role ingest|trace|tenant|api|all`).
#
#   docker build -t tracefold .
#   docker run --rm -p 4318:4318 tracefold                     # embedded log, every role
#   docker compose up                                          # Kafka, Apicurio, one process per role
#
# The build stage compiles the TypeScript sources to dist/ and bundles the web UI into
# dist/ui (`npm ci` runs the build through the `prepare` script); the runtime stage holds
# the production dependencies and dist/ and runs the compiled JavaScript with source maps on
# the image's own Node 24. Neither tsx nor the packaged Node binary (an optional dependency,
# for checkouts) is in it.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
# The web UI's sources, bundled into dist/ui by the same build.
COPY ui ./ui
# Optional dependencies stay in this stage: esbuild's platform binary is one (so is the
# packaged Node, which the image does not keep: only dist/ leaves this stage).
RUN npm ci --no-audit --no-fund

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` builds, and the build stage has done that.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM node:24-bookworm-slim
# rocksdb-native's prebuilt addon links against libatomic.
# hadolint ignore=DL3008
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libatomic1 \
  && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production \
  TRACEFOLD_HOST=0.0.0.0 \
  TRACEFOLD_PORT=4318 \
  TRACEFOLD_DATA_DIR=/data

WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json ./
COPY --chown=root:root bin ./bin
COPY --chown=root:root schemas ./schemas
COPY --chown=root:root topics ./topics

# The code stays root-owned and read-only to the process; only the data dir is its own.
# 1000 is the image's `node` user, numeric so that runtimes can check it is not root.
RUN mkdir -p /data && chown 1000:1000 /data
USER 1000:1000
VOLUME ["/data"]

EXPOSE 4318
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.TRACEFOLD_PORT || '4318') + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# bin/tracefold.js (as in docker-compose.yml) does the same and also enables source maps.
CMD ["node", "--enable-source-maps", "dist/cli/main.js", "start"]
