# tracefold: one image for every role (`--role ingest|trace|api|all`).
#
#   docker build -t tracefold .
#   docker run --rm -p 4318:4318 tracefold                     # embedded log, every role
#   docker compose up                                          # Kafka, Apicurio, one process per role
#
# The TypeScript sources run through tsx (a runtime dependency), so there is no build step
# and `npm ci --omit=dev` installs everything the process needs.

FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:20-bookworm-slim
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
COPY --chown=root:root package.json package-lock.json tsconfig.json ./
COPY --chown=root:root bin ./bin
COPY --chown=root:root src ./src
COPY --chown=root:root schemas ./schemas
COPY --chown=root:root topics ./topics

# The sources stay root-owned and read-only to the process; only the data dir is its own.
# 1000 is the image's `node` user, numeric so that runtimes can check it is not root.
RUN mkdir -p /data && chown 1000:1000 /data
USER 1000:1000
VOLUME ["/data"]

EXPOSE 4318
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.TRACEFOLD_PORT || '4318') + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

CMD ["node", "bin/tracefold.js", "start"]
